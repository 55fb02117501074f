package dev.sluice.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** What an admin API route answers: a status, a content type and the body's bytes. */
public record AdminResponse(HttpResponseStatus status, String contentType, byte[] body) {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** {@code value} as indented JSON with status 200. */
    public static AdminResponse json(Object value) {
        return json(HttpResponseStatus.OK, value);
    }

    /** {@code value} as indented JSON. */
    public static AdminResponse json(HttpResponseStatus status, Object value) {
        try {
            return new AdminResponse(status, "application/json", JSON.writeValueAsBytes(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }

    /** {@code {"error": message}} with {@code status}. */
    public static AdminResponse error(HttpResponseStatus status, String message) {
        return json(status, Map.of("error", message));
    }

    /** Plain text (or another text type) with status 200. */
    public static AdminResponse text(String contentType, String body) {
        return new AdminResponse(HttpResponseStatus.OK, contentType, body.getBytes(StandardCharsets.UTF_8));
    }
}

package dev.sluice.admin;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.util.List;
import java.util.Map;

/**
 * One admin API request, decoded: method, path, query parameters, headers and body (UTF-8 text).
 *
 * @param params query-string parameters, each with all its values in order
 */
public record AdminRequest(HttpMethod method, String path, Map<String, List<String>> params, HttpHeaders headers,
                           String body) {

    /** The first value of query parameter {@code name}, or null. */
    public String param(String name) {
        List<String> v = params.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }
}

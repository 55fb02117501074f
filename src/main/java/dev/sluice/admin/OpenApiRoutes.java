package dev.sluice.admin;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code GET /api/v1/openapi.json}: the OpenAPI 3.0 description of every admin endpoint, kept as
 * the resource {@value #RESOURCE} (a unit test checks that every registered route is in it).
 */
final class OpenApiRoutes {
    static final String RESOURCE = "/dev/sluice/admin/openapi.json";

    void register(AdminServer server) {
        byte[] body = load();
        server.route(HttpMethod.GET, "/api/v1/openapi.json", r -> {
            Params.of(r);
            return new AdminResponse(HttpResponseStatus.OK, "application/json", body);
        });
    }

    static byte[] load() {
        try (InputStream in = OpenApiRoutes.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " is missing from the build");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }
}

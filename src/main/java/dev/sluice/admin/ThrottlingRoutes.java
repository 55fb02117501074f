package dev.sluice.admin;

import dev.sluice.frontend.ProxyServer;
import io.netty.handler.codec.http.HttpMethod;

/**
 * {@code GET /api/v1/throttling}: advice a frontend can poll to slow down before Sluice must
 * refuse ({@code level} none|slow_down|shed, {@code suggested_max_concurrency}, {@code delay_ms},
 * {@code retry_after_s}, {@code reasons}, and the same per upstream); derived as described in
 * {@link Throttling}.
 */
final class ThrottlingRoutes {
    private final ProxyServer proxy;

    ThrottlingRoutes(ProxyServer proxy) {
        this.proxy = proxy;
    }

    void register(AdminServer server) {
        server.route(HttpMethod.GET, "/api/v1/throttling", r -> {
            Params.of(r);
            return AdminResponse.json(Throttling.document(Throttling.advise(proxy)));
        });
    }
}

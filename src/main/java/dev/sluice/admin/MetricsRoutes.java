package dev.sluice.admin;

import dev.sluice.frontend.ProxyServer;
import dev.sluice.metrics.SluiceMetrics;
import io.netty.handler.codec.http.HttpMethod;

/**
 * Prometheus metrics: {@code GET /metrics} answers the text exposition format (version 0.0.4) of
 * {@link SluiceMetrics}, read at the moment of the request.
 */
final class MetricsRoutes {
    private final SluiceMetrics metrics;

    MetricsRoutes(ProxyServer proxy) {
        this.metrics = new SluiceMetrics(proxy);
    }

    void register(AdminServer server) {
        server.route(HttpMethod.GET, "/metrics", r -> AdminResponse.text(SluiceMetrics.CONTENT_TYPE, metrics.scrape()));
    }
}

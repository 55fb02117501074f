package dev.sluice.admin;

import dev.sluice.admission.AdaptiveLimit;
import dev.sluice.admission.CircuitBreaker;
import dev.sluice.admission.OperatingMode;
import dev.sluice.admission.Priority;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.pool.Pool;
import dev.sluice.pool.Upstream;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Health probes, the status call (for every upstream its circuit, concurrency limit and operating
 * mode; for every pool its connections and waiting requests by class) and forcing a mode:
 * {@code GET /health/live}, {@code GET /health/ready}, {@code GET /api/v1/status},
 * {@code POST /api/v1/mode?upstream=HOST:PORT&mode=auto|normal|degraded|emergency}.
 */
final class StatusRoutes {
    private static final Logger log = LoggerFactory.getLogger(StatusRoutes.class);

    private final ProxyServer proxy;

    StatusRoutes(ProxyServer proxy) {
        this.proxy = proxy;
    }

    void register(AdminServer server) {
        server.route(HttpMethod.GET, "/health/live", r -> {
            String failure = proxy.loopFailure().getNow(null);
            return failure == null ? AdminResponse.json(Map.of("status", "live"))
                    : AdminResponse.json(HttpResponseStatus.SERVICE_UNAVAILABLE, Map.of("status", "not live", "reason", failure));
        });
        server.route(HttpMethod.GET, "/health/ready", r -> {
            Map<String, Object> s = status();
            boolean ready = !"critical".equals(s.get("status"));
            return AdminResponse.json(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                    Map.of("status", ready ? "ready" : "not ready", "reasons", s.get("reasons")));
        });
        server.route(HttpMethod.GET, "/api/v1/status", r -> AdminResponse.json(status()));
        server.route(HttpMethod.POST, "/api/v1/mode", r -> {
            Object body = forceMode(r.param("upstream"), r.param("mode"));
            return body instanceof Map<?, ?> m && m.containsKey("error")
                    ? AdminResponse.json(HttpResponseStatus.BAD_REQUEST, body) : AdminResponse.json(body);
        });
    }

    /** The status document: overall state with reasons, upstreams, pools. */
    public Map<String, Object> status() {
        Map<String, Object> doc = new LinkedHashMap<>();
        List<String> reasons = new ArrayList<>();
        String overall = "healthy";
        String loopFailure = proxy.loopFailure().getNow(null);
        if (loopFailure != null) {
            overall = "critical";
            reasons.add(loopFailure);
        }
        List<Map<String, Object>> ups = new ArrayList<>();
        for (Upstream u : proxy.upstreams()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("upstream", u.label());
            CircuitBreaker.State circuit = u.breaker().state();
            m.put("circuit", circuit.name().toLowerCase());
            OperatingMode.Mode mode = u.mode().mode();
            m.put("mode", mode.configName());
            m.put("mode_forced", u.mode().isForced());
            m.put("in_use", u.inUse());
            AdaptiveLimit limit = u.adaptiveLimit();
            if (limit != null) {
                AdaptiveLimit.Snapshot s = limit.snapshot();
                m.put("limit", s.limit());
                m.put("limit_baseline_rtt_us", s.baselineRttNanos() / 1000);
                m.put("limit_last_rtt_us", s.lastRttNanos() / 1000);
            } else {
                m.put("limit", "pool size");
            }
            ups.add(m);
            if (circuit != CircuitBreaker.State.CLOSED) {
                overall = "critical";
                reasons.add("upstream " + u.label() + ": circuit " + circuit.name().toLowerCase());
            }
            if (mode == OperatingMode.Mode.EMERGENCY) {
                overall = "critical";
                reasons.add("upstream " + u.label() + ": emergency mode");
            } else if (mode == OperatingMode.Mode.DEGRADED) {
                if (overall.equals("healthy")) {
                    overall = "degraded";
                }
                reasons.add("upstream " + u.label() + ": degraded mode");
            }
        }
        List<Map<String, Object>> pools = new ArrayList<>();
        for (Pool p : proxy.poolList()) {
            Pool.Snapshot s = p.snapshot();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("pool", s.name());
            m.put("mode", s.mode().configName());
            m.put("size", s.size());
            m.put("reserved", s.reserved());
            m.put("server_connections", s.total());
            m.put("idle", s.idle());
            m.put("in_use", s.inUse());
            m.put("waiting", s.waiting());
            Map<String, Integer> byClass = new LinkedHashMap<>();
            for (Priority pr : Priority.values()) {
                byClass.put(pr.configName(), s.byClass().getOrDefault(pr, 0));
            }
            m.put("waiting_by_class", byClass);
            pools.add(m);
        }
        doc.put("status", overall);
        doc.put("reasons", reasons);
        doc.put("clients", proxy.clientCount());
        doc.put("upstreams", ups);
        doc.put("pools", pools);
        return doc;
    }

    private Object forceMode(String upstream, String mode) {
        for (Upstream u : proxy.upstreams()) {
            if (upstream == null || u.label().equals(upstream)) {
                if ("auto".equals(mode)) {
                    u.mode().auto();
                } else {
                    OperatingMode.Mode m = null;
                    for (OperatingMode.Mode x : OperatingMode.Mode.values()) {
                        if (x.configName().equals(mode)) {
                            m = x;
                        }
                    }
                    if (m == null) {
                        return Map.of("error", "mode '" + mode + "' is not one of auto, normal, degraded, emergency");
                    }
                    u.mode().force(m);
                }
                log.warn("operator set operating mode of upstream {} to {}", u.label(), mode);
            }
        }
        return status();
    }
}

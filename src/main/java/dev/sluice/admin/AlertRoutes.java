package dev.sluice.admin;

import dev.sluice.alert.Alert;
import dev.sluice.alert.AlertEngine;
import dev.sluice.alert.AlertEvent;
import dev.sluice.config.AlertConfig;
import io.netty.handler.codec.http.HttpMethod;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /api/v1/alerts[?since=TIME]}: the alerts firing now, the history of alert events of
 * the last 24 hours (newest first; with {@code since}, an ISO-8601 instant such as
 * {@code 2025-01-31T12:00:00Z} or epoch milliseconds, only events at or after it), the rules with
 * their thresholds, and the delivery counters of each webhook.
 */
final class AlertRoutes {
    private final AlertEngine engine;

    AlertRoutes(AlertEngine engine) {
        this.engine = engine;
    }

    void register(AdminServer server) {
        server.route(HttpMethod.GET, "/api/v1/alerts", r -> AdminResponse.json(document(since(r.param("since")))));
    }

    Map<String, Object> document(Instant since) {
        AlertConfig c = engine.config();
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("enabled", c.enabled());
        List<Map<String, Object>> active = new ArrayList<>();
        for (Alert a : engine.active()) {
            active.add(a.toMap());
        }
        doc.put("active", active);
        List<Map<String, Object>> history = new ArrayList<>();
        for (AlertEvent e : engine.history(since)) {
            history.add(e.toMap());
        }
        doc.put("history", history);
        Map<String, Object> rules = new LinkedHashMap<>();
        rules.put("for_seconds", c.holdFor().toMillis() / 1000.0);
        rules.put("window_seconds", c.window().toMillis() / 1000.0);
        rules.put("min_queries", c.minQueries());
        rules.put("pool_utilization", thresholds(c.poolUtilization(), "percent"));
        rules.put("query_latency_p95", thresholds(c.queryLatencyP95(), "seconds"));
        rules.put("error_rate", thresholds(c.errorRate(), "percent"));
        rules.put("queue_wait", thresholds(c.queueWait(), "seconds"));
        rules.put("circuit_open", c.circuitOpen());
        rules.put("operating_mode", c.operatingMode());
        doc.put("rules", rules);
        List<Map<String, Object>> hooks = new ArrayList<>();
        for (AlertEngine.WebhookStatus w : engine.webhooks()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("url", w.url());
            m.put("format", w.format());
            m.put("delivered", w.delivered());
            m.put("failed_attempts", w.failedAttempts());
            m.put("given_up", w.givenUp());
            m.put("dropped", w.dropped());
            m.put("queued", w.queued());
            hooks.add(m);
        }
        doc.put("webhooks", hooks);
        return doc;
    }

    private static Map<String, Object> thresholds(AlertConfig.Thresholds t, String unit) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("warning", t.warning());
        m.put("critical", t.critical());
        m.put("unit", unit);
        return m;
    }

    /** {@code since} as an instant: ISO-8601, or epoch milliseconds; null when absent. */
    static Instant since(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        String t = text.strip();
        if (t.chars().allMatch(Character::isDigit) && t.length() <= 18) {
            return Instant.ofEpochMilli(Long.parseLong(t));
        }
        try {
            return Instant.parse(t);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("since: '" + t + "' is not an ISO-8601 instant "
                    + "(e.g. 2025-01-31T12:00:00Z) or epoch milliseconds");
        }
    }
}

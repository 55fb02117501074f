package dev.sluice.alert;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One change of an alert: it fired, its severity went up or down, or it was resolved. Events are
 * what the history keeps and what webhooks receive.
 *
 * @param kind      what happened
 * @param name      the rule: {@code pool_utilization}, {@code query_latency_p95}, {@code error_rate},
 *                  {@code queue_wait}, {@code circuit_open}, {@code operating_mode}
 * @param severity  the severity after the change; for {@link Kind#RESOLVED} the one it had
 * @param labels    what the alert is about ({@code pool}, {@code upstream}); empty for process-wide rules
 * @param value     the measured value when the change happened, in {@code unit}
 * @param threshold the threshold of {@code severity}, in {@code unit}
 * @param unit      {@code percent}, {@code seconds}, or {@code state} (1 = circuit not closed;
 *                  operating mode 1 = degraded, 2 = emergency)
 * @param message   one line for a human
 * @param startedAt when the alert fired (the same for all events of one firing)
 * @param at        when this change happened
 */
public record AlertEvent(Kind kind, String name, Severity severity, Map<String, String> labels, double value,
                         double threshold, String unit, String message, Instant startedAt, Instant at) {

    /** What happened to the alert. */
    public enum Kind {
        FIRED, ESCALATED, DEESCALATED, RESOLVED;

        /** Lower-case name for JSON: {@code fired}, {@code escalated}, {@code deescalated}, {@code resolved}. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public AlertEvent {
        labels = Map.copyOf(labels);
    }

    /** {@code firing}, or {@code resolved} for a {@link Kind#RESOLVED} event. */
    public String state() {
        return kind == Kind.RESOLVED ? "resolved" : "firing";
    }

    /**
     * The event as the JSON object that webhooks receive and the admin API lists:
     * {@code alert, event, state, severity, value, threshold, unit, labels, message, started_at, at}
     * (timestamps in ISO-8601 UTC).
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("alert", name);
        m.put("event", kind.configName());
        m.put("state", state());
        m.put("severity", severity.configName());
        m.put("value", value);
        m.put("threshold", threshold);
        m.put("unit", unit);
        m.put("labels", new TreeMap<>(labels));
        m.put("message", message);
        m.put("started_at", startedAt.toString());
        m.put("at", at.toString());
        return m;
    }
}

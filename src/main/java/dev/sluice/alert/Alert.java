package dev.sluice.alert;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * An alert that is firing now.
 *
 * @param name      the rule (see {@link AlertEvent#name()})
 * @param severity  its severity now
 * @param labels    what it is about ({@code pool}, {@code upstream}); empty for process-wide rules
 * @param value     the value at the last evaluation, in {@code unit}
 * @param threshold the threshold of {@code severity}
 * @param unit      {@code percent}, {@code seconds} or {@code state}
 * @param message   one line for a human, as of the last evaluation
 * @param startedAt when it fired
 * @param changedAt when it fired or last changed severity
 */
public record Alert(String name, Severity severity, Map<String, String> labels, double value, double threshold,
                    String unit, String message, Instant startedAt, Instant changedAt) {

    public Alert {
        labels = Map.copyOf(labels);
    }

    /** As JSON: {@code alert, state, severity, value, threshold, unit, labels, message, started_at, changed_at}. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("alert", name);
        m.put("state", "firing");
        m.put("severity", severity.configName());
        m.put("value", value);
        m.put("threshold", threshold);
        m.put("unit", unit);
        m.put("labels", new TreeMap<>(labels));
        m.put("message", message);
        m.put("started_at", startedAt.toString());
        m.put("changed_at", changedAt.toString());
        return m;
    }
}

package dev.sluice.alert;

import dev.sluice.admission.CircuitBreaker;
import dev.sluice.admission.OperatingMode;
import dev.sluice.config.AlertConfig;
import dev.sluice.config.AlertConfig.Thresholds;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The rules: from one {@link Observation} to the alert changes it causes. A plain class with no
 * clock of its own and no threads, so every rule is tested by feeding observations; the engine
 * calls it once a second from its own thread. Not thread-safe.
 *
 * <ul>
 *   <li>{@code pool_utilization} per pool: server connections in use over pool size, percent;</li>
 *   <li>{@code queue_wait} per pool: how long the oldest waiting request has waited, seconds;</li>
 *   <li>{@code query_latency_p95}: 95th percentile of query latency over the window, seconds;</li>
 *   <li>{@code error_rate}: (errors PostgreSQL returned + requests Sluice refused) over
 *       (queries + refused requests) in the window, percent;</li>
 *   <li>{@code circuit_open} per upstream: critical while the circuit is open or half-open;</li>
 *   <li>{@code operating_mode} per upstream: warning in degraded mode, critical in emergency.</li>
 * </ul>
 * Latency and error rate count as 0 while the window holds fewer than {@code alerts.min_queries}
 * requests, so a handful of statements cannot raise them. Hysteresis: see {@link Tracker}.
 */
final class Evaluator {
    private final AlertConfig config;
    private final long holdNanos;
    private final TrafficWindow window;
    private final String windowText;
    private final Map<String, Tracker> trackers = new LinkedHashMap<>();

    Evaluator(AlertConfig config) {
        this.config = config;
        this.holdNanos = config.holdFor().toNanos();
        this.window = new TrafficWindow(config.window().toNanos());
        this.windowText = show(config.window().toNanos() / 1e9, "seconds");
    }

    /** Applies one observation; returns the changes it caused, in rule order. */
    List<AlertEvent> evaluate(Observation o) {
        List<AlertEvent> events = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Observation.PoolReading p : o.pools()) {
            Map<String, String> labels = Map.of("pool", p.name());
            if (config.poolUtilization().enabled()) {
                double pct = p.size() <= 0 ? 0 : 100.0 * p.inUse() / p.size();
                threshold(Rule.POOL_UTILIZATION, labels, pct, config.poolUtilization(), o, seen, events,
                        "pool " + p.name() + ": " + p.inUse() + " of " + p.size() + " server connections in use ("
                                + show(pct, "percent") + ")");
            }
            if (config.queueWait().enabled()) {
                double s = p.oldestWaitNanos() / 1e9;
                threshold(Rule.QUEUE_WAIT, labels, s, config.queueWait(), o, seen, events,
                        "pool " + p.name() + ": the oldest waiting request has waited " + show(s, "seconds")
                                + " for a server connection");
            }
        }
        if (o.traffic() != null) {
            TrafficWindow.Figures f = window.add(o.traffic());
            boolean judged = f.requests() >= Math.max(1, config.minQueries());
            if (config.queryLatencyP95().enabled()) {
                double p95 = f.queries() >= Math.max(1, config.minQueries()) ? f.p95Seconds() : 0;
                threshold(Rule.QUERY_LATENCY_P95, Map.of(), p95, config.queryLatencyP95(), o, seen, events,
                        "p95 query latency " + show(p95, "seconds") + " over the last " + windowText + " ("
                                + f.queries() + " queries)");
            }
            if (config.errorRate().enabled()) {
                double pct = judged ? 100.0 * f.failures() / f.requests() : 0;
                threshold(Rule.ERROR_RATE, Map.of(), pct, config.errorRate(), o, seen, events,
                        show(pct, "percent") + " of requests failed over the last " + windowText + " ("
                                + f.failures() + " of " + f.requests() + ")");
            }
        }
        for (Observation.UpstreamReading u : o.upstreams()) {
            Map<String, String> labels = Map.of("upstream", u.label());
            if (config.circuitOpen()) {
                boolean open = u.circuit() != CircuitBreaker.State.CLOSED;
                String circuit = u.circuit().name().toLowerCase(Locale.ROOT).replace('_', '-');
                state(Rule.CIRCUIT_OPEN, labels, open ? Severity.CRITICAL : null, open ? 1 : 0, 1, o, seen, events,
                        "upstream " + u.label() + ": circuit " + circuit
                                + (open ? " (requests fail at once with 08006)" : ""));
            }
            if (config.operatingMode()) {
                boolean emergency = u.mode() == OperatingMode.Mode.EMERGENCY;
                Severity wanted = switch (u.mode()) {
                    case NORMAL -> null;
                    case DEGRADED -> Severity.WARNING;
                    case EMERGENCY -> Severity.CRITICAL;
                };
                int level = wanted == null ? 0 : wanted.ordinal() + 1; // degraded 1, emergency 2
                state(Rule.OPERATING_MODE, labels, wanted, level, Math.max(1, level), o, seen, events,
                        "upstream " + u.label() + ": operating mode " + u.mode().configName()
                                + (emergency ? " (low and background requests are refused)" : ""));
            }
        }
        // what is no longer observed (a pool removed by a reload) resolves and is forgotten
        for (Iterator<Tracker> it = trackers.values().iterator(); it.hasNext(); ) {
            Tracker t = it.next();
            if (!seen.contains(key(t.rule, t.labels))) {
                if (t.firing()) {
                    events.add(t.event(AlertEvent.Kind.RESOLVED, describe(t.labels)
                            + ": no longer observed; resolved", o.at()));
                }
                it.remove();
            }
        }
        return events;
    }

    /** The alerts firing now, in rule order. */
    List<Alert> active() {
        List<Alert> out = new ArrayList<>();
        for (Tracker t : trackers.values()) {
            if (t.firing()) {
                out.add(t.alert());
            }
        }
        return out;
    }

    private void threshold(Rule rule, Map<String, String> labels, double value, Thresholds th, Observation o,
                           Set<String> seen, List<AlertEvent> events, String detail) {
        Tracker t = tracker(rule, labels, seen);
        AlertEvent.Kind kind = t.update(value, th, o.nanos(), holdNanos);
        if (kind == null) {
            if (t.firing()) {
                t.describe(detail + "; " + t.severity().configName() + " at " + show(t.threshold(), rule.unit()));
            }
            return;
        }
        String text = switch (kind) {
            case RESOLVED -> detail + "; resolved (below "
                    + show((th.warning() > 0 ? th.warning() : th.critical()) * Tracker.CLEAR_RATIO, rule.unit()) + ")";
            default -> detail + "; " + t.severity().configName() + " at " + show(t.threshold(), rule.unit());
        };
        events.add(t.event(kind, text, o.at()));
    }

    private void state(Rule rule, Map<String, String> labels, Severity wanted, double value, double thresholdOfWanted,
                       Observation o, Set<String> seen, List<AlertEvent> events, String detail) {
        Tracker t = tracker(rule, labels, seen);
        AlertEvent.Kind kind = t.set(wanted, value, thresholdOfWanted);
        if (kind == null) {
            t.describe(detail);
            return;
        }
        events.add(t.event(kind, kind == AlertEvent.Kind.RESOLVED ? detail + "; resolved" : detail, o.at()));
    }

    private Tracker tracker(Rule rule, Map<String, String> labels, Set<String> seen) {
        String key = key(rule, labels);
        seen.add(key);
        return trackers.computeIfAbsent(key, k -> new Tracker(rule, labels));
    }

    private static String key(Rule rule, Map<String, String> labels) {
        return rule.alertName() + new TreeMap<>(labels);
    }

    private static String describe(Map<String, String> labels) {
        StringBuilder b = new StringBuilder();
        new TreeMap<>(labels).forEach((k, v) -> b.append(b.isEmpty() ? "" : ", ").append(k).append(' ').append(v));
        return b.isEmpty() ? "process" : b.toString();
    }

    /** A value for a human: {@code 95%}, {@code 2.5%}, {@code 850 ms}, {@code 1.5 s}. */
    static String show(double v, String unit) {
        return switch (unit) {
            case "percent" -> (v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v)
                    : String.format(Locale.ROOT, "%.1f", v)) + "%";
            case "seconds" -> v < 1 ? String.format(Locale.ROOT, "%.0f ms", v * 1000)
                    : String.format(Locale.ROOT, v == Math.rint(v) ? "%.0f s" : "%.2f s", v);
            default -> String.format(Locale.ROOT, "%.0f", v);
        };
    }
}

package dev.sluice.alert;

import dev.sluice.config.AlertConfig.Thresholds;
import java.time.Instant;
import java.util.Map;

/**
 * The state of one alert (a rule and its labels) between evaluations, with the hysteresis that
 * keeps it from flapping. Used by the evaluation thread only.
 *
 * <p>Threshold rules ({@link #update}), with {@code W} the warning and {@code C} the critical
 * threshold (a level set to 0 is off; with warning off, {@code W} below means {@code C}):
 * <ul>
 *   <li>not firing: fires when the value has been at or above {@code W} at every evaluation for
 *       {@code hold}; it fires as critical if it has also been at or above {@code C} for
 *       {@code hold}, else as warning;</li>
 *   <li>warning: escalates to critical once the value has been at or above {@code C} for
 *       {@code hold}; resolves when the value falls below {@code W × 0.9};</li>
 *   <li>critical: resolves when the value falls below {@code W × 0.9}; otherwise goes back to
 *       warning when it falls below {@code C × 0.9}.</li>
 * </ul>
 * A value below a threshold at any evaluation restarts that threshold's hold. Resolving and going
 * back down are immediate: the 10% margin is what prevents flapping there.
 *
 * <p>State rules ({@link #set}) have no hold and no margin: the severity is the one the state
 * asks for (the circuit breaker and the operating mode have their own thresholds and hysteresis).
 */
final class Tracker {
    /** A firing alert clears below this fraction of its threshold. */
    static final double CLEAR_RATIO = 0.9;
    private static final long NONE = Long.MIN_VALUE;

    final Rule rule;
    final Map<String, String> labels;
    private long lowSince = NONE;
    private long criticalSince = NONE;
    private Severity severity;
    private Instant startedAt;
    private Instant changedAt;
    private double value;
    private double threshold;
    private String message = "";

    Tracker(Rule rule, Map<String, String> labels) {
        this.rule = rule;
        this.labels = Map.copyOf(labels);
    }

    /**
     * Applies one evaluation of a threshold rule.
     *
     * @return what changed, or null
     */
    AlertEvent.Kind update(double v, Thresholds t, long nowNanos, long holdNanos) {
        double low = t.warning() > 0 ? t.warning() : t.critical();
        boolean atLow = low > 0 && v >= low;
        boolean atCritical = t.critical() > 0 && v >= t.critical();
        lowSince = atLow ? (lowSince == NONE ? nowNanos : lowSince) : NONE;
        criticalSince = atCritical ? (criticalSince == NONE ? nowNanos : criticalSince) : NONE;
        boolean heldLow = atLow && nowNanos - lowSince >= holdNanos;
        boolean heldCritical = atCritical && nowNanos - criticalSince >= holdNanos;
        value = v;
        if (severity == null) {
            if (heldCritical) {
                return become(Severity.CRITICAL, t.critical(), AlertEvent.Kind.FIRED);
            }
            if (heldLow) {
                return become(Severity.WARNING, t.warning(), AlertEvent.Kind.FIRED);
            }
            return null;
        }
        if (v < low * CLEAR_RATIO) {
            return AlertEvent.Kind.RESOLVED;
        }
        if (severity == Severity.WARNING && heldCritical) {
            return become(Severity.CRITICAL, t.critical(), AlertEvent.Kind.ESCALATED);
        }
        if (severity == Severity.CRITICAL && t.warning() > 0 && v < t.critical() * CLEAR_RATIO) {
            return become(Severity.WARNING, t.warning(), AlertEvent.Kind.DEESCALATED);
        }
        return null;
    }

    /**
     * Applies one evaluation of a state rule: {@code wanted} is the severity the state asks for,
     * null when it asks for none.
     *
     * @return what changed, or null
     */
    AlertEvent.Kind set(Severity wanted, double v, double thresholdOfWanted) {
        value = v;
        if (wanted == severity) {
            return null;
        }
        if (wanted == null) {
            return AlertEvent.Kind.RESOLVED;
        }
        AlertEvent.Kind kind = severity == null ? AlertEvent.Kind.FIRED
                : wanted.compareTo(severity) > 0 ? AlertEvent.Kind.ESCALATED : AlertEvent.Kind.DEESCALATED;
        return become(wanted, thresholdOfWanted, kind);
    }

    private AlertEvent.Kind become(Severity s, double thresholdOfS, AlertEvent.Kind kind) {
        severity = s;
        threshold = thresholdOfS;
        return kind;
    }

    /** Records when the change returned by the last update happened; call after each non-null change. */
    AlertEvent event(AlertEvent.Kind kind, String text, Instant at) {
        if (kind == AlertEvent.Kind.FIRED) {
            startedAt = at;
        }
        changedAt = at;
        message = text;
        AlertEvent e = new AlertEvent(kind, rule.alertName(), severity, labels, value, threshold, rule.unit(), text,
                startedAt, at);
        if (kind == AlertEvent.Kind.RESOLVED) {
            severity = null;
            startedAt = null;
        }
        return e;
    }

    /** Updates the message of a firing alert that did not change. */
    void describe(String text) {
        message = text;
    }

    boolean firing() {
        return severity != null;
    }

    Severity severity() {
        return severity;
    }

    double threshold() {
        return threshold;
    }

    /** The firing alert as the admin API shows it; only while {@link #firing()}. */
    Alert alert() {
        return new Alert(rule.alertName(), severity, labels, value, threshold, rule.unit(), message, startedAt, changedAt);
    }
}

package dev.sluice.config;

import dev.sluice.admission.Classifier;
import dev.sluice.admission.FairShare;
import dev.sluice.admission.OperatingMode;
import dev.sluice.admission.Priority;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Who gets a server connection when there are not enough: priority classes, waiting limits, the
 * adaptive concurrency limit, the circuit breaker, rate limits, operating modes and retries.
 *
 * @param queueSize        clients that may wait for a server connection per pool, all classes together
 * @param waitTimeouts     how long a client of each class may wait before 57014
 * @param agingStep        waiting this long counts as one class higher, so no class starves (0 = off)
 * @param rules            classification rules, first match wins
 * @param defaultPriority  the class of a client no rule matches
 * @param adaptiveLimit    whether the concurrency towards each upstream adapts to its latency
 * @param minLimit         the adaptive limit never goes below this
 * @param breakerFailures  consecutive connection failures that open an upstream's circuit
 * @param breakerCoolDown  how long an open circuit fails fast before it probes
 * @param rateLimit        server-connection requests per second per user (0 = no limit)
 * @param rateBurst        tokens a user may save up
 * @param forcedMode       an operating mode forced by the operator, or empty for automatic
 * @param retryAttempts    executions of an autocommit statement that failed with 40001/40P01 (1 = no retry)
 * @param shares           fair-share rules (guaranteed minimum and, while others wait, maximum
 *                         server connections per user or application_name), first match wins
 * @param reservedConnections server connections of each pool that only {@code high} and
 *                         {@code critical} requests may take, so they never wait behind a pool
 *                         full of lower-class work (0 = none)
 * @param degradedWait     the oldest wait for a server connection that puts an upstream in
 *                         degraded mode
 * @param emergencyWait    the oldest wait that puts it in emergency mode (at least {@code degradedWait})
 */
public record AdmissionConfig(
        int queueSize, Map<Priority, Duration> waitTimeouts, Duration agingStep,
        List<Classifier.Rule> rules, Priority defaultPriority,
        boolean adaptiveLimit, int minLimit,
        int breakerFailures, Duration breakerCoolDown,
        double rateLimit, int rateBurst,
        Optional<OperatingMode.Mode> forcedMode,
        int retryAttempts,
        List<FairShare.Rule> shares,
        int reservedConnections,
        Duration degradedWait, Duration emergencyWait) {

    /** Default oldest wait entering degraded mode ({@code admission.degraded_wait}). */
    public static final Duration DEGRADED_WAIT = OperatingMode.Thresholds.defaults().degradedWaitEnter();
    /** Default oldest wait entering emergency mode ({@code admission.emergency_wait}). */
    public static final Duration EMERGENCY_WAIT = OperatingMode.Thresholds.defaults().emergencyWaitEnter();

    public AdmissionConfig {
        waitTimeouts = Map.copyOf(new EnumMap<>(waitTimeouts));
        rules = List.copyOf(rules);
        shares = List.copyOf(shares);
        OperatingMode.Thresholds.forWaits(degradedWait, emergencyWait); // validates
    }

    /** Settings with the default operating-mode thresholds. */
    public AdmissionConfig(int queueSize, Map<Priority, Duration> waitTimeouts, Duration agingStep,
                           List<Classifier.Rule> rules, Priority defaultPriority, boolean adaptiveLimit, int minLimit,
                           int breakerFailures, Duration breakerCoolDown, double rateLimit, int rateBurst,
                           Optional<OperatingMode.Mode> forcedMode, int retryAttempts, List<FairShare.Rule> shares,
                           int reservedConnections) {
        this(queueSize, waitTimeouts, agingStep, rules, defaultPriority, adaptiveLimit, minLimit, breakerFailures,
                breakerCoolDown, rateLimit, rateBurst, forcedMode, retryAttempts, shares, reservedConnections,
                DEGRADED_WAIT, EMERGENCY_WAIT);
    }

    /** What an upstream's operating mode is derived by. */
    public OperatingMode.Thresholds modeThresholds() {
        return OperatingMode.Thresholds.forWaits(degradedWait, emergencyWait);
    }

    /** Settings without reserved connections. */
    public AdmissionConfig(int queueSize, Map<Priority, Duration> waitTimeouts, Duration agingStep,
                           List<Classifier.Rule> rules, Priority defaultPriority, boolean adaptiveLimit, int minLimit,
                           int breakerFailures, Duration breakerCoolDown, double rateLimit, int rateBurst,
                           Optional<OperatingMode.Mode> forcedMode, int retryAttempts, List<FairShare.Rule> shares) {
        this(queueSize, waitTimeouts, agingStep, rules, defaultPriority, adaptiveLimit, minLimit, breakerFailures,
                breakerCoolDown, rateLimit, rateBurst, forcedMode, retryAttempts, shares, 0);
    }

    /** Defaults: every class waits {@code acquireTimeout}, no rules, fixed limit, retries on. */
    public static AdmissionConfig defaults(Duration acquireTimeout, int queueSize) {
        Map<Priority, Duration> t = new EnumMap<>(Priority.class);
        for (Priority p : Priority.values()) {
            t.put(p, acquireTimeout);
        }
        return new AdmissionConfig(queueSize, t, Duration.ofSeconds(1), List.of(), Priority.NORMAL,
                false, 1, 5, Duration.ofSeconds(5), 0, 10, Optional.empty(), 3, List.of());
    }
}

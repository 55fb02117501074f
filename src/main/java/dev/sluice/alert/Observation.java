package dev.sluice.alert;

import dev.sluice.admission.CircuitBreaker;
import dev.sluice.admission.OperatingMode;
import java.time.Instant;
import java.util.List;

/**
 * Everything one evaluation looks at, read from the running proxy in one go.
 *
 * @param nanos     monotonic time of the reading (holds and windows are measured on it)
 * @param at        wall-clock time of the reading (event timestamps)
 * @param pools     one entry per pool
 * @param upstreams one entry per upstream
 * @param traffic   the cumulative traffic counters
 */
record Observation(long nanos, Instant at, List<PoolReading> pools, List<UpstreamReading> upstreams,
                   TrafficWindow.Sample traffic) {

    /**
     * @param name            {@code database/user}
     * @param size            the pool's size
     * @param inUse           server connections lent to clients
     * @param oldestWaitNanos how long its longest-waiting request has waited, 0 when none waits
     */
    record PoolReading(String name, int size, int inUse, long oldestWaitNanos) {
    }

    record UpstreamReading(String label, CircuitBreaker.State circuit, OperatingMode.Mode mode) {
    }
}

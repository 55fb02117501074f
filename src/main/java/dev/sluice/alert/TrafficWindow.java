package dev.sluice.alert;

import java.util.ArrayDeque;
import org.HdrHistogram.Histogram;

/**
 * Turns cumulative traffic counters, read once per evaluation, into figures over a sliding window:
 * the difference between the newest reading and one taken {@code window} earlier.
 *
 * <p>A reading is kept once per step of {@code window / 60} (a 60 s window keeps one per second;
 * a reading counts as a new step when 90% of a step has passed, so a timer firing a little early
 * does not lose one), and only as far back as one window: at most {@link #MAX_SAMPLES} of them,
 * each holding a histogram copy of about 26 kB. The span measured is between {@code window} and
 * {@code window} plus one step. Until {@code window} has passed since the first reading, the span
 * is everything since then.
 */
final class TrafficWindow {
    static final int STEPS = 60;
    /** Readings a window needs at one per 90% of a step, plus the base. */
    static final int MAX_SAMPLES = STEPS * 10 / 9 + 2;

    /**
     * One reading of the cumulative counters.
     *
     * @param nanos          when it was taken (monotonic)
     * @param latencyMicros  the process-wide query latency histogram, in microseconds
     * @param queries        queries completed (errors PostgreSQL returned included)
     * @param errors         errors PostgreSQL returned
     * @param refusals       requests Sluice refused itself
     */
    record Sample(long nanos, Histogram latencyMicros, long queries, long errors, long refusals) {
    }

    /**
     * Figures over the window.
     *
     * @param queries     queries completed
     * @param failures    errors PostgreSQL returned plus refusals
     * @param requests    queries plus refusals (refused requests never complete as queries)
     * @param p95Seconds  95th percentile of query latency; 0 when no query completed
     */
    record Figures(long queries, long failures, long requests, double p95Seconds) {
    }

    private final long windowNanos;
    private final long stepNanos;
    private final ArrayDeque<Sample> samples = new ArrayDeque<>();

    TrafficWindow(long windowNanos) {
        this.windowNanos = windowNanos;
        this.stepNanos = windowNanos / STEPS;
    }

    /** Adds the newest reading and returns the figures from the reading a window older to it. */
    Figures add(Sample now) {
        Sample last = samples.peekLast();
        // keep a reading per step; a tenth of slack so a timer firing a little early still counts
        if (last == null || now.nanos() - last.nanos() >= stepNanos - stepNanos / 10) {
            samples.addLast(now);
        }
        // the base is the newest reading at least a window old; older ones are no longer needed
        while (samples.size() > 1 && second().nanos() <= now.nanos() - windowNanos) {
            samples.pollFirst();
        }
        while (samples.size() > MAX_SAMPLES) {
            samples.pollFirst();
        }
        Sample base = samples.peekFirst();
        long queries = Math.max(0, now.queries() - base.queries());
        long errors = Math.max(0, now.errors() - base.errors());
        long refusals = Math.max(0, now.refusals() - base.refusals());
        double p95 = 0;
        if (base != now && now.latencyMicros() != null && base.latencyMicros() != null) {
            Histogram delta = now.latencyMicros().copy();
            delta.subtract(base.latencyMicros());
            if (delta.getTotalCount() > 0) {
                p95 = delta.getValueAtPercentile(95.0) / 1e6;
            }
        }
        return new Figures(queries, errors + refusals, queries + refusals, p95);
    }

    private Sample second() {
        var it = samples.iterator();
        it.next();
        return it.next();
    }

    /** Readings kept (for tests). */
    int size() {
        return samples.size();
    }
}

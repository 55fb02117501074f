package dev.sluice.stats;

import org.HdrHistogram.AtomicHistogram;
import org.HdrHistogram.Histogram;

/**
 * A cumulative, thread-safe latency distribution in microseconds (1 µs to 1 hour, 2 significant
 * digits). Recording is wait-free: two atomic increments (this runs once or twice per query, on
 * every event loop). Readers take a {@link #snapshot} and, for a window, subtract an earlier
 * snapshot ({@link Histogram#subtract}); a snapshot taken while others record may miss the
 * latencies being recorded at that instant, which the next one includes.
 */
public final class LatencyHistogram {
    private static final long MAX_MICROS = 3_600_000_000L;

    private final AtomicHistogram histogram = new AtomicHistogram(1, MAX_MICROS, 2);

    /** Records one latency; values outside the range are clamped to it. */
    public void record(long nanos) {
        long micros = Math.max(1, Math.min(MAX_MICROS, nanos / 1000));
        histogram.recordValue(micros);
    }

    /** A copy of everything recorded so far (values in microseconds). */
    public Histogram snapshot() {
        return histogram.copy();
    }

    /** How many latencies were recorded. */
    public long count() {
        return histogram.getTotalCount();
    }
}

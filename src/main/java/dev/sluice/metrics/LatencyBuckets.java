package dev.sluice.metrics;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * Turns an HdrHistogram of latencies in microseconds (what {@link dev.sluice.stats.LatencyHistogram}
 * keeps) into a Prometheus histogram in seconds with fixed bucket bounds, 0.5 ms to 30 s.
 *
 * <p>HdrHistogram keeps each value only to its precision (two significant digits, so within 1%):
 * a recorded value is known to lie in a small range of equivalent values. A range counts toward
 * the bucket {@code le=B} when its lowest value is at most B (as HdrHistogram's own
 * {@link Histogram#getCountBetweenValues} does), and the sum adds each range's median value, so
 * bucket edges and the sum are exact to that precision; the count is exact.
 */
final class LatencyBuckets {
    /** Upper bounds in seconds, +Inf excluded. */
    static final double[] BOUNDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
            30};
    private static final long[] BOUNDS_MICROS = new long[BOUNDS.length];

    static {
        for (int i = 0; i < BOUNDS.length; i++) {
            BOUNDS_MICROS[i] = Math.round(BOUNDS[i] * 1_000_000);
        }
    }

    private LatencyBuckets() {
    }

    /** One Prometheus histogram family {@code name} with a single unlabelled series from {@code micros}. */
    static HistogramSnapshot histogram(String name, String help, Histogram micros) {
        return HistogramSnapshot.builder().name(name).help(help).dataPoint(dataPoint(micros, Labels.EMPTY)).build();
    }

    /** The series for {@code micros}: per-bucket counts (the exposition makes them cumulative), sum and count. */
    static HistogramDataPointSnapshot dataPoint(Histogram micros, Labels labels) {
        double[] upperBounds = new double[BOUNDS.length + 1];
        System.arraycopy(BOUNDS, 0, upperBounds, 0, BOUNDS.length);
        upperBounds[BOUNDS.length] = Double.POSITIVE_INFINITY;
        long[] counts = new long[upperBounds.length];
        double sumMicros = 0;
        for (HistogramIterationValue v : micros.recordedValues()) {
            long value = v.getValueIteratedTo();
            long n = v.getCountAtValueIteratedTo();
            counts[bucketOf(micros.lowestEquivalentValue(value))] += n;
            sumMicros += (double) n * micros.medianEquivalentValue(value);
        }
        return HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(upperBounds, counts))
                .sum(sumMicros / 1_000_000)
                .labels(labels)
                .build();
    }

    /** Index of the first bucket whose bound is at least {@code micros}; the +Inf bucket past the last. */
    private static int bucketOf(long micros) {
        for (int i = 0; i < BOUNDS_MICROS.length; i++) {
            if (micros <= BOUNDS_MICROS[i]) {
                return i;
            }
        }
        return BOUNDS_MICROS.length;
    }
}

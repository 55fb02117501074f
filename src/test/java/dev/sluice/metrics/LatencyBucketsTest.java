package dev.sluice.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sluice.stats.LatencyHistogram;
import io.micrometer.core.instrument.Clock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBucket;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class LatencyBucketsTest {
    private static final long US = 1_000L;
    private static final long MS = 1_000_000L;

    /** 100 us x3, 700 us, exactly 1 ms, 2 ms x2, 40 ms, 40 s: 9 values, 40.046 s in all. */
    private static LatencyHistogram sample() {
        LatencyHistogram h = new LatencyHistogram();
        for (int i = 0; i < 3; i++) {
            h.record(100 * US);
        }
        h.record(700 * US);
        h.record(MS);
        h.record(2 * MS);
        h.record(2 * MS);
        h.record(40 * MS);
        h.record(40_000 * MS);
        return h;
    }

    @Test
    void dataPoint_putsEachValueInTheFirstBucketAtLeastAsLarge_countsExactSumToPrecision() {
        HistogramDataPointSnapshot p = LatencyBuckets.dataPoint(sample().snapshot(), Labels.EMPTY);
        Map<Double, Long> perBucket = new LinkedHashMap<>();
        for (ClassicHistogramBucket b : p.getClassicBuckets()) {
            perBucket.put(b.getUpperBound(), b.getCount());
        }
        assertThat(perBucket).hasSize(LatencyBuckets.BOUNDS.length + 1);
        assertThat(perBucket.get(0.0005)).isEqualTo(3);
        assertThat(perBucket.get(0.001)).as("700 us and exactly 1 ms").isEqualTo(2);
        assertThat(perBucket.get(0.0025)).isEqualTo(2);
        assertThat(perBucket.get(0.05)).isEqualTo(1);
        assertThat(perBucket.get(Double.POSITIVE_INFINITY)).as("40 s is past the last bound, 30 s").isEqualTo(1);
        assertThat(perBucket.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(9);
        assertThat(p.getCount()).isEqualTo(9);
        assertThat(p.getSum()).isCloseTo(40.046, within(40.046 * 0.01));
    }

    @Test
    void exposition_bucketsAreCumulativeAndEndAtTheCount() {
        Scrape s = scrape(sample());
        assertThat(s.buckets().get(0.0005)).isEqualTo(3.0);
        assertThat(s.buckets().get(0.001)).isEqualTo(5.0);
        assertThat(s.buckets().get(0.0025)).isEqualTo(7.0);
        assertThat(s.buckets().get(0.005)).isEqualTo(7.0);
        assertThat(s.buckets().get(0.025)).isEqualTo(7.0);
        assertThat(s.buckets().get(0.05)).isEqualTo(8.0);
        assertThat(s.buckets().get(30.0)).isEqualTo(8.0);
        assertThat(s.buckets().get(Double.POSITIVE_INFINITY)).isEqualTo(9.0);
        assertThat(s.count()).isEqualTo(9.0);
        assertThat(s.sum()).isCloseTo(40.046, within(40.046 * 0.01));
        assertThat(s.buckets()).hasSize(LatencyBuckets.BOUNDS.length + 1);
        double previous = 0;
        for (Map.Entry<Double, Double> b : s.buckets().entrySet()) {
            assertThat(b.getValue()).as("bucket le=%s never below the one before", b.getKey())
                    .isGreaterThanOrEqualTo(previous);
            previous = b.getValue();
        }
    }

    @Test
    void exposition_emptyHistogram_hasEveryBucketAtZero() {
        Scrape s = scrape(new LatencyHistogram());
        assertThat(s.buckets()).hasSize(LatencyBuckets.BOUNDS.length + 1);
        assertThat(s.buckets().values()).allMatch(v -> v == 0.0);
        assertThat(s.count()).isZero();
        assertThat(s.sum()).isZero();
    }

    /** The series of one histogram as exposed: cumulative counts by upper bound, sum and count. */
    private record Scrape(Map<Double, Double> buckets, double sum, double count) {
    }

    /** Renders the histogram the way /metrics does and reads its series back. */
    private static Scrape scrape(LatencyHistogram h) {
        PrometheusRegistry prometheus = new PrometheusRegistry();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, prometheus, Clock.SYSTEM);
        prometheus.register(() -> new MetricSnapshots(
                LatencyBuckets.histogram("test_latency_seconds", "test", h.snapshot())));
        Map<Double, Double> buckets = new TreeMap<>();
        double sum = Double.NaN;
        double count = Double.NaN;
        for (String line : registry.scrape(SluiceMetrics.CONTENT_TYPE).split("\n")) {
            if (line.startsWith("test_latency_seconds_bucket{le=\"")) {
                String le = line.substring(line.indexOf('"') + 1, line.lastIndexOf('"'));
                buckets.put(le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le), value(line));
            } else if (line.startsWith("test_latency_seconds_sum ")) {
                sum = value(line);
            } else if (line.startsWith("test_latency_seconds_count ")) {
                count = value(line);
            }
        }
        return new Scrape(buckets, sum, count);
    }

    private static double value(String line) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
}

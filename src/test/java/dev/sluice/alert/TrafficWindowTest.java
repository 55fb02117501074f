package dev.sluice.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class TrafficWindowTest {
    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    private final Histogram latency = new Histogram(1, 3_600_000_000L, 2);
    private long queries;

    private TrafficWindow.Sample at(long nanos, int more, long micros) {
        for (int i = 0; i < more; i++) {
            latency.recordValue(micros);
        }
        queries += more;
        return new TrafficWindow.Sample(nanos, latency.copy(), queries, queries / 10, 1);
    }

    @Test
    void firstReading_hasNothingInTheWindow() {
        TrafficWindow w = new TrafficWindow(60 * SECOND);
        TrafficWindow.Figures f = w.add(at(0, 50, 1000));
        assertThat(f.queries()).isZero();
        assertThat(f.requests()).isZero();
        assertThat(f.p95Seconds()).isZero();
    }

    @Test
    void beforeTheWindowIsFull_spansEverythingSinceTheFirstReading() {
        TrafficWindow w = new TrafficWindow(60 * SECOND);
        w.add(at(0, 0, 1));
        w.add(at(SECOND, 10, 1000));
        TrafficWindow.Figures f = w.add(at(2 * SECOND, 10, 2000));
        assertThat(f.queries()).isEqualTo(20);
        assertThat(f.failures()).isEqualTo(2); // errors queries / 10, refusals unchanged
        assertThat(f.requests()).isEqualTo(20);
        assertThat(f.p95Seconds()).isBetween(0.00199, 0.00201);
    }

    @Test
    void afterTheWindow_onlyTheLastWindowCounts() {
        TrafficWindow w = new TrafficWindow(10 * SECOND);
        w.add(at(0, 0, 1));
        w.add(at(SECOND, 1000, 5_000_000)); // slow, at second 1
        TrafficWindow.Figures f = null;
        for (int s = 2; s <= 11; s++) {
            f = w.add(at(s * SECOND, 10, 1000));
        }
        assertThat(f.queries()).as("seconds 1..11, base at 1").isEqualTo(100);
        assertThat(f.p95Seconds()).isLessThan(0.01);
    }

    @Test
    void keepsAtMostOneReadingPerStep() {
        TrafficWindow w = new TrafficWindow(3600 * SECOND); // step: one minute
        for (int s = 0; s <= 7200; s++) {
            w.add(at(s * SECOND, 1, 1000));
        }
        assertThat(w.size()).isLessThanOrEqualTo(TrafficWindow.MAX_SAMPLES);
        TrafficWindow.Figures f = w.add(at(7201 * SECOND, 1, 1000));
        assertThat(f.queries()).as("between one hour and one hour plus a step").isBetween(3600L, 3661L);
    }

    @Test
    void readingsFasterThanTheStep_areNotKept() {
        TrafficWindow w = new TrafficWindow(60 * SECOND);
        for (int i = 0; i < 1000; i++) {
            w.add(at(i * SECOND / 100, 1, 1000));
        }
        assertThat(w.size()).as("10 s at one per 0.9 s").isLessThanOrEqualTo(12);
    }
}

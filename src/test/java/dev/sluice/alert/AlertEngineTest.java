package dev.sluice.alert;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.admission.Ticker;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AlertEngineTest {
    private static final long ORIGIN_MILLIS = Instant.parse("2025-01-31T12:00:00Z").toEpochMilli();

    private final AtomicLong now = new AtomicLong(42_000_000_000L);
    private final Ticker ticker = now::get;
    private final AtomicInteger inUse = new AtomicInteger();

    private AlertEngine engine(Duration hold) {
        AlertEngine.Probe probe = (nanos, at) -> new Observation(nanos, at,
                List.of(new Observation.PoolReading("app/app", 2, inUse.get(), 0)), List.of(), null);
        return new AlertEngine(EvaluatorTest.config(hold, 10), probe, ticker, ORIGIN_MILLIS, null);
    }

    @Test
    void evaluateOnce_recordsActiveAndHistory_withTimesFromTheInjectedClock() {
        try (AlertEngine e = engine(Duration.ofSeconds(10))) {
            inUse.set(2);
            e.evaluateOnce();
            now.addAndGet(Duration.ofSeconds(10).toNanos());
            e.evaluateOnce();
            assertThat(e.active()).singleElement().satisfies(a -> {
                assertThat(a.name()).isEqualTo("pool_utilization");
                assertThat(a.severity()).isEqualTo(Severity.CRITICAL);
                assertThat(a.startedAt()).isEqualTo(Instant.parse("2025-01-31T12:00:10Z"));
            });
            inUse.set(0);
            now.addAndGet(Duration.ofSeconds(5).toNanos());
            e.evaluateOnce();
            assertThat(e.active()).isEmpty();
            List<AlertEvent> h = e.history(null);
            assertThat(h).extracting(AlertEvent::kind).containsExactly(AlertEvent.Kind.RESOLVED, AlertEvent.Kind.FIRED);
            assertThat(h.get(0).at()).isEqualTo(Instant.parse("2025-01-31T12:00:15Z"));
            assertThat(e.history(Instant.parse("2025-01-31T12:00:11Z"))).hasSize(1);
            assertThat(e.webhooks()).isEmpty();
        }
    }

    @Test
    void history_forgetsEventsOlderThan24Hours() {
        try (AlertEngine e = engine(Duration.ZERO)) {
            inUse.set(2);
            e.evaluateOnce();
            assertThat(e.history(null)).hasSize(1);
            now.addAndGet(Duration.ofHours(24).plusSeconds(1).toNanos());
            assertThat(e.history(null)).isEmpty();
            assertThat(e.active()).hasSize(1);
        }
    }

    @Test
    void disabled_startDoesNothing() {
        AlertEngine.Probe probe = (nanos, at) -> {
            throw new AssertionError("must not be called");
        };
        var d = EvaluatorTest.config(Duration.ZERO, 10);
        var off = new dev.sluice.config.AlertConfig(false, d.holdFor(), d.window(), d.minQueries(),
                d.poolUtilization(), d.queryLatencyP95(), d.errorRate(), d.queueWait(), true, true, List.of(),
                d.webhookTimeout(), d.webhookRetries(), d.webhookBackoff(), d.webhookQueueSize());
        try (AlertEngine e = new AlertEngine(off, probe, ticker, ORIGIN_MILLIS, null)) {
            e.start();
            assertThat(e.enabled()).isFalse();
            assertThat(e.active()).isEmpty();
        }
    }
}

package dev.sluice.alert;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.admission.CircuitBreaker;
import dev.sluice.admission.OperatingMode;
import dev.sluice.config.AlertConfig;
import dev.sluice.config.AlertConfig.Thresholds;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** Every rule's fire, escalate, de-escalate and clear, with the hold and the margin, on a fake clock. */
class EvaluatorTest {
    private static final Instant EPOCH = Instant.parse("2025-01-31T12:00:00Z");

    private long nanos = 5_000_000_000L;
    private final List<Observation.PoolReading> pools = new ArrayList<>();
    private final List<Observation.UpstreamReading> upstreams = new ArrayList<>();
    private TrafficWindow.Sample traffic;
    private final Histogram latency = new Histogram(1, 3_600_000_000L, 2);
    private long queries;
    private long errors;
    private long refusals;

    static AlertConfig config(Duration hold, int minQueries) {
        AlertConfig d = AlertConfig.defaults();
        return new AlertConfig(true, hold, Duration.ofSeconds(60), minQueries, d.poolUtilization(),
                d.queryLatencyP95(), d.errorRate(), d.queueWait(), true, true, List.of(), d.webhookTimeout(),
                d.webhookRetries(), d.webhookBackoff(), d.webhookQueueSize());
    }

    private Observation observe() {
        return new Observation(nanos, EPOCH.plusNanos(nanos), List.copyOf(pools), List.copyOf(upstreams), traffic);
    }

    private void advance(Duration d) {
        nanos += d.toNanos();
    }

    private void pool(int inUse, int size) {
        pools.clear();
        pools.add(new Observation.PoolReading("app/app", size, inUse, 0));
    }

    private void waiting(Duration oldest) {
        pools.clear();
        pools.add(new Observation.PoolReading("app/app", 10, 0, oldest.toNanos()));
    }

    /** Records {@code n} more completed queries of {@code each} and takes a cumulative reading. */
    private void queries(int n, Duration each, int failed, int refused) {
        for (int i = 0; i < n; i++) {
            latency.recordValue(Math.max(1, each.toNanos() / 1000));
        }
        queries += n;
        errors += failed;
        refusals += refused;
        traffic = new TrafficWindow.Sample(nanos, latency.copy(), queries, errors, refusals);
    }

    private void upstream(CircuitBreaker.State circuit, OperatingMode.Mode mode) {
        upstreams.clear();
        upstreams.add(new Observation.UpstreamReading("127.0.0.1:5432", circuit, mode));
    }

    // ---- pool utilisation

    @Test
    void poolUtilization_firesAfterHold_escalates_deescalates_andClearsOnlyBelowTheMargin() {
        Evaluator ev = new Evaluator(config(Duration.ofSeconds(10), 10));
        pool(8, 10);
        assertThat(ev.evaluate(observe())).isEmpty();
        advance(Duration.ofSeconds(9));
        assertThat(ev.evaluate(observe())).as("held 9 s of 10").isEmpty();
        assertThat(ev.active()).isEmpty();
        advance(Duration.ofSeconds(1));
        List<AlertEvent> fired = ev.evaluate(observe());
        assertThat(fired).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(AlertEvent.Kind.FIRED);
            assertThat(e.name()).isEqualTo("pool_utilization");
            assertThat(e.severity()).isEqualTo(Severity.WARNING);
            assertThat(e.state()).isEqualTo("firing");
            assertThat(e.value()).isEqualTo(80.0);
            assertThat(e.threshold()).isEqualTo(80.0);
            assertThat(e.unit()).isEqualTo("percent");
            assertThat(e.labels()).isEqualTo(Map.of("pool", "app/app"));
            assertThat(e.message()).isEqualTo("pool app/app: 8 of 10 server connections in use (80%); warning at 80%");
            assertThat(e.startedAt()).isEqualTo(e.at());
        });
        Instant started = fired.get(0).startedAt();

        pool(10, 10);
        assertThat(ev.evaluate(observe())).as("critical not held yet").isEmpty();
        advance(Duration.ofSeconds(10));
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(AlertEvent.Kind.ESCALATED);
            assertThat(e.severity()).isEqualTo(Severity.CRITICAL);
            assertThat(e.threshold()).isEqualTo(95.0);
            assertThat(e.startedAt()).isEqualTo(started);
        });
        assertThat(ev.active()).singleElement().satisfies(a -> assertThat(a.severity()).isEqualTo(Severity.CRITICAL));

        pool(9, 10); // 90%: below 95 but not below 95 × 0.9 = 85.5
        advance(Duration.ofSeconds(1));
        assertThat(ev.evaluate(observe())).isEmpty();
        pool(85, 100); // 85% < 85.5
        advance(Duration.ofSeconds(1));
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(AlertEvent.Kind.DEESCALATED);
            assertThat(e.severity()).isEqualTo(Severity.WARNING);
            assertThat(e.threshold()).isEqualTo(80.0);
        });

        pool(72, 100); // below 80 but not below 80 × 0.9 = 72
        advance(Duration.ofSeconds(1));
        assertThat(ev.evaluate(observe())).isEmpty();
        assertThat(ev.active()).hasSize(1);
        pool(71, 100);
        advance(Duration.ofSeconds(1));
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(AlertEvent.Kind.RESOLVED);
            assertThat(e.state()).isEqualTo("resolved");
            assertThat(e.severity()).isEqualTo(Severity.WARNING);
            assertThat(e.value()).isEqualTo(71.0);
            assertThat(e.startedAt()).isEqualTo(started);
            assertThat(e.message()).endsWith("; resolved (below 72%)");
        });
        assertThat(ev.active()).isEmpty();
    }

    @Test
    void poolUtilization_aDipBelowTheThresholdRestartsTheHold() {
        Evaluator ev = new Evaluator(config(Duration.ofSeconds(10), 10));
        pool(8, 10);
        ev.evaluate(observe());
        advance(Duration.ofSeconds(5));
        pool(7, 10);
        assertThat(ev.evaluate(observe())).isEmpty();
        advance(Duration.ofSeconds(1));
        pool(8, 10);
        assertThat(ev.evaluate(observe())).isEmpty();
        advance(Duration.ofSeconds(9));
        assertThat(ev.evaluate(observe())).as("9 s since the dip").isEmpty();
        advance(Duration.ofSeconds(1));
        assertThat(ev.evaluate(observe())).singleElement()
                .satisfies(e -> assertThat(e.kind()).isEqualTo(AlertEvent.Kind.FIRED));
    }

    @Test
    void poolUtilization_straightToCritical_firesOnceAsCritical() {
        Evaluator ev = new Evaluator(config(Duration.ofSeconds(10), 10));
        pool(2, 2);
        List<AlertEvent> all = new ArrayList<>();
        for (int i = 0; i <= 10; i++) {
            all.addAll(ev.evaluate(observe()));
            advance(Duration.ofSeconds(1));
        }
        assertThat(all).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(AlertEvent.Kind.FIRED);
            assertThat(e.severity()).isEqualTo(Severity.CRITICAL);
            assertThat(e.value()).isEqualTo(100.0);
        });
    }

    @Test
    void holdZero_firesAtTheFirstEvaluation_andClearsAtTheFirstBelowTheMargin() {
        Evaluator ev = new Evaluator(config(Duration.ZERO, 10));
        pool(2, 2);
        assertThat(ev.evaluate(observe())).singleElement()
                .satisfies(e -> assertThat(e.severity()).isEqualTo(Severity.CRITICAL));
        pool(0, 2);
        advance(Duration.ofSeconds(1));
        assertThat(ev.evaluate(observe())).singleElement()
                .satisfies(e -> assertThat(e.kind()).isEqualTo(AlertEvent.Kind.RESOLVED));
    }

    @Test
    void criticalAfterResolve_isANewFiring() {
        Evaluator ev = new Evaluator(config(Duration.ZERO, 10));
        pool(2, 2);
        Instant first = ev.evaluate(observe()).get(0).startedAt();
        pool(0, 2);
        advance(Duration.ofSeconds(1));
        ev.evaluate(observe());
        pool(2, 2);
        advance(Duration.ofSeconds(1));
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(AlertEvent.Kind.FIRED);
            assertThat(e.startedAt()).isAfter(first);
        });
    }

    @Test
    void warningLevelOff_firesOnlyAsCritical_andClearsBelowTheCriticalMargin() {
        AlertConfig d = config(Duration.ZERO, 10);
        AlertConfig c = new AlertConfig(true, d.holdFor(), d.window(), d.minQueries(), new Thresholds(0, 90),
                d.queryLatencyP95(), d.errorRate(), d.queueWait(), false, false, List.of(), d.webhookTimeout(),
                d.webhookRetries(), d.webhookBackoff(), d.webhookQueueSize());
        Evaluator ev = new Evaluator(c);
        pool(85, 100);
        assertThat(ev.evaluate(observe())).isEmpty();
        pool(90, 100);
        assertThat(ev.evaluate(observe())).singleElement()
                .satisfies(e -> assertThat(e.severity()).isEqualTo(Severity.CRITICAL));
        pool(81, 100); // 90 × 0.9 = 81: not below
        assertThat(ev.evaluate(observe())).isEmpty();
        pool(80, 100);
        assertThat(ev.evaluate(observe())).singleElement()
                .satisfies(e -> assertThat(e.kind()).isEqualTo(AlertEvent.Kind.RESOLVED));
    }

    @Test
    void ruleOff_neverFires() {
        AlertConfig d = config(Duration.ZERO, 10);
        AlertConfig c = new AlertConfig(true, d.holdFor(), d.window(), d.minQueries(), new Thresholds(0, 0),
                d.queryLatencyP95(), d.errorRate(), d.queueWait(), false, false, List.of(), d.webhookTimeout(),
                d.webhookRetries(), d.webhookBackoff(), d.webhookQueueSize());
        Evaluator ev = new Evaluator(c);
        pool(10, 10);
        assertThat(ev.evaluate(observe())).isEmpty();
    }

    @Test
    void poolGone_resolvesItsAlert() {
        Evaluator ev = new Evaluator(config(Duration.ZERO, 10));
        pool(2, 2);
        ev.evaluate(observe());
        pools.clear();
        advance(Duration.ofSeconds(1));
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(AlertEvent.Kind.RESOLVED);
            assertThat(e.message()).isEqualTo("pool app/app: no longer observed; resolved");
        });
        assertThat(ev.active()).isEmpty();
    }

    @Test
    void twoPools_areSeparateAlerts() {
        Evaluator ev = new Evaluator(config(Duration.ZERO, 10));
        pools.add(new Observation.PoolReading("app/app", 2, 2, 0));
        pools.add(new Observation.PoolReading("app/md5user", 2, 0, 0));
        pools.add(new Observation.PoolReading("other/app", 10, 9, 0));
        assertThat(ev.evaluate(observe())).extracting(e -> e.labels().get("pool"), AlertEvent::severity)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("app/app", Severity.CRITICAL),
                        org.assertj.core.groups.Tuple.tuple("other/app", Severity.WARNING));
    }

    // ---- queue wait

    @Test
    void queueWait_firesAfterHold_escalates_andClears() {
        Evaluator ev = new Evaluator(config(Duration.ofSeconds(2), 10));
        waiting(Duration.ofMillis(1500));
        assertThat(ev.evaluate(observe())).isEmpty();
        advance(Duration.ofSeconds(2));
        waiting(Duration.ofMillis(3500));
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.name()).isEqualTo("queue_wait");
            assertThat(e.severity()).isEqualTo(Severity.WARNING);
            assertThat(e.unit()).isEqualTo("seconds");
            assertThat(e.value()).isEqualTo(3.5);
            assertThat(e.threshold()).isEqualTo(1.0);
            assertThat(e.message()).isEqualTo(
                    "pool app/app: the oldest waiting request has waited 3.50 s for a server connection; warning at 1 s");
        });
        advance(Duration.ofSeconds(1));
        waiting(Duration.ofSeconds(6));
        assertThat(ev.evaluate(observe())).isEmpty();
        advance(Duration.ofSeconds(2));
        waiting(Duration.ofSeconds(8));
        assertThat(ev.evaluate(observe())).singleElement()
                .satisfies(e -> assertThat(e.kind()).isEqualTo(AlertEvent.Kind.ESCALATED));
        advance(Duration.ofSeconds(1));
        waiting(Duration.ofMillis(950)); // above 1 s × 0.9: de-escalates, does not clear
        assertThat(ev.evaluate(observe())).singleElement()
                .satisfies(e -> assertThat(e.kind()).isEqualTo(AlertEvent.Kind.DEESCALATED));
        advance(Duration.ofSeconds(1));
        waiting(Duration.ZERO);
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(AlertEvent.Kind.RESOLVED);
            assertThat(e.message()).endsWith("; resolved (below 900 ms)");
        });
    }

    // ---- latency

    @Test
    void queryLatencyP95_firesFromTheWindow_escalates_andClearsWhenSlowQueriesLeaveTheWindow() {
        Evaluator ev = new Evaluator(config(Duration.ZERO, 10));
        queries(0, Duration.ZERO, 0, 0);
        assertThat(ev.evaluate(observe())).isEmpty();
        advance(Duration.ofSeconds(1));
        queries(100, Duration.ofMillis(1500), 0, 0);
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.name()).isEqualTo("query_latency_p95");
            assertThat(e.severity()).isEqualTo(Severity.WARNING);
            assertThat(e.labels()).isEmpty();
            assertThat(e.value()).isBetween(1.49, 1.52);
            assertThat(e.message()).startsWith("p95 query latency 1.5").contains("over the last 60 s (100 queries)");
        });
        advance(Duration.ofSeconds(1));
        queries(300, Duration.ofSeconds(6), 0, 0);
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(AlertEvent.Kind.ESCALATED);
            assertThat(e.value()).isBetween(5.9, 6.1);
        });
        // fast queries for a minute push the slow ones out of the window
        for (int i = 0; i < 59; i++) {
            advance(Duration.ofSeconds(1));
            queries(1, Duration.ofMillis(2), 0, 0);
            assertThat(ev.evaluate(observe())).isEmpty();
        }
        assertThat(ev.active()).as("the slow queries are a minute old only now").isNotEmpty();
        advance(Duration.ofSeconds(1));
        queries(1, Duration.ofMillis(2), 0, 0);
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(AlertEvent.Kind.RESOLVED);
            assertThat(e.value()).isLessThan(0.01);
        });
    }

    @Test
    void queryLatencyP95_fewerQueriesThanMinQueries_isNotJudged() {
        Evaluator ev = new Evaluator(config(Duration.ZERO, 10));
        queries(0, Duration.ZERO, 0, 0);
        ev.evaluate(observe());
        advance(Duration.ofSeconds(1));
        queries(9, Duration.ofSeconds(10), 0, 0);
        assertThat(ev.evaluate(observe())).isEmpty();
        advance(Duration.ofSeconds(1));
        queries(1, Duration.ofSeconds(10), 0, 0);
        assertThat(ev.evaluate(observe())).singleElement()
                .satisfies(e -> assertThat(e.severity()).isEqualTo(Severity.CRITICAL));
    }

    // ---- error rate

    @Test
    void errorRate_countsErrorsAndRefusalsOverRequests_firesEscalatesAndClears() {
        Evaluator ev = new Evaluator(config(Duration.ofSeconds(1), 10));
        queries(0, Duration.ZERO, 0, 0);
        ev.evaluate(observe());
        advance(Duration.ofSeconds(1));
        queries(98, Duration.ofMillis(1), 1, 2); // 3 failures of 100 requests
        assertThat(ev.evaluate(observe())).as("not held yet").isEmpty();
        advance(Duration.ofSeconds(1));
        queries(0, Duration.ZERO, 0, 0);
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.name()).isEqualTo("error_rate");
            assertThat(e.severity()).isEqualTo(Severity.WARNING);
            assertThat(e.value()).isEqualTo(3.0);
            assertThat(e.threshold()).isEqualTo(1.0);
            assertThat(e.message()).isEqualTo("3% of requests failed over the last 60 s (3 of 100); warning at 1%");
        });
        advance(Duration.ofSeconds(1));
        queries(100, Duration.ofMillis(1), 30, 0); // 33 of 200
        assertThat(ev.evaluate(observe())).isEmpty();
        advance(Duration.ofSeconds(1));
        queries(0, Duration.ZERO, 0, 0);
        assertThat(ev.evaluate(observe())).singleElement()
                .satisfies(e -> assertThat(e.kind()).isEqualTo(AlertEvent.Kind.ESCALATED));
        // a minute of clean traffic: the failures leave the window
        for (int i = 0; i < 60; i++) {
            advance(Duration.ofSeconds(1));
            queries(100, Duration.ofMillis(1), 0, 0);
            ev.evaluate(observe());
        }
        assertThat(ev.active()).isEmpty();
    }

    @Test
    void errorRate_tooFewRequests_countsAsZero() {
        Evaluator ev = new Evaluator(config(Duration.ZERO, 10));
        queries(0, Duration.ZERO, 0, 0);
        ev.evaluate(observe());
        advance(Duration.ofSeconds(1));
        queries(5, Duration.ofMillis(1), 5, 0);
        assertThat(ev.evaluate(observe())).isEmpty();
    }

    // ---- circuit and mode

    @Test
    void circuitOpen_firesCriticalAtOnce_staysWhileHalfOpen_resolvesWhenClosed() {
        Evaluator ev = new Evaluator(config(Duration.ofSeconds(10), 10));
        upstream(CircuitBreaker.State.CLOSED, OperatingMode.Mode.NORMAL);
        assertThat(ev.evaluate(observe())).isEmpty();
        upstream(CircuitBreaker.State.OPEN, OperatingMode.Mode.NORMAL);
        advance(Duration.ofSeconds(1));
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.name()).isEqualTo("circuit_open");
            assertThat(e.severity()).isEqualTo(Severity.CRITICAL);
            assertThat(e.labels()).isEqualTo(Map.of("upstream", "127.0.0.1:5432"));
            assertThat(e.value()).isEqualTo(1.0);
            assertThat(e.message()).isEqualTo("upstream 127.0.0.1:5432: circuit open (requests fail at once with 08006)");
        });
        upstream(CircuitBreaker.State.HALF_OPEN, OperatingMode.Mode.NORMAL);
        advance(Duration.ofSeconds(1));
        assertThat(ev.evaluate(observe())).isEmpty();
        assertThat(ev.active()).singleElement().satisfies(a -> assertThat(a.message()).contains("half-open"));
        upstream(CircuitBreaker.State.CLOSED, OperatingMode.Mode.NORMAL);
        advance(Duration.ofSeconds(1));
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(AlertEvent.Kind.RESOLVED);
            assertThat(e.value()).isZero();
        });
    }

    @Test
    void operatingMode_degradedWarns_emergencyEscalates_andBackDown() {
        Evaluator ev = new Evaluator(config(Duration.ofSeconds(10), 10));
        upstream(CircuitBreaker.State.CLOSED, OperatingMode.Mode.DEGRADED);
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.name()).isEqualTo("operating_mode");
            assertThat(e.kind()).isEqualTo(AlertEvent.Kind.FIRED);
            assertThat(e.severity()).isEqualTo(Severity.WARNING);
            assertThat(e.value()).isEqualTo(1.0);
        });
        upstream(CircuitBreaker.State.CLOSED, OperatingMode.Mode.EMERGENCY);
        assertThat(ev.evaluate(observe())).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(AlertEvent.Kind.ESCALATED);
            assertThat(e.severity()).isEqualTo(Severity.CRITICAL);
            assertThat(e.value()).isEqualTo(2.0);
        });
        upstream(CircuitBreaker.State.CLOSED, OperatingMode.Mode.DEGRADED);
        assertThat(ev.evaluate(observe())).singleElement()
                .satisfies(e -> assertThat(e.kind()).isEqualTo(AlertEvent.Kind.DEESCALATED));
        upstream(CircuitBreaker.State.CLOSED, OperatingMode.Mode.NORMAL);
        assertThat(ev.evaluate(observe())).singleElement()
                .satisfies(e -> assertThat(e.kind()).isEqualTo(AlertEvent.Kind.RESOLVED));
        assertThat(ev.active()).isEmpty();
    }

    @Test
    void activeAlert_messageFollowsTheValue() {
        Evaluator ev = new Evaluator(config(Duration.ZERO, 10));
        pool(9, 10);
        ev.evaluate(observe());
        pool(8, 10);
        ev.evaluate(observe());
        assertThat(ev.active()).singleElement().satisfies(a -> {
            assertThat(a.value()).isEqualTo(80.0);
            assertThat(a.message()).isEqualTo("pool app/app: 8 of 10 server connections in use (80%); warning at 80%");
        });
    }

    @Test
    void show_formatsPercentAndSeconds() {
        assertThat(Evaluator.show(95, "percent")).isEqualTo("95%");
        assertThat(Evaluator.show(2.54, "percent")).isEqualTo("2.5%");
        assertThat(Evaluator.show(0.85, "seconds")).isEqualTo("850 ms");
        assertThat(Evaluator.show(5, "seconds")).isEqualTo("5 s");
        assertThat(Evaluator.show(1.5, "seconds")).isEqualTo("1.50 s");
    }
}

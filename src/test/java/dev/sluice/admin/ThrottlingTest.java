package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.admin.Throttling.Advice;
import dev.sluice.admin.Throttling.Level;
import dev.sluice.admin.Throttling.UpstreamAdvice;
import dev.sluice.admin.Throttling.UpstreamLoad;
import dev.sluice.admission.CircuitBreaker.State;
import dev.sluice.admission.OperatingMode.Mode;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ThrottlingTest {
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    /** An upstream of capacity 10 with a queue of 100 places, nothing waiting. */
    private static UpstreamLoad quiet() {
        return new UpstreamLoad("db:5432", State.CLOSED, 0, Mode.NORMAL, 10, 3, 0, 100, 0, List.of());
    }

    private static UpstreamLoad waiting(int waiting, long oldestMillis) {
        return new UpstreamLoad("db:5432", State.CLOSED, 0, Mode.NORMAL, 10, 10, waiting, 100,
                oldestMillis * 1_000_000, List.of());
    }

    @Test
    void advise_quietUpstream_isNoneWithTheFullCapacity() {
        UpstreamAdvice a = Throttling.advise(quiet(), DEADLINE);
        assertThat(a.level()).isEqualTo(Level.NONE);
        assertThat(a.suggestedMaxConcurrency()).isEqualTo(10);
        assertThat(a.delayMillis()).isZero();
        assertThat(a.retryAfterSeconds()).isZero();
        assertThat(a.reasons()).isEmpty();
    }

    @Test
    void advise_aFewWaitingBriefly_isNoneButSuggestsCapacityMinusWaiting() {
        UpstreamAdvice a = Throttling.advise(waiting(3, 100), DEADLINE);
        assertThat(a.level()).isEqualTo(Level.NONE);
        assertThat(a.suggestedMaxConcurrency()).isEqualTo(7);
    }

    @Test
    void advise_asManyWaitingAsRunAtOnce_isSlowDown() {
        UpstreamAdvice a = Throttling.advise(waiting(10, 120), DEADLINE);
        assertThat(a.level()).isEqualTo(Level.SLOW_DOWN);
        assertThat(a.suggestedMaxConcurrency()).isEqualTo(1);
        assertThat(a.delayMillis()).isEqualTo(120);
        assertThat(a.reasons()).containsExactly(
                "upstream db:5432: 10 requests wait, at least as many as the 10 that run at once");
    }

    @Test
    void advise_slowDownDelay_hasAFloor() {
        assertThat(Throttling.advise(waiting(10, 1), DEADLINE).delayMillis())
                .isEqualTo(Throttling.MIN_SLOW_DOWN_DELAY_MS);
    }

    @Test
    void advise_oldestWaitAgainstTheDeadline_slowsThenSheds() {
        UpstreamAdvice quarter = Throttling.advise(waiting(2, 2_500), DEADLINE);
        assertThat(quarter.level()).isEqualTo(Level.SLOW_DOWN);
        assertThat(quarter.reasons()).containsExactly(
                "upstream db:5432: oldest request has waited 2500 ms of the 10000 ms deadline (57014 past it)");
        assertThat(Throttling.advise(waiting(2, 2_499), DEADLINE).level()).isEqualTo(Level.NONE);
        UpstreamAdvice half = Throttling.advise(waiting(2, 5_000), DEADLINE);
        assertThat(half.level()).isEqualTo(Level.SHED);
        assertThat(half.suggestedMaxConcurrency()).isEqualTo(4); // (10 - 2) / 2
        assertThat(half.delayMillis()).isEqualTo(5_000);
    }

    @Test
    void advise_queueFill_slowsAtHalfAndShedsAtNinetyPercent() {
        assertThat(Throttling.advise(waiting(49, 0), DEADLINE).reasons()).noneMatch(r -> r.contains("queue places"));
        UpstreamAdvice half = Throttling.advise(waiting(50, 0), DEADLINE);
        assertThat(half.level()).isEqualTo(Level.SLOW_DOWN);
        assertThat(half.reasons()).contains("upstream db:5432: 50 of 100 queue places taken");
        UpstreamAdvice full = Throttling.advise(waiting(90, 0), DEADLINE);
        assertThat(full.level()).isEqualTo(Level.SHED);
        assertThat(full.reasons()).contains("upstream db:5432: 90 of 100 queue places taken (refused with 53300 when full)");
        assertThat(full.delayMillis()).isEqualTo(Throttling.MIN_SHED_DELAY_MS);
    }

    @Test
    void advise_modes() {
        UpstreamLoad degraded = new UpstreamLoad("db:5432", State.CLOSED, 0, Mode.DEGRADED, 10, 3, 0, 100, 0, List.of());
        assertThat(Throttling.advise(degraded, DEADLINE).level()).isEqualTo(Level.SLOW_DOWN);
        assertThat(Throttling.advise(degraded, DEADLINE).reasons()).containsExactly("upstream db:5432: degraded mode");
        UpstreamLoad emergency = new UpstreamLoad("db:5432", State.CLOSED, 0, Mode.EMERGENCY, 10, 3, 0, 100, 0,
                List.of());
        UpstreamAdvice a = Throttling.advise(emergency, DEADLINE);
        assertThat(a.level()).isEqualTo(Level.SHED);
        assertThat(a.suggestedMaxConcurrency()).isEqualTo(5);
        assertThat(a.reasons()).containsExactly(
                "upstream db:5432: emergency mode: low and background requests are refused (53300)");
    }

    @Test
    void advise_openCircuit_shedsWithNoConcurrencyAndItsCoolDown() {
        UpstreamLoad open = new UpstreamLoad("db:5432", State.OPEN, 4_200_000_000L, Mode.NORMAL, 10, 0, 0, 100, 0,
                List.of());
        UpstreamAdvice a = Throttling.advise(open, DEADLINE);
        assertThat(a.level()).isEqualTo(Level.SHED);
        assertThat(a.suggestedMaxConcurrency()).isZero();
        assertThat(a.retryAfterSeconds()).isEqualTo(5);
        assertThat(a.delayMillis()).isEqualTo(4_200);
        assertThat(a.reasons()).containsExactly(
                "upstream db:5432: circuit open (PostgreSQL unreachable); requests fail with 08006 for about 5 s more");
    }

    @Test
    void advise_delayNeverExceedsTheDeadline() {
        UpstreamLoad open = new UpstreamLoad("db:5432", State.OPEN, 60_000_000_000L, Mode.NORMAL, 10, 0, 0, 100, 0,
                List.of());
        assertThat(Throttling.advise(open, DEADLINE).delayMillis()).isEqualTo(10_000);
        assertThat(Throttling.advise(open, DEADLINE).retryAfterSeconds()).isEqualTo(60);
    }

    @Test
    void advise_halfOpenCircuitOrPausedPool_slowsDown() {
        UpstreamLoad halfOpen = new UpstreamLoad("db:5432", State.HALF_OPEN, 0, Mode.NORMAL, 10, 1, 0, 100, 0,
                List.of());
        assertThat(Throttling.advise(halfOpen, DEADLINE).level()).isEqualTo(Level.SLOW_DOWN);
        UpstreamLoad paused = new UpstreamLoad("db:5432", State.CLOSED, 0, Mode.NORMAL, 10, 0, 0, 100, 0,
                List.of("app/app"));
        UpstreamAdvice a = Throttling.advise(paused, DEADLINE);
        assertThat(a.level()).isEqualTo(Level.SLOW_DOWN);
        assertThat(a.reasons()).containsExactly("pool app/app is paused: its requests wait until it is resumed");
    }

    @Test
    void advise_overall_takesTheWorstLevelAndSumsConcurrency() {
        UpstreamLoad open = new UpstreamLoad("down:5432", State.OPEN, 1_500_000_000L, Mode.NORMAL, 5, 0, 0, 100, 0,
                List.of());
        Advice a = Throttling.advise(List.of(quiet(), waiting(10, 300), open), DEADLINE, 99);
        assertThat(a.level()).isEqualTo(Level.SHED);
        assertThat(a.suggestedMaxConcurrency()).isEqualTo(10 + 1 + 0);
        assertThat(a.delayMillis()).isEqualTo(1_500);
        assertThat(a.retryAfterSeconds()).isEqualTo(2);
        assertThat(a.reasons()).hasSize(2);
        assertThat(a.upstreams()).extracting(UpstreamAdvice::level)
                .containsExactly(Level.NONE, Level.SLOW_DOWN, Level.SHED);
    }

    @Test
    void advise_noUpstreamYet_isNoneWithTheConfiguredCapacity() {
        Advice a = Throttling.advise(List.of(), DEADLINE, 40);
        assertThat(a.level()).isEqualTo(Level.NONE);
        assertThat(a.suggestedMaxConcurrency()).isEqualTo(40);
        assertThat(a.upstreams()).isEmpty();
    }

    @Test
    void document_usesTheDocumentedNames() {
        var doc = Throttling.document(Throttling.advise(List.of(waiting(10, 300)), DEADLINE, 0));
        assertThat(doc).containsOnlyKeys("level", "suggested_max_concurrency", "delay_ms", "retry_after_s", "reasons",
                "upstreams");
        assertThat(doc.get("level")).isEqualTo("slow_down");
    }
}

package dev.sluice.admission;

import static dev.sluice.admission.CircuitBreaker.State.CLOSED;
import static dev.sluice.admission.CircuitBreaker.State.HALF_OPEN;
import static dev.sluice.admission.CircuitBreaker.State.OPEN;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
    private final FakeTicker ticker = new FakeTicker();
    private final List<String> transitions = new ArrayList<>();
    private final CircuitBreaker breaker = new CircuitBreaker("db1",
            new CircuitBreaker.Settings(3, Duration.ofSeconds(5), Duration.ofSeconds(20), 2.0, 2), ticker,
            (upstream, from, to, reason) -> transitions.add(upstream + " " + from + "->" + to));

    private void fail(int times) {
        for (int i = 0; i < times; i++) {
            assertThat(breaker.tryAcquirePermission()).isTrue();
            breaker.onFailure();
        }
    }

    @Test
    void opensAfterConsecutiveFailures_andFailsFast() {
        fail(2);
        assertThat(breaker.state()).isEqualTo(CLOSED);
        fail(1);

        assertThat(breaker.state()).isEqualTo(OPEN);
        assertThat(breaker.tryAcquirePermission()).isFalse();
        assertThat(breaker.retryAfterNanos()).isEqualTo(Duration.ofSeconds(5).toNanos());
        assertThat(transitions).containsExactly("db1 CLOSED->OPEN");
    }

    @Test
    void successResetsTheConsecutiveCount() {
        fail(2);
        breaker.onSuccess();
        fail(2);
        assertThat(breaker.state()).isEqualTo(CLOSED);
    }

    @Test
    void afterCoolDown_halfOpenLetsKProbesThrough_andSuccessCloses() {
        fail(3);
        ticker.advance(Duration.ofSeconds(4));
        assertThat(breaker.tryAcquirePermission()).isFalse();
        ticker.advance(Duration.ofSeconds(1));

        assertThat(breaker.tryAcquirePermission()).isTrue();
        assertThat(breaker.state()).isEqualTo(HALF_OPEN);
        assertThat(breaker.tryAcquirePermission()).isTrue();
        assertThat(breaker.tryAcquirePermission()).isFalse();

        breaker.onSuccess();
        assertThat(breaker.state()).isEqualTo(CLOSED);
        assertThat(breaker.tryAcquirePermission()).isTrue();
        assertThat(transitions).containsExactly("db1 CLOSED->OPEN", "db1 OPEN->HALF_OPEN", "db1 HALF_OPEN->CLOSED");
    }

    @Test
    void failedProbe_reopensWithBackedOffCoolDown_upToTheMaximum() {
        fail(3);
        long[] expected = {10, 20, 20};
        ticker.advance(Duration.ofSeconds(5));
        for (long seconds : expected) {
            assertThat(breaker.tryAcquirePermission()).isTrue();
            breaker.onFailure();
            assertThat(breaker.state()).isEqualTo(OPEN);
            assertThat(breaker.retryAfterNanos()).isEqualTo(Duration.ofSeconds(seconds).toNanos());
            ticker.advance(Duration.ofSeconds(seconds));
        }
        assertThat(breaker.tryAcquirePermission()).isTrue();
        breaker.onSuccess();

        // closing resets the cool-down
        fail(3);
        assertThat(breaker.retryAfterNanos()).isEqualTo(Duration.ofSeconds(5).toNanos());
    }

    @Test
    void outcomesReportedWhileOpen_areIgnored() {
        fail(3);
        breaker.onSuccess();
        breaker.onFailure();
        assertThat(breaker.state()).isEqualTo(OPEN);
        assertThat(breaker.retryAfterNanos()).isEqualTo(Duration.ofSeconds(5).toNanos());
    }

    @Test
    void lostProbes_areForgottenAfterACoolDown() {
        fail(3);
        ticker.advance(Duration.ofSeconds(5));
        assertThat(breaker.tryAcquirePermission()).isTrue();
        assertThat(breaker.tryAcquirePermission()).isTrue();
        assertThat(breaker.tryAcquirePermission()).isFalse();

        ticker.advance(Duration.ofSeconds(5));
        assertThat(breaker.tryAcquirePermission()).isTrue();
        assertThat(breaker.state()).isEqualTo(HALF_OPEN);
    }
}

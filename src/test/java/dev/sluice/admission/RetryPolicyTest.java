package dev.sluice.admission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.admission.RetryPolicy.Failure;
import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
    private double nextRandom = 0.5;
    private final RetryPolicy policy = new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(25), () -> nextRandom);

    private static Failure autocommit(String sqlState, int attemptsMade) {
        return new Failure(sqlState, false, true, false, false, attemptsMade);
    }

    @Test
    void serializationFailureAndDeadlock_areRetried() {
        assertThat(policy.retryDelay(autocommit("40001", 1))).isPresent();
        assertThat(policy.retryDelay(autocommit("40P01", 1))).isPresent();
    }

    @Test
    void otherErrors_areNotRetried() {
        assertThat(policy.retryDelay(autocommit("23505", 1))).isEmpty();
        assertThat(policy.retryDelay(autocommit("57014", 1))).isEmpty();
        assertThat(policy.retryDelay(autocommit("08006", 1))).isEmpty();
    }

    @Test
    void insideAnExplicitTransaction_neverRetried() {
        assertThat(policy.retryDelay(new Failure("40P01", true, true, false, false, 1))).isEmpty();
    }

    @Test
    void afterARowOrCommandCompleteReachedTheClient_notRetried() {
        assertThat(policy.retryDelay(new Failure("40001", false, true, true, false, 1))).isEmpty();
        assertThat(policy.retryDelay(new Failure("40001", false, true, false, true, 1))).isEmpty();
    }

    @Test
    void oneOfSeveralStatements_notRetried() {
        assertThat(policy.retryDelay(new Failure("40001", false, false, false, false, 1))).isEmpty();
    }

    @Test
    void attemptsIncludeTheFirst_defaultThreeMeansTwoRetries() {
        assertThat(policy.retryDelay(autocommit("40001", 2))).isPresent();
        assertThat(policy.retryDelay(autocommit("40001", 3))).isEmpty();
        assertThat(RetryPolicy.defaults().maxAttempts()).isEqualTo(3);
    }

    @Test
    void delay_isFullJitterUnderAnExponentialCeiling_capped() {
        RetryPolicy p = new RetryPolicy(10, Duration.ofMillis(10), Duration.ofMillis(25), () -> nextRandom);
        nextRandom = 0.5;
        assertThat(p.retryDelay(autocommit("40001", 1))).isEqualTo(OptionalLong.of(Duration.ofMillis(5).toNanos()));
        assertThat(p.retryDelay(autocommit("40001", 2))).isEqualTo(OptionalLong.of(Duration.ofMillis(10).toNanos()));
        assertThat(p.retryDelay(autocommit("40001", 3))).isEqualTo(OptionalLong.of(Duration.ofMillis(12).toNanos() + 500_000));
        assertThat(p.retryDelay(autocommit("40001", 9))).isEqualTo(OptionalLong.of(Duration.ofMillis(12).toNanos() + 500_000));

        nextRandom = 0.0;
        assertThat(p.retryDelay(autocommit("40001", 2))).isEqualTo(OptionalLong.of(0));
        nextRandom = 0.999999;
        assertThat(p.retryDelay(autocommit("40001", 2)).getAsLong()).isLessThan(Duration.ofMillis(20).toNanos());
    }
}

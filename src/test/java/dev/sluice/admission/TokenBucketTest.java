package dev.sluice.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TokenBucketTest {
    private final FakeTicker ticker = new FakeTicker();

    @Test
    void allowsTheBurst_thenAnswersRetryAfter() {
        TokenBucket bucket = new TokenBucket(10, 3, ticker);
        assertThat(bucket.tryAcquire("u")).isZero();
        assertThat(bucket.tryAcquire("u")).isZero();
        assertThat(bucket.tryAcquire("u")).isZero();

        assertThat(bucket.tryAcquire("u")).isEqualTo(Duration.ofMillis(100).toNanos());
    }

    @Test
    void refillsAtTheRate() {
        TokenBucket bucket = new TokenBucket(10, 1, ticker);
        assertThat(bucket.tryAcquire("u")).isZero();
        ticker.advance(Duration.ofMillis(40));
        assertThat(bucket.tryAcquire("u")).isEqualTo(Duration.ofMillis(60).toNanos());
        ticker.advance(Duration.ofMillis(60));
        assertThat(bucket.tryAcquire("u")).isZero();
    }

    @Test
    void refusedRequestsTakeNoToken() {
        TokenBucket bucket = new TokenBucket(1, 1, ticker);
        bucket.tryAcquire("u");
        for (int i = 0; i < 5; i++) {
            assertThat(bucket.tryAcquire("u")).isPositive();
        }
        ticker.advance(Duration.ofSeconds(1));
        assertThat(bucket.tryAcquire("u")).isZero();
    }

    @Test
    void keysHaveSeparateBuckets() {
        TokenBucket bucket = new TokenBucket(1, 1, ticker);
        assertThat(bucket.tryAcquire("a")).isZero();
        assertThat(bucket.tryAcquire("b")).isZero();
        assertThat(bucket.tryAcquire("a")).isPositive();
    }

    @Test
    void burstNeverExceedsCapacity_afterLongIdle() {
        TokenBucket bucket = new TokenBucket(100, 2, ticker);
        bucket.tryAcquire("u");
        ticker.advance(Duration.ofHours(1));
        assertThat(bucket.tryAcquire("u")).isZero();
        assertThat(bucket.tryAcquire("u")).isZero();
        assertThat(bucket.tryAcquire("u")).isPositive();
    }

    @Test
    void sweep_forgetsFullBuckets_only() {
        TokenBucket bucket = new TokenBucket(1, 1, ticker);
        bucket.tryAcquire("old");
        ticker.advance(Duration.ofSeconds(2));
        bucket.tryAcquire("recent");

        bucket.sweep();

        assertThat(bucket.trackedKeys()).isEqualTo(1);
        assertThat(bucket.tryAcquire("recent")).isPositive();
    }
}

package dev.sluice.admission;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A rate limiter per key (a user or an application_name): each key has a bucket of
 * {@code burst} tokens refilled at {@code ratePerSecond}; a request takes one token.
 *
 * <p>{@link #tryAcquire} returns 0 when the request may go, otherwise how many nanoseconds until
 * a token will be there, for a 53300 message with a retry-after hint. A refused request takes no
 * token. A bucket that has refilled completely is the same as no bucket, so {@link #sweep()}
 * (called by the caller's periodic upkeep, and by {@code tryAcquire} when more than
 * {@code 10_000} keys are tracked) forgets those: keys chosen by clients cannot grow memory
 * without bound (a request racing with the sweep of its key's full bucket may get one token
 * extra). Thread-safe: a short lock per bucket.
 */
public final class TokenBucket {
    private static final int SWEEP_ABOVE = 10_000;
    private static final double NANOS_PER_SECOND = 1e9;

    private final double tokensPerNano;
    private final double burst;
    private final Ticker ticker;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    /**
     * @param ratePerSecond tokens added per second (> 0)
     * @param burst         most tokens a bucket holds, and what a new key starts with (>= 1)
     */
    public TokenBucket(double ratePerSecond, int burst, Ticker ticker) {
        if (!(ratePerSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("rate " + ratePerSecond + "/s, burst " + burst
                    + " (expected: rate > 0, burst >= 1)");
        }
        this.tokensPerNano = ratePerSecond / NANOS_PER_SECOND;
        this.burst = burst;
        this.ticker = Objects.requireNonNull(ticker);
    }

    /** 0 if {@code key} may proceed now (a token was taken), else nanoseconds until it may. */
    public long tryAcquire(String key) {
        long now = ticker.read();
        if (buckets.size() > SWEEP_ABOVE) {
            sweep();
        }
        Bucket b = buckets.computeIfAbsent(key, k -> new Bucket(burst, now));
        synchronized (b) {
            b.refill(now, tokensPerNano, burst);
            if (b.tokens >= 1) {
                b.tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - b.tokens) / tokensPerNano));
        }
    }

    /** Forgets the buckets that are full again. */
    public void sweep() {
        long now = ticker.read();
        buckets.values().removeIf(b -> {
            synchronized (b) {
                b.refill(now, tokensPerNano, burst);
                return b.tokens >= burst;
            }
        });
    }

    /** Keys currently tracked (for status and tests). */
    public int trackedKeys() {
        return buckets.size();
    }

    private static final class Bucket {
        double tokens;
        long updatedAt;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.updatedAt = now;
        }

        void refill(long now, double tokensPerNano, double burst) {
            long elapsed = now - updatedAt;
            if (elapsed > 0) {
                tokens = Math.min(burst, tokens + elapsed * tokensPerNano);
                updatedAt = now;
            }
        }
    }
}

package dev.sluice.admission;

import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.DoubleSupplier;

/**
 * Decides whether a failed statement may be run again transparently, and after what delay.
 *
 * <p>Contract: {@link #retryDelay} answers a delay only when all of these hold, otherwise empty
 * (the error goes to the client as it is):
 * <ul>
 * <li>the SQLSTATE is 40001 (serialization_failure) or 40P01 (deadlock_detected): PostgreSQL
 *     rolled the statement back, so it did not commit;</li>
 * <li>the statement ran alone in autocommit: not inside an explicit transaction (a retry would
 *     replay only part of it), and not one of several statements of one simple Query;</li>
 * <li>nothing of its result reached the client: no DataRow and no CommandComplete;</li>
 * <li>fewer than {@link #maxAttempts()} executions have been made, the first one included
 *     (default 3: the original and up to two retries).</li>
 * </ul>
 * The delay is exponential backoff with full jitter: uniform in
 * {@code [0, min(maxDelay, baseDelay × 2^(attemptsMade − 1)))}, drawn from the injected random
 * source. Immutable and thread-safe if the random source is.
 */
public final class RetryPolicy {

    private static final Set<String> RETRYABLE = Set.of("40001", "40P01");

    /**
     * What happened to one execution of a statement.
     *
     * @param sqlState               SQLSTATE of the error
     * @param inExplicitTransaction  whether it ran inside BEGIN ... COMMIT
     * @param singleStatement        whether it was the only statement of its Query or
     *                               extended-protocol sync
     * @param rowSent                whether a DataRow of it reached the client
     * @param commandCompleteSent    whether a CommandComplete of it reached the client
     * @param attemptsMade           executions made so far, the failed one included (>= 1)
     */
    public record Failure(String sqlState, boolean inExplicitTransaction, boolean singleStatement,
                          boolean rowSent, boolean commandCompleteSent, int attemptsMade) {
    }

    private final int maxAttempts;
    private final long baseNanos;
    private final long maxNanos;
    private final DoubleSupplier random;

    /**
     * @param maxAttempts most executions of one statement, the first included (>= 1; 1 = never retry)
     * @param baseDelay   upper bound of the first retry's delay
     * @param maxDelay    upper bound of any delay
     * @param random      uniform values in [0, 1)
     */
    public RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay, DoubleSupplier random) {
        if (maxAttempts < 1 || baseDelay.isNegative() || maxDelay.compareTo(baseDelay) < 0) {
            throw new IllegalArgumentException("retry attempts " + maxAttempts + ", delay " + baseDelay + " up to "
                    + maxDelay + " (expected: attempts >= 1, 0 <= base delay <= max delay)");
        }
        this.maxAttempts = maxAttempts;
        this.baseNanos = baseDelay.toNanos();
        this.maxNanos = maxDelay.toNanos();
        this.random = Objects.requireNonNull(random);
    }

    /** 3 attempts, 10 ms base, 1 s cap, {@link java.util.concurrent.ThreadLocalRandom}. */
    public static RetryPolicy defaults() {
        return new RetryPolicy(3, Duration.ofMillis(10), Duration.ofSeconds(1),
                () -> java.util.concurrent.ThreadLocalRandom.current().nextDouble());
    }

    /** Nanoseconds to wait before running the statement again, or empty: do not retry. */
    public OptionalLong retryDelay(Failure f) {
        if (!RETRYABLE.contains(f.sqlState())
                || f.inExplicitTransaction()
                || !f.singleStatement()
                || f.rowSent()
                || f.commandCompleteSent()
                || f.attemptsMade() >= maxAttempts) {
            return OptionalLong.empty();
        }
        int shift = Math.min(62, Math.max(0, f.attemptsMade() - 1));
        long ceiling = baseNanos > (maxNanos >> shift) ? maxNanos : Math.min(maxNanos, baseNanos << shift);
        double r = Math.min(Math.max(random.getAsDouble(), 0.0), Math.nextDown(1.0));
        return OptionalLong.of((long) (r * ceiling));
    }

    public int maxAttempts() {
        return maxAttempts;
    }
}

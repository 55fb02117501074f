package dev.sluice.it.support;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for a condition with a bounded deadline, polling with a short park. Tests use it instead
 * of sleeping: the wait ends as soon as the condition holds, and fails loudly when it never does.
 */
public final class Await {

    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private Await() {
    }

    /** Polls {@code condition} until it is true; fails with an {@link AssertionError} after {@code timeout}. */
    public static void until(Duration timeout, BooleanSupplier condition) {
        until(timeout, condition, () -> "condition");
    }

    /** As {@link #until(Duration, BooleanSupplier)}, naming {@code what} in the failure. */
    public static void until(Duration timeout, String what, BooleanSupplier condition) {
        until(timeout, condition, () -> what);
    }

    /** As {@link #until(Duration, BooleanSupplier)}; {@code what} describes the condition in the failure. */
    public static void until(Duration timeout, BooleanSupplier condition, Supplier<String> what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not reached within " + timeout.toMillis() + " ms: " + what.get());
            }
            LockSupport.parkNanos(POLL_NANOS);
            if (Thread.interrupted()) {
                throw new AssertionError("interrupted while waiting for: " + what.get());
            }
        }
    }
}

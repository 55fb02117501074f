package dev.sluice.it.support;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Waits for a condition with a bounded deadline, polling with a short park (never a fixed sleep). */
public final class Await {

    private static final long POLL_NANOS = Duration.ofMillis(10).toNanos();

    private Await() {
    }

    /**
     * Returns once {@code condition} holds.
     *
     * @throws AssertionError when it still does not hold after {@code timeout}
     */
    public static void until(Duration timeout, BooleanSupplier condition) {
        until(timeout, "condition", condition);
    }

    /** As {@link #until(Duration, BooleanSupplier)}, naming {@code what} in the failure. */
    public static void until(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(what + " did not hold within " + timeout.toMillis() + " ms");
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }
}

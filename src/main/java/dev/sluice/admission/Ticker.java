package dev.sluice.admission;

/**
 * A source of monotonic time in nanoseconds, injected into every admission decision so tests
 * advance a fake clock instead of sleeping. Only differences between two readings mean anything.
 */
@FunctionalInterface
public interface Ticker {

    /** The current reading in nanoseconds; never decreases. */
    long read();

    /** The JVM's monotonic clock, {@link System#nanoTime()}. */
    static Ticker system() {
        return System::nanoTime;
    }
}

package dev.sluice.admission;

import java.time.Duration;

/** A clock tests advance by hand. */
final class FakeTicker implements Ticker {
    private long now = 1_000_000_000L;

    @Override
    public long read() {
        return now;
    }

    void advance(Duration d) {
        now += d.toNanos();
    }

    void advanceNanos(long nanos) {
        now += nanos;
    }
}

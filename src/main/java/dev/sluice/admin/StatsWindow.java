package dev.sluice.admin;

import dev.sluice.admission.Priority;
import dev.sluice.stats.Traffic;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;

/**
 * The process-wide totals behind SHOW STATS, and the averages over the last stats period, as
 * PgBouncer computes them: {@link #roll} is called once per period (60 s) and keeps the last two
 * samples; averages are the difference between them divided by the time between them. Before the
 * second sample every average is 0.
 *
 * <p>Everything here is read from {@link Traffic}, whose counters are process-wide: Sluice does not
 * count per database yet, so SHOW STATS shows one row for all databases. Thread-safe: samples are
 * immutable and published through volatile fields.
 */
final class StatsWindow {

    /**
     * Totals at one moment. Times in microseconds.
     *
     * @param assignments requests that got a server connection (PgBouncer's server assignments)
     * @param queryMicros sum of query latencies as Sluice saw them, from the latency histogram
     *                    (mean times count, within the histogram's 1 % precision); waiting included
     * @param waitMicros  time requests waited for a server connection
     */
    record Sample(long atNanos, long assignments, long transactions, long queries, long received, long sent,
                  long queryMicros, long waitMicros) {
    }

    /**
     * Averages over the last period: counts and bytes per second, times per query or per
     * assignment in microseconds.
     */
    record Averages(long assignments, long transactions, long queries, long received, long sent,
                    long queryMicros, long waitMicros) {
        static final Averages NONE = new Averages(0, 0, 0, 0, 0, 0, 0);
    }

    private final Traffic traffic;
    private final LongSupplier nanoTime;
    private volatile Sample older;
    private volatile Sample newer;

    StatsWindow(Traffic traffic, LongSupplier nanoTime) {
        this.traffic = traffic;
        this.nanoTime = nanoTime;
        this.newer = now();
    }

    /** The totals now. */
    Sample now() {
        long assignments = 0;
        long waitNanos = 0;
        for (Priority p : Priority.values()) {
            assignments += traffic.admitted(p);
            waitNanos += traffic.waitNanos(p);
        }
        Histogram h = traffic.queryLatency().snapshot();
        long queryMicros = Math.round(h.getMean() * h.getTotalCount());
        return new Sample(nanoTime.getAsLong(), assignments, traffic.transactions(), traffic.queries(),
                traffic.bytesFromClients(), traffic.bytesToClients(), queryMicros, TimeUnit.NANOSECONDS.toMicros(waitNanos));
    }

    /** Takes the sample that ends a period. */
    void roll() {
        Sample s = now();
        older = newer;
        newer = s;
    }

    /** Averages between the last two samples. */
    Averages averages() {
        Sample a = older;
        Sample b = newer;
        if (a == null || b.atNanos() <= a.atNanos()) {
            return Averages.NONE;
        }
        double seconds = (b.atNanos() - a.atNanos()) / 1e9;
        long queries = b.queries() - a.queries();
        long assignments = b.assignments() - a.assignments();
        return new Averages(
                perSecond(assignments, seconds),
                perSecond(b.transactions() - a.transactions(), seconds),
                perSecond(queries, seconds),
                perSecond(b.received() - a.received(), seconds),
                perSecond(b.sent() - a.sent(), seconds),
                queries > 0 ? Math.max(0, b.queryMicros() - a.queryMicros()) / queries : 0,
                assignments > 0 ? (b.waitMicros() - a.waitMicros()) / assignments : 0);
    }

    private static long perSecond(long delta, double seconds) {
        return Math.round(delta / seconds);
    }
}

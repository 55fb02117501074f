package dev.sluice.stats;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Per-fingerprint statement statistics, in the spirit of pg_stat_statements, fed from the hot
 * path of every event loop and read by the admin API.
 *
 * <p>Use: when a statement arrives, take its id ({@code dev.sluice.sql.Fingerprinter.id}); when it
 * completes, {@link #record} it. The normalised text is asked for only when the id is new; a
 * caller that no longer holds the statement's bytes at completion checks {@link #contains} on
 * arrival and keeps the text until then.
 *
 * <p>Design notes. Entries live in 64 stripes chosen by the id's hash; each stripe is a small
 * long-keyed open-addressing table behind its own monitor, and every field of an entry is guarded
 * by its stripe's monitor. {@link #record} for a known id is one uncontended lock, a table probe,
 * a dozen field updates and one histogram increment: no allocation, no boxing. Two loops recording
 * the same hot fingerprint contend on its stripe (measured in bench/jmh, QueryStatsBenchmark);
 * different fingerprints meet only 1 time in 64. A new fingerprint builds its text outside any
 * lock, reserves one of the {@code maxFingerprints} places (the bound is strict), and inserts,
 * re-checking for a racing insert of the same id. When no place is left, the recording thread
 * evicts in a batch, as pg_stat_statements does: the 5 % of entries (at least one) with the least
 * total time go, so one scan pays for many inserts and the heavy statements stay. A new
 * fingerprint has little total time and is the first candidate for the next batch; that is the
 * price of the rule. Evictions are counted. Latencies are kept in a packed HdrHistogram per entry
 * (microseconds, 1 µs to 1 hour, 2 significant digits), whose memory follows the number of
 * distinct buckets used, typically a few hundred bytes to a few kB.
 *
 * <p>{@link #snapshot} reads each stripe under its monitor, sorts, then builds the rows it
 * returns, percentiles included, from the live entries: each row is consistent in itself, the
 * rows are not one atomic cut. Percentiles are computed for every entry only when sorting by p99.
 *
 * <p>Time: {@code nanoTime} stamps first and last use; latencies come from the caller.
 */
public final class QueryStats {
    /** Default for {@code maxFingerprints}. */
    public static final int DEFAULT_MAX_FINGERPRINTS = 5000;
    /** Normalised texts longer than this many characters are stored cut, ending in "...". */
    public static final int MAX_TEXT_CHARS = 8192;
    private static final int STRIPES = 64;

    /** Sort orders for {@link #snapshot}, all descending. */
    public enum SortBy { TOTAL_TIME, CALLS, MEAN_TIME, P99, ERRORS }

    /** A database, user and application_name that sent a fingerprint, with its call count. */
    public record Source(String database, String user, String application, long calls) {
    }

    /**
     * Statistics of one fingerprint. Times in nanoseconds; percentiles from the histogram, within
     * 1 % and clamped to [min, max]; {@code sources} holds at most 4 distinct senders, calls from
     * further ones count in {@code otherSourceCalls}; {@code errorsBySqlState} at most 8 codes
     * (errors always count in {@code errors}). {@code firstSeenNanos} and {@code lastSeenNanos}
     * are on the store's clock; compare them with {@link Snapshot#takenAtNanos}.
     */
    public record Row(long id, String text, long calls, long errors, Map<String, Long> errorsBySqlState,
                      long rows, long totalNanos, long meanNanos, long minNanos, long maxNanos,
                      long p50Nanos, long p95Nanos, long p99Nanos, long waitNanos, List<Source> sources,
                      long otherSourceCalls, long firstSeenNanos, long lastSeenNanos) {
    }

    /**
     * What {@link #snapshot} returns: the rows asked for, and the store's size and eviction count
     * at that moment.
     */
    public record Snapshot(long takenAtNanos, int fingerprints, long evictions, List<Row> rows) {
    }

    private final int maxFingerprints;
    private final LongSupplier nanoTime;
    private final Stripe[] stripes = new Stripe[STRIPES];
    private final AtomicInteger size = new AtomicInteger();
    private final LongAdder evictions = new LongAdder();
    private final Object evictionLock = new Object();

    /** A store of at most {@link #DEFAULT_MAX_FINGERPRINTS} on {@link System#nanoTime}. */
    public QueryStats() {
        this(DEFAULT_MAX_FINGERPRINTS, System::nanoTime);
    }

    /**
     * @param maxFingerprints at most this many fingerprints are kept, at least 1
     * @param nanoTime        the clock for first and last use, {@link System#nanoTime} in production
     */
    public QueryStats(int maxFingerprints, LongSupplier nanoTime) {
        if (maxFingerprints < 1) {
            throw new IllegalArgumentException("maxFingerprints: " + maxFingerprints + " (expected: >= 1)");
        }
        this.maxFingerprints = maxFingerprints;
        this.nanoTime = nanoTime;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe();
        }
    }

    private Stripe stripe(long id) {
        long h = id * 0xC2B2AE3D27D4EB4FL;
        return stripes[(int) (h >>> 58)];
    }

    /**
     * Records one execution. Thread-safe; cheap and allocation-free for a known fingerprint.
     *
     * @param fingerprintId  the statement's fingerprint id
     * @param text           gives the normalised text; called only when the id is new (rarely
     *                       twice when two threads add the same id at once), outside any lock;
     *                       may return null (stored as "")
     * @param database       database of the session, may be null
     * @param user           user of the session, may be null
     * @param application    application_name of the session, may be null
     * @param latencyNanos   end-to-end time as Sluice saw it, waiting included
     * @param waitNanos      part of it spent waiting for admission and a server connection
     * @param rows           rows returned or affected; negative when unknown (not added)
     * @param sqlStateOrNull SQLSTATE of the error, or null when it succeeded
     */
    public void record(long fingerprintId, Supplier<String> text, String database, String user,
                       String application, long latencyNanos, long waitNanos, long rows,
                       String sqlStateOrNull) {
        recordAt(nanoTime.getAsLong(), fingerprintId, text, database, user, application, latencyNanos, waitNanos, rows,
                sqlStateOrNull);
    }

    /**
     * As {@link #record}, with the clock reading {@code now} the caller already has (a reading
     * of the clock this store was made with).
     */
    public void recordAt(long now, long fingerprintId, Supplier<String> text, String database, String user,
                         String application, long latencyNanos, long waitNanos, long rows,
                         String sqlStateOrNull) {
        Stripe s = stripe(fingerprintId);
        synchronized (s) {
            Entry e = s.get(fingerprintId);
            if (e != null) {
                e.record(now, database, user, application, latencyNanos, waitNanos, rows, sqlStateOrNull);
                return;
            }
        }
        String t = cut(text == null ? null : text.get());
        reserve();
        synchronized (s) {
            Entry e = s.get(fingerprintId);
            if (e != null) {
                size.decrementAndGet(); // another thread added it meanwhile
            } else {
                e = new Entry(fingerprintId, t, now);
                s.put(e);
            }
            e.record(now, database, user, application, latencyNanos, waitNanos, rows, sqlStateOrNull);
        }
    }

    /** Whether the fingerprint is currently kept. */
    public boolean contains(long fingerprintId) {
        Stripe s = stripe(fingerprintId);
        synchronized (s) {
            return s.get(fingerprintId) != null;
        }
    }

    /** Number of fingerprints kept. */
    public int size() {
        return size.get();
    }

    /** Fingerprints evicted since creation. */
    public long evictions() {
        return evictions.sum();
    }

    /** Forgets every fingerprint (the eviction count stays). */
    public void reset() {
        for (Stripe s : stripes) {
            synchronized (s) {
                size.addAndGet(-s.size());
                s.clear();
            }
        }
    }

    /**
     * The top {@code limit} fingerprints by {@code sortBy}, descending, ties by total time then
     * id. Safe to call while recording goes on.
     */
    public Snapshot snapshot(SortBy sortBy, int limit) {
        long now = nanoTime.getAsLong();
        List<long[]> keys = new ArrayList<>(size.get() + 16);
        for (Stripe s : stripes) {
            synchronized (s) {
                s.forEach(e -> keys.add(new long[] {e.id, key(e, sortBy), e.totalNanos}));
            }
        }
        Comparator<long[]> order = Comparator.<long[]>comparingLong(k -> k[1]).reversed()
                .thenComparing(Comparator.<long[]>comparingLong(k -> k[2]).reversed())
                .thenComparingLong(k -> k[0]);
        keys.sort(order);
        List<Row> rows = new ArrayList<>(Math.min(Math.max(limit, 0), keys.size()));
        for (int i = 0; i < keys.size() && rows.size() < limit; i++) {
            long id = keys.get(i)[0];
            Stripe s = stripe(id);
            synchronized (s) {
                Entry e = s.get(id);
                if (e != null) {
                    rows.add(e.toRow());
                }
            }
        }
        // values may have moved between the two passes: order the final rows once more
        rows.sort(Comparator.<Row>comparingLong(r -> key(r, sortBy)).reversed()
                .thenComparing(Comparator.comparingLong(Row::totalNanos).reversed())
                .thenComparingLong(Row::id));
        return new Snapshot(now, size.get(), evictions.sum(), List.copyOf(rows));
    }

    private static long key(Entry e, SortBy sortBy) {
        return switch (sortBy) {
            case TOTAL_TIME -> e.totalNanos;
            case CALLS -> e.calls;
            case MEAN_TIME -> e.calls == 0 ? 0 : e.totalNanos / e.calls;
            case P99 -> e.p99Nanos();
            case ERRORS -> e.errors;
        };
    }

    private static long key(Row r, SortBy sortBy) {
        return switch (sortBy) {
            case TOTAL_TIME -> r.totalNanos();
            case CALLS -> r.calls();
            case MEAN_TIME -> r.meanNanos();
            case P99 -> r.p99Nanos();
            case ERRORS -> r.errors();
        };
    }

    private static String cut(String text) {
        if (text == null) {
            return "";
        }
        return text.length() <= MAX_TEXT_CHARS ? text : text.substring(0, MAX_TEXT_CHARS - 3) + "...";
    }

    /** Takes one of the places, evicting first when none is left. */
    private void reserve() {
        while (true) {
            int n = size.get();
            if (n < maxFingerprints) {
                if (size.compareAndSet(n, n + 1)) {
                    return;
                }
            } else {
                evict();
            }
        }
    }

    /** Removes the 5 % of entries (at least one) with the least total time. */
    private void evict() {
        synchronized (evictionLock) {
            if (size.get() < maxFingerprints) {
                return; // another thread made room
            }
            List<long[]> all = new ArrayList<>(size.get() + 16);
            for (Stripe s : stripes) {
                synchronized (s) {
                    s.forEach(e -> all.add(new long[] {e.totalNanos, e.id}));
                }
            }
            long[][] sorted = all.toArray(new long[0][]);
            Arrays.sort(sorted, Comparator.comparingLong(k -> k[0]));
            int batch = Math.max(1, maxFingerprints / 20);
            for (int i = 0; i < Math.min(batch, sorted.length); i++) {
                long id = sorted[i][1];
                Stripe s = stripe(id);
                synchronized (s) {
                    if (s.remove(id)) {
                        size.decrementAndGet();
                        evictions.increment();
                    }
                }
            }
        }
    }
}

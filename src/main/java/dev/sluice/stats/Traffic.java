package dev.sluice.stats;

import dev.sluice.admission.Priority;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Process-wide traffic counters, fed by the data path and read by metrics, the admin API, the
 * console and alerts. Every method that the data path calls is a {@link LongAdder} increment (no
 * lock, no allocation once a SQLSTATE has been seen); readers get monotonic totals and compute
 * rates themselves.
 *
 * <p>Latencies are not kept here: per-statement latency lives in {@link QueryStats}, and
 * {@link #queryLatency()} keeps the process-wide distribution.
 */
public final class Traffic {
    private final LongAdder bytesFromClients = new LongAdder();
    private final LongAdder bytesToClients = new LongAdder();
    private final LongAdder queries = new LongAdder();
    private final LongAdder transactions = new LongAdder();
    private final LongAdder retries = new LongAdder();
    private final LongAdder clientLogins = new LongAdder();
    private final LongAdder serverLogins = new LongAdder();
    private final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LongAdder> refusals = new ConcurrentHashMap<>();
    private final LongAdder[] admitted = adders(Priority.values().length);
    private final LongAdder[] waitNanos = adders(Priority.values().length);
    private final LatencyHistogram queryLatency = new LatencyHistogram();
    private final LatencyHistogram waitLatency = new LatencyHistogram();

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    // ---- fed by the data path ----

    /** Bytes received from clients. */
    public void bytesFromClients(long n) {
        bytesFromClients.add(n);
    }

    /** Bytes sent to clients. */
    public void bytesToClients(long n) {
        bytesToClients.add(n);
    }

    /** A query (simple Query, or an extended-protocol Sync run) completed, taking {@code nanos}. */
    public void query(long nanos) {
        queries.increment();
        queryLatency.record(nanos);
    }

    /** A transaction ended (PostgreSQL reported ReadyForQuery 'I' after a request). */
    public void transaction() {
        transactions.increment();
    }

    /** A statement was retried transparently. */
    public void retry() {
        retries.increment();
    }

    /** A client logged in (authenticated). */
    public void clientLogin() {
        clientLogins.increment();
    }

    /** A server connection logged in to PostgreSQL. */
    public void serverLogin() {
        serverLogins.increment();
    }

    /** PostgreSQL answered a client's request with an error of {@code sqlState}. */
    public void error(String sqlState) {
        adder(errors, sqlState).increment();
    }

    /** Sluice itself refused a client's request with {@code sqlState} (53300, 57014, 08006, ...). */
    public void refusal(String sqlState) {
        adder(refusals, sqlState).increment();
    }

    /** A request of class {@code priority} got a server connection after waiting {@code nanos}. */
    public void admitted(Priority priority, long nanos) {
        admitted[priority.ordinal()].increment();
        waitNanos[priority.ordinal()].add(nanos);
        waitLatency.record(nanos);
    }

    private static LongAdder adder(ConcurrentHashMap<String, LongAdder> map, String key) {
        LongAdder a = map.get(key);
        return a != null ? a : map.computeIfAbsent(key, k -> new LongAdder());
    }

    // ---- read by the side paths ----

    public long bytesFromClients() {
        return bytesFromClients.sum();
    }

    public long bytesToClients() {
        return bytesToClients.sum();
    }

    public long queries() {
        return queries.sum();
    }

    public long transactions() {
        return transactions.sum();
    }

    public long retries() {
        return retries.sum();
    }

    public long clientLogins() {
        return clientLogins.sum();
    }

    public long serverLogins() {
        return serverLogins.sum();
    }

    /** Errors PostgreSQL returned, by SQLSTATE, sorted by code. */
    public Map<String, Long> errors() {
        return sums(errors);
    }

    /** All errors PostgreSQL returned. */
    public long errorCount() {
        long n = 0;
        for (LongAdder a : errors.values()) {
            n += a.sum();
        }
        return n;
    }

    /**
     * Refusals and disconnections Sluice raised itself, by SQLSTATE, sorted by code: admission
     * (53300, 57014, 08006), login (28P01, 28000, 3D000, 42501), protocol violations (08P01),
     * shutdown and operator actions (57P01).
     */
    public Map<String, Long> refusals() {
        return sums(refusals);
    }

    /** Requests of {@code priority} that got a server connection. */
    public long admitted(Priority priority) {
        return admitted[priority.ordinal()].sum();
    }

    /** Total time requests of {@code priority} waited for a server connection, in nanoseconds. */
    public long waitNanos(Priority priority) {
        return waitNanos[priority.ordinal()].sum();
    }

    /**
     * Distribution of request latencies: from the first message sent to PostgreSQL to the
     * ReadyForQuery that ends the request (the wait for a server connection is not included; it
     * is in {@link #waitLatency()}).
     */
    public LatencyHistogram queryLatency() {
        return queryLatency;
    }

    /** Distribution of waits for a server connection. */
    public LatencyHistogram waitLatency() {
        return waitLatency;
    }

    private static Map<String, Long> sums(ConcurrentHashMap<String, LongAdder> map) {
        Map<String, Long> out = new TreeMap<>();
        map.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}

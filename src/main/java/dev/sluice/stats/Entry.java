package dev.sluice.stats;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.HdrHistogram.PackedHistogram;

/**
 * Counters of one fingerprint. Not thread-safe: guarded by the lock of the {@link Stripe} that
 * holds it.
 */
final class Entry {
    /** Latencies are kept in microseconds, 1 µs to 1 hour, 2 significant digits (1 %). */
    static final long MAX_MICROS = 3_600_000_000L;
    static final int MAX_SQLSTATES = 8;
    static final int MAX_SOURCES = 4;

    final long id;
    final String text;
    final long firstSeen;
    long lastSeen;
    long calls;
    long errors;
    long rows;
    long totalNanos;
    long minNanos = Long.MAX_VALUE;
    long maxNanos;
    long waitNanos;
    // packed: memory grows with the number of distinct buckets used, not the value range
    final PackedHistogram latency = new PackedHistogram(1, MAX_MICROS, 2);
    private String[] states;
    private long[] stateCounts;
    private int stateCount;
    private final String[] dbs = new String[MAX_SOURCES];
    private final String[] users = new String[MAX_SOURCES];
    private final String[] apps = new String[MAX_SOURCES];
    private final long[] sourceCalls = new long[MAX_SOURCES];
    private int sourceCount;
    long otherSourceCalls;

    Entry(long id, String text, long now) {
        this.id = id;
        this.text = text;
        this.firstSeen = now;
    }

    void record(long now, String db, String user, String app, long latencyNanos, long wait, long rowCount,
                String sqlState) {
        long lat = Math.max(0, latencyNanos);
        lastSeen = now;
        calls++;
        totalNanos += lat;
        minNanos = Math.min(minNanos, lat);
        maxNanos = Math.max(maxNanos, lat);
        waitNanos += Math.max(0, wait);
        if (rowCount > 0) {
            rows += rowCount;
        }
        latency.recordValue(Math.min(lat / 1000, MAX_MICROS));
        if (sqlState != null) {
            error(sqlState);
        }
        source(db, user, app);
    }

    private void error(String sqlState) {
        errors++;
        if (states == null) {
            states = new String[MAX_SQLSTATES];
            stateCounts = new long[MAX_SQLSTATES];
        }
        for (int i = 0; i < stateCount; i++) {
            if (states[i].equals(sqlState)) {
                stateCounts[i]++;
                return;
            }
        }
        if (stateCount < MAX_SQLSTATES) {
            states[stateCount] = sqlState;
            stateCounts[stateCount++] = 1;
        }
    }

    private void source(String db, String user, String app) {
        for (int i = 0; i < sourceCount; i++) {
            // sessions hand the same String instances again and again: identity first
            if ((dbs[i] == db || Objects.equals(dbs[i], db)) && (users[i] == user || Objects.equals(users[i], user))
                    && (apps[i] == app || Objects.equals(apps[i], app))) {
                sourceCalls[i]++;
                return;
            }
        }
        if (sourceCount < MAX_SOURCES) {
            dbs[sourceCount] = db;
            users[sourceCount] = user;
            apps[sourceCount] = app;
            sourceCalls[sourceCount++] = 1;
        } else {
            otherSourceCalls++;
        }
    }

    long p99Nanos() {
        return percentileNanos(99.0);
    }

    private long percentileNanos(double p) {
        long v = latency.getValueAtPercentile(p) * 1000;
        // the histogram answers with a bucket's upper end: keep it within what was seen
        return Math.max(minNanos, Math.min(maxNanos, v));
    }

    QueryStats.Row toRow() {
        Map<String, Long> byState;
        if (stateCount == 0) {
            byState = Map.of();
        } else {
            Map<String, Long> m = new LinkedHashMap<>();
            for (int i = 0; i < stateCount; i++) {
                m.put(states[i], stateCounts[i]);
            }
            byState = Collections.unmodifiableMap(m);
        }
        List<QueryStats.Source> sources = new ArrayList<>(sourceCount);
        for (int i = 0; i < sourceCount; i++) {
            sources.add(new QueryStats.Source(dbs[i], users[i], apps[i], sourceCalls[i]));
        }
        return new QueryStats.Row(id, text, calls, errors, byState, rows, totalNanos,
                calls == 0 ? 0 : totalNanos / calls, calls == 0 ? 0 : minNanos, maxNanos,
                percentileNanos(50.0), percentileNanos(95.0), percentileNanos(99.0), waitNanos,
                Collections.unmodifiableList(sources), otherSourceCalls, firstSeen, lastSeen);
    }
}

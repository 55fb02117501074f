package dev.sluice.bench;

import dev.sluice.stats.QueryStats;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * Cost of {@link QueryStats#record} for known fingerprints, from 1 and 2 threads: all calls on one
 * hot fingerprint (worst contention), or spread over 1000 fingerprints.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class QueryStatsBenchmark {
    static final int FINGERPRINTS = 1000;
    static final Supplier<String> TEXT = () -> "SELECT ?";

    private QueryStats stats;

    @Setup
    public void setUp() {
        stats = new QueryStats();
        for (long id = 0; id < FINGERPRINTS; id++) {
            stats.record(id * 0x9E3779B97F4A7C15L, TEXT, "db", "user", "app", 1000, 0, 1, null);
        }
    }

    /** Per-thread position in the spread of fingerprints, and a varying latency. */
    @State(Scope.Thread)
    public static class Cursor {
        long i;

        @Setup
        public void start() {
            // threads start at different places so "spread" does not walk in lockstep
            i = ThreadLocalRandom.current().nextInt(FINGERPRINTS);
        }

        long nextId() {
            i++;
            return (i % FINGERPRINTS) * 0x9E3779B97F4A7C15L;
        }

        long latency() {
            return 50_000 + (i * 7919) % 2_000_000; // 50 µs .. 2 ms
        }
    }

    @Benchmark
    @Threads(1)
    public void hot1Thread(Cursor c) {
        c.i++;
        stats.record(0, TEXT, "db", "user", "app", c.latency(), 100, 1, null);
    }

    @Benchmark
    @Threads(2)
    public void hot2Threads(Cursor c) {
        c.i++;
        stats.record(0, TEXT, "db", "user", "app", c.latency(), 100, 1, null);
    }

    @Benchmark
    @Threads(1)
    public void spread1Thread(Cursor c) {
        stats.record(c.nextId(), TEXT, "db", "user", "app", c.latency(), 100, 1, null);
    }

    @Benchmark
    @Threads(2)
    public void spread2Threads(Cursor c) {
        stats.record(c.nextId(), TEXT, "db", "user", "app", c.latency(), 100, 1, null);
    }
}

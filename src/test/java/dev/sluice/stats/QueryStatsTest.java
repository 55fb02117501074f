package dev.sluice.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.sluice.stats.QueryStats.Row;
import dev.sluice.stats.QueryStats.SortBy;
import dev.sluice.stats.QueryStats.Source;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class QueryStatsTest {
    private static final long MS = 1_000_000L;
    private final AtomicLong clock = new AtomicLong(1_000);
    private final QueryStats stats = new QueryStats(100, clock::get);

    private void record(long id, long latencyNanos) {
        stats.record(id, () -> "q" + id, "db", "u", "app", latencyNanos, 0, 1, null);
    }

    private Row row(long id) {
        return stats.snapshot(SortBy.TOTAL_TIME, Integer.MAX_VALUE).rows().stream()
                .filter(r -> r.id() == id).findFirst().orElseThrow();
    }

    @Test
    void record_accumulatesCallsRowsTimesAndWait() {
        stats.record(7, () -> "SELECT ?", "db", "u", "app", 2 * MS, MS / 2, 10, null);
        clock.addAndGet(500);
        stats.record(7, () -> "SELECT ?", "db", "u", "app", 4 * MS, MS, 5, null);
        stats.record(7, () -> "SELECT ?", "db", "u", "app", 3 * MS, 0, -1, null);
        Row r = row(7);
        assertThat(r.text()).isEqualTo("SELECT ?");
        assertThat(r.calls()).isEqualTo(3);
        assertThat(r.rows()).isEqualTo(15);
        assertThat(r.totalNanos()).isEqualTo(9 * MS);
        assertThat(r.meanNanos()).isEqualTo(3 * MS);
        assertThat(r.minNanos()).isEqualTo(2 * MS);
        assertThat(r.maxNanos()).isEqualTo(4 * MS);
        assertThat(r.waitNanos()).isEqualTo(3 * MS / 2);
        assertThat(r.errors()).isZero();
        assertThat(r.errorsBySqlState()).isEmpty();
        assertThat(r.firstSeenNanos()).isEqualTo(1_000);
        assertThat(r.lastSeenNanos()).isEqualTo(1_500);
    }

    @Test
    void record_asksForTextOnlyForNewFingerprint() {
        AtomicInteger asked = new AtomicInteger();
        Supplier<String> text = () -> {
            asked.incrementAndGet();
            return "SELECT ?";
        };
        stats.record(1, text, null, null, null, MS, 0, 0, null);
        stats.record(1, text, null, null, null, MS, 0, 0, null);
        assertThat(stats.contains(1)).isTrue();
        assertThat(stats.contains(2)).isFalse();
        assertThat(asked).hasValue(1);
        stats.record(3, () -> null, null, null, null, MS, 0, 0, null);
        assertThat(row(3).text()).isEmpty();
    }

    @Test
    void record_cutsLongText() {
        stats.record(1, () -> "x".repeat(QueryStats.MAX_TEXT_CHARS + 100), null, null, null, MS, 0, 0, null);
        assertThat(row(1).text()).hasSize(QueryStats.MAX_TEXT_CHARS).endsWith("...");
    }

    @Test
    void percentiles_withinOnePercent() {
        for (int i = 1; i <= 1000; i++) {
            record(1, i * MS / 10); // 0.1 ms .. 100 ms
        }
        Row r = row(1);
        assertThat((double) r.p50Nanos()).isCloseTo(50 * MS, within(0.01 * 50 * MS));
        assertThat((double) r.p95Nanos()).isCloseTo(95 * MS, within(0.01 * 95 * MS));
        assertThat((double) r.p99Nanos()).isCloseTo(99 * MS, within(0.01 * 99 * MS));
        assertThat(r.p99Nanos()).isLessThanOrEqualTo(r.maxNanos());
    }

    @Test
    void percentiles_clampedToMinAndMax() {
        record(1, 1_234_567);
        Row r = row(1);
        assertThat(r.p50Nanos()).isEqualTo(1_234_567);
        assertThat(r.p99Nanos()).isEqualTo(1_234_567);
    }

    @Test
    void record_hugeAndNegativeLatenciesDoNotThrow() {
        record(1, Long.MAX_VALUE / 2);
        record(1, -5);
        assertThat(row(1).calls()).isEqualTo(2);
        assertThat(row(1).minNanos()).isZero();
    }

    @Test
    void errors_countedBySqlState() {
        stats.record(1, () -> "q", null, null, null, MS, 0, 0, "57014");
        stats.record(1, () -> "q", null, null, null, MS, 0, 0, "57014");
        stats.record(1, () -> "q", null, null, null, MS, 0, 0, "23505");
        stats.record(1, () -> "q", null, null, null, MS, 0, 0, null);
        for (int i = 0; i < 10; i++) {
            stats.record(1, () -> "q", null, null, null, MS, 0, 0, "XX00" + i);
        }
        Row r = row(1);
        assertThat(r.calls()).isEqualTo(14);
        assertThat(r.errors()).isEqualTo(13);
        assertThat(r.errorsBySqlState()).hasSize(Entry.MAX_SQLSTATES)
                .containsEntry("57014", 2L).containsEntry("23505", 1L);
    }

    @Test
    void sources_smallSetThenOther() {
        stats.record(1, () -> "q", "db", "alice", "web", MS, 0, 0, null);
        stats.record(1, () -> "q", "db", "alice", "web", MS, 0, 0, null);
        stats.record(1, () -> "q", "db", "bob", null, MS, 0, 0, null);
        for (int i = 0; i < 5; i++) {
            stats.record(1, () -> "q", "db", "user" + i, "job", MS, 0, 0, null);
        }
        Row r = row(1);
        assertThat(r.sources()).hasSize(Entry.MAX_SOURCES).startsWith(
                new Source("db", "alice", "web", 2), new Source("db", "bob", null, 1));
        assertThat(r.otherSourceCalls()).isEqualTo(3);
    }

    @Test
    void snapshot_sortsAndLimits() {
        // id 1: many cheap calls; id 2: one slow call; id 3: errors; id 4: wide spread
        for (int i = 0; i < 50; i++) {
            record(1, MS);
        }
        record(2, 200 * MS);
        stats.record(3, () -> "q3", null, null, null, 2 * MS, 0, 0, "40001");
        stats.record(3, () -> "q3", null, null, null, 2 * MS, 0, 0, "40001");
        for (int i = 0; i < 99; i++) {
            record(4, MS / 10);
        }
        record(4, 150 * MS);
        record(4, 150 * MS);
        assertThat(ids(SortBy.TOTAL_TIME, 10)).containsExactly(4L, 2L, 1L, 3L);
        assertThat(ids(SortBy.CALLS, 10)).containsExactly(4L, 1L, 3L, 2L);
        assertThat(ids(SortBy.MEAN_TIME, 10)).containsExactly(2L, 4L, 3L, 1L);
        assertThat(ids(SortBy.P99, 10)).containsExactly(2L, 4L, 3L, 1L);
        assertThat(ids(SortBy.ERRORS, 2)).containsExactly(3L, 4L);
        assertThat(ids(SortBy.TOTAL_TIME, 0)).isEmpty();
        QueryStats.Snapshot s = stats.snapshot(SortBy.CALLS, 1);
        assertThat(s.fingerprints()).isEqualTo(4);
        assertThat(s.takenAtNanos()).isEqualTo(clock.get());
        assertThatThrownBy(() -> s.rows().add(s.rows().get(0))).isInstanceOf(UnsupportedOperationException.class);
    }

    private List<Long> ids(SortBy by, int limit) {
        return stats.snapshot(by, limit).rows().stream().map(Row::id).toList();
    }

    @Test
    void eviction_boundedAndDropsLeastTotalTime() {
        QueryStats small = new QueryStats(20, clock::get);
        for (long id = 1; id <= 20; id++) {
            small.record(id, () -> "q", null, null, null, id * MS, 0, 0, null);
        }
        assertThat(small.size()).isEqualTo(20);
        small.record(100, () -> "q", null, null, null, 500 * MS, 0, 0, null);
        assertThat(small.size()).isEqualTo(20);
        assertThat(small.evictions()).isEqualTo(1);
        assertThat(small.contains(1)).isFalse();
        assertThat(small.contains(2)).isTrue();
        assertThat(small.contains(100)).isTrue();
        assertThat(small.snapshot(SortBy.TOTAL_TIME, 100).evictions()).isEqualTo(1);
    }

    @Test
    void eviction_batchOfFivePercent() {
        QueryStats s = new QueryStats(1000, clock::get);
        for (long id = 1; id <= 1000; id++) {
            s.record(id, () -> "q", null, null, null, id * 1000, 0, 0, null);
        }
        s.record(5000, () -> "q", null, null, null, MS, 0, 0, null);
        assertThat(s.evictions()).isEqualTo(50);
        assertThat(s.size()).isEqualTo(951);
        assertThat(s.contains(50)).isFalse();
        assertThat(s.contains(51)).isTrue();
        for (long id = 6000; id < 8000; id++) {
            s.record(id, () -> "q", null, null, null, 1000, 0, 0, null);
            assertThat(s.size()).isLessThanOrEqualTo(1000);
        }
        assertThat(s.contains(1000)).isTrue(); // heavy ones stay
    }

    @Test
    void stripe_removeKeepsOtherKeysReachable() {
        Stripe st = new Stripe();
        List<Long> ids = new ArrayList<>();
        for (long i = 0; i < 500; i++) {
            long id = i * 7919 + (i % 3 == 0 ? Long.MIN_VALUE : 0);
            ids.add(id);
            st.put(new Entry(id, "", 0));
        }
        for (int i = 0; i < ids.size(); i += 2) {
            assertThat(st.remove(ids.get(i))).isTrue();
        }
        for (int i = 0; i < ids.size(); i++) {
            assertThat(st.get(ids.get(i)) != null).as("id %d", ids.get(i)).isEqualTo(i % 2 == 1);
        }
        assertThat(st.size()).isEqualTo(250);
        assertThat(st.remove(12345)).isFalse();
    }

    @Test
    void reset_forgetsEverything() {
        record(1, MS);
        record(2, MS);
        stats.reset();
        assertThat(stats.size()).isZero();
        assertThat(stats.contains(1)).isFalse();
        record(1, MS);
        assertThat(row(1).calls()).isEqualTo(1);
    }

    @Test
    void concurrentRecording_countsEveryCall() throws Exception {
        QueryStats s = new QueryStats(50, System::nanoTime);
        int threads = 4;
        int perThread = 50_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int seed = t;
            Thread w = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    // one shared hot id, plus ids enough to force evictions
                    long id = (i % 2 == 0) ? 42 : 1000 + ((i * 31L + seed) % 200);
                    s.record(id, () -> "q", "db", "u" + (i % 2), "a", 1000, 10, 1, null);
                }
            });
            workers.add(w);
            w.start();
        }
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        assertThat(s.size()).isLessThanOrEqualTo(50);
        Row hot = s.snapshot(SortBy.CALLS, 1).rows().get(0);
        assertThat(hot.id()).isEqualTo(42);
        assertThat(hot.calls()).isEqualTo((long) threads * perThread / 2);
        assertThat(hot.rows()).isEqualTo(hot.calls());
        assertThat(s.evictions()).isPositive();
    }

    @Test
    void constructor_rejectsNonPositiveMax() {
        assertThatThrownBy(() -> new QueryStats(0, System::nanoTime))
                .hasMessage("maxFingerprints: 0 (expected: >= 1)");
    }
}

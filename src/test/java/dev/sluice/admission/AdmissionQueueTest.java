package dev.sluice.admission;

import static dev.sluice.admission.Priority.BACKGROUND;
import static dev.sluice.admission.Priority.CRITICAL;
import static dev.sluice.admission.Priority.HIGH;
import static dev.sluice.admission.Priority.LOW;
import static dev.sluice.admission.Priority.NORMAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AdmissionQueueTest {
    private final FakeTicker ticker = new FakeTicker();

    private AdmissionQueue<String> queue(int capacity, Duration aging) {
        return new AdmissionQueue<>(AdmissionQueue.Settings.uniform(capacity, Duration.ofSeconds(10), aging), ticker);
    }

    private static List<String> drain(AdmissionQueue<String> q) {
        List<String> out = new ArrayList<>();
        for (String s; (s = q.poll()) != null; ) {
            out.add(s);
        }
        return out;
    }

    @Test
    void poll_servesHigherClassFirst_andFifoWithinAClass() {
        AdmissionQueue<String> q = queue(100, Duration.ZERO);
        q.offer("low1", LOW);
        q.offer("normal1", NORMAL);
        q.offer("low2", LOW);
        q.offer("critical1", CRITICAL);
        q.offer("normal2", NORMAL);
        q.offer("background1", BACKGROUND);
        q.offer("high1", HIGH);

        assertThat(drain(q)).containsExactly("critical1", "high1", "normal1", "normal2", "low1", "low2", "background1");
    }

    @Test
    void highArrival_isServedNext_behindFiftyLowWaiters() {
        AdmissionQueue<String> q = queue(100, Duration.ofSeconds(5));
        for (int i = 0; i < 50; i++) {
            q.offer("low" + i, LOW);
            ticker.advance(Duration.ofMillis(10));
        }
        q.offer("high", HIGH);

        assertThat(q.poll()).isEqualTo("high");
        assertThat(q.poll()).isEqualTo("low0");
    }

    @Test
    void pollEligible_passesOverIneligibleEntriesWithoutRemovingThem() {
        AdmissionQueue<String> q = queue(100, Duration.ZERO);
        q.offer("noisy-high", HIGH);
        q.offer("quiet-normal", NORMAL);
        q.offer("noisy-normal", NORMAL);
        q.offer("quiet-normal2", NORMAL);

        assertThat(q.poll(x -> x.startsWith("quiet"))).isEqualTo("quiet-normal");
        assertThat(q.poll(x -> x.startsWith("quiet"))).isEqualTo("quiet-normal2");
        assertThat(q.poll(x -> x.startsWith("quiet"))).isNull();
        assertThat(q.size()).isEqualTo(2);
        assertThat(q.poll()).isEqualTo("noisy-high");
        assertThat(q.poll(x -> true)).isEqualTo("noisy-normal");
    }

    @Test
    void poll_onEmptyQueue_returnsNull() {
        assertThat(queue(4, Duration.ZERO).poll()).isNull();
    }

    @Test
    void offer_whenFull_rejectsSameOrLowerClass() {
        AdmissionQueue<String> q = queue(2, Duration.ZERO);
        assertThat(q.offer("n1", NORMAL).admitted()).isTrue();
        assertThat(q.offer("n2", NORMAL).admitted()).isTrue();

        assertThat(q.offer("n3", NORMAL).rejected()).isTrue();
        assertThat(q.offer("l1", LOW).rejected()).isTrue();
        assertThat(q.offer("b1", BACKGROUND)).isEqualTo(new AdmissionQueue.Offer<String>(false, null));
        assertThat(q.size()).isEqualTo(2);
    }

    @Test
    void offer_whenFull_higherClassDisplacesNewestOfLowestClass() {
        AdmissionQueue<String> q = queue(4, Duration.ZERO);
        q.offer("n1", NORMAL);
        q.offer("b1", BACKGROUND);
        q.offer("b2", BACKGROUND);
        q.offer("l1", LOW);

        AdmissionQueue.Offer<String> offer = q.offer("h1", HIGH);

        assertThat(offer.admitted()).isTrue();
        assertThat(offer.displaced()).isEqualTo("b2");
        assertThat(q.size()).isEqualTo(4);
        assertThat(drain(q)).containsExactly("h1", "n1", "l1", "b1");
    }

    @Test
    void offer_whenFull_arrivalOfTheLowestClassPresentIsRejected_evenIfHigherThanOthersWouldBe() {
        AdmissionQueue<String> q = queue(2, Duration.ZERO);
        q.offer("h1", HIGH);
        q.offer("n1", NORMAL);

        assertThat(q.offer("n2", NORMAL).rejected()).isTrue();
        assertThat(q.offer("h2", HIGH).displaced()).isEqualTo("n1");
        assertThat(q.offer("h3", HIGH).rejected()).isTrue();
    }

    @Test
    void offer_withZeroCapacity_rejectsEverything() {
        AdmissionQueue<String> q = queue(0, Duration.ZERO);
        assertThat(q.offer("c", CRITICAL).rejected()).isTrue();
    }

    @Test
    void offer_sameItemTwice_isRefused() {
        AdmissionQueue<String> q = queue(4, Duration.ZERO);
        String item = "x";
        q.offer(item, LOW);
        assertThatThrownBy(() -> q.offer(item, HIGH)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void expire_returnsEntriesPastTheirClassDeadline_andKeepsTheRest() {
        Map<Priority, Duration> timeouts = new EnumMap<>(Priority.class);
        for (Priority p : Priority.values()) {
            timeouts.put(p, Duration.ofSeconds(10));
        }
        timeouts.put(LOW, Duration.ofSeconds(2));
        AdmissionQueue<String> q = new AdmissionQueue<>(new AdmissionQueue.Settings(10, timeouts, Duration.ZERO), ticker);
        q.offer("low1", LOW);
        q.offer("normal1", NORMAL);
        ticker.advance(Duration.ofSeconds(1));
        q.offer("low2", LOW);
        assertThat(q.nextDeadline()).isEqualTo(ticker.read() + Duration.ofSeconds(1).toNanos());

        ticker.advance(Duration.ofSeconds(1));
        assertThat(q.expire(ticker.read())).containsExactly("low1");
        assertThat(q.expire(ticker.read())).isEmpty();

        ticker.advance(Duration.ofSeconds(1));
        assertThat(q.expire(ticker.read())).containsExactly("low2");
        assertThat(q.size()).isEqualTo(1);

        ticker.advance(Duration.ofSeconds(8));
        assertThat(q.expire(ticker.read())).containsExactly("normal1");
        assertThat(q.nextDeadline()).isEqualTo(Long.MAX_VALUE);
    }

    /** An item that keeps its own place in the queue, as the pool's waiters do. */
    private static final class Member implements AdmissionQueue.Member {
        final String name;
        Object entry;

        Member(String name) {
            this.name = name;
        }

        @Override
        public Object admissionEntry() {
            return entry;
        }

        @Override
        public void admissionEntry(Object e) {
            entry = e;
        }
    }

    @Test
    void members_keepTheirOwnPlace_offerRemovePollAndDisplaceAsOtherItems() {
        AdmissionQueue<Member> q = new AdmissionQueue<>(
                AdmissionQueue.Settings.uniform(3, Duration.ofSeconds(10), Duration.ZERO), ticker);
        Member a = new Member("a");
        Member b = new Member("b");
        Member c = new Member("c");
        Member high = new Member("high");
        q.offer(a, NORMAL);
        q.offer(b, LOW);
        q.offer(c, NORMAL);
        assertThat(a.entry).isNotNull();
        assertThatThrownBy(() -> q.offer(a, NORMAL)).isInstanceOf(IllegalStateException.class);

        // full: the newest of the lowest class makes room, and forgets its place
        assertThat(q.offer(high, HIGH).displaced()).isSameAs(b);
        assertThat(b.entry).isNull();
        assertThat(q.remove(b)).isFalse();

        assertThat(q.remove(c)).isTrue();
        assertThat(c.entry).isNull();
        assertThat(q.remove(c)).isFalse();
        assertThat(q.poll()).isSameAs(high);
        assertThat(q.poll()).isSameAs(a);
        assertThat(a.entry).isNull();
        assertThat(q.poll()).isNull();

        // a member served may wait again
        q.offer(a, NORMAL);
        assertThat(q.expire(ticker.read() + Duration.ofSeconds(10).toNanos())).containsExactly(a);
        assertThat(a.entry).isNull();
    }

    @Test
    void remove_takesOutAWaitingEntry_once() {
        AdmissionQueue<String> q = queue(4, Duration.ZERO);
        q.offer("a", NORMAL);
        q.offer("b", NORMAL);
        q.offer("c", NORMAL);

        assertThat(q.remove("b")).isTrue();
        assertThat(q.remove("b")).isFalse();
        assertThat(q.size(NORMAL)).isEqualTo(2);
        assertThat(drain(q)).containsExactly("a", "c");
    }

    @Test
    void sizes_countPerClass() {
        AdmissionQueue<String> q = queue(10, Duration.ZERO);
        q.offer("a", HIGH);
        q.offer("b", LOW);
        q.offer("c", LOW);

        assertThat(q.size()).isEqualTo(3);
        assertThat(q.size(LOW)).isEqualTo(2);
        assertThat(q.sizes()).containsEntry(HIGH, 1).containsEntry(LOW, 2).containsEntry(CRITICAL, 0);
        ticker.advance(Duration.ofMillis(30));
        assertThat(q.oldestWaitNanos()).isEqualTo(Duration.ofMillis(30).toNanos());
    }

    @Test
    void aging_raisesALongWaitingEntryOneClassPerStep() {
        AdmissionQueue<String> q = queue(10, Duration.ofSeconds(1));
        q.offer("low", LOW);
        ticker.advance(Duration.ofMillis(1_500)); // low now counts as normal
        q.offer("normal", NORMAL);
        q.offer("high", HIGH);

        // high beats aged low (normal); aged low beats the younger normal
        assertThat(drain(q)).containsExactly("high", "low", "normal");
    }

    @Test
    void aging_letsBackgroundOvertakeFreshCriticalArrivals_afterFourSteps() {
        AdmissionQueue<String> q = queue(10, Duration.ofSeconds(1));
        q.offer("background", BACKGROUND);
        ticker.advance(Duration.ofSeconds(4));
        q.offer("critical", CRITICAL);

        assertThat(q.poll()).isEqualTo("background");
    }

    @Test
    void noClassStarves_underAConstantStreamOfHigherClassWork() {
        // one grant per 100 ms; every 100 ms a critical, a high and a normal request arrive, so the
        // higher classes alone would take every grant forever
        AdmissionQueue<String> q = queue(10_000, Duration.ofSeconds(1));
        q.offer("background", BACKGROUND);
        q.offer("low", LOW);
        Map<String, Integer> servedAt = new HashMap<>();
        for (int tick = 0; tick < 200 && servedAt.size() < 2; tick++) {
            q.offer("c" + tick, CRITICAL);
            q.offer("h" + tick, HIGH);
            q.offer("n" + tick, NORMAL);
            ticker.advance(Duration.ofMillis(100));
            String served = q.poll();
            if (served.equals("background") || served.equals("low")) {
                servedAt.put(served, tick);
            }
        }

        assertThat(servedAt).containsOnlyKeys("background", "low");
        // low counts as critical after 3 one-second steps (tick 29 ends at 3.0 s), background
        // after 4; each is then the oldest critical-equivalent and goes next
        assertThat(servedAt.get("low")).isBetween(28, 32);
        assertThat(servedAt.get("background")).isBetween(38, 42);
    }

    @Test
    void withoutAging_lowerClassWaitsWhileHigherWorkExists() {
        AdmissionQueue<String> q = queue(100, Duration.ZERO);
        q.offer("low", LOW);
        ticker.advance(Duration.ofHours(1));
        q.offer("normal", NORMAL);
        assertThat(q.poll()).isEqualTo("normal");
    }

    @Test
    void concurrentOffersAndPolls_loseNothing() throws Exception {
        AdmissionQueue<Integer> q = new AdmissionQueue<>(
                AdmissionQueue.Settings.uniform(1_000_000, Duration.ofSeconds(10), Duration.ofSeconds(1)), Ticker.system());
        int threads = 4;
        int perThread = 20_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> polled = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * perThread;
                polled.add(pool.submit(() -> {
                    start.await();
                    int got = 0;
                    for (int i = 0; i < perThread; i++) {
                        q.offer(base + i, Priority.values()[i % 5]);
                        if (q.poll() != null) {
                            got++;
                        }
                    }
                    return got;
                }));
            }
            start.countDown();
            int total = 0;
            for (Future<Integer> f : polled) {
                total += f.get(30, TimeUnit.SECONDS);
            }
            assertThat(total + q.size()).isEqualTo(threads * perThread);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void settings_refuseAMissingOrNonPositiveTimeout() {
        assertThatThrownBy(() -> new AdmissionQueue.Settings(1, Map.of(HIGH, Duration.ofSeconds(1)), Duration.ZERO))
                .hasMessageContaining("timeout for critical");
        assertThatThrownBy(() -> AdmissionQueue.Settings.uniform(1, Duration.ZERO, Duration.ZERO))
                .hasMessageContaining("expected: a positive duration");
    }
    @Test
    void settings_shorterTimeout_appliesToWaitingEntriesFromTheirArrival() {
        AdmissionQueue<String> q = queue(10, Duration.ZERO);
        q.offer("old", NORMAL);
        ticker.advance(Duration.ofSeconds(3));
        q.offer("recent", NORMAL);
        q.settings(AdmissionQueue.Settings.uniform(10, Duration.ofSeconds(2), Duration.ZERO));
        q.offer("new", NORMAL);
        assertThat(q.expire(ticker.read())).containsExactly("old");
        ticker.advance(Duration.ofSeconds(2));
        assertThat(q.expire(ticker.read())).containsExactly("recent", "new");
    }

    @Test
    void settings_longerTimeout_extendsTheWaitOfEntriesAlreadyWaiting() {
        AdmissionQueue<String> q = queue(10, Duration.ZERO);
        q.offer("waiting", LOW);
        q.settings(AdmissionQueue.Settings.uniform(10, Duration.ofSeconds(30), Duration.ZERO));
        ticker.advance(Duration.ofSeconds(20));
        assertThat(q.expire(ticker.read())).isEmpty();
        ticker.advance(Duration.ofSeconds(10));
        assertThat(q.expire(ticker.read())).containsExactly("waiting");
    }

    @Test
    void settings_smallerCapacity_refusesArrivalsUntilThereIsRoom() {
        AdmissionQueue<String> q = queue(3, Duration.ZERO);
        q.offer("a", NORMAL);
        q.offer("b", NORMAL);
        q.offer("c", NORMAL);
        q.settings(AdmissionQueue.Settings.uniform(1, Duration.ofSeconds(10), Duration.ZERO));
        assertThat(q.capacity()).isEqualTo(1);
        assertThat(q.size()).isEqualTo(3);
        assertThat(q.offer("d", NORMAL).rejected()).isTrue();
        assertThat(q.poll()).isEqualTo("a");
        assertThat(q.poll()).isEqualTo("b");
        assertThat(q.offer("e", NORMAL).rejected()).isTrue();
        assertThat(q.poll()).isEqualTo("c");
        assertThat(q.offer("f", NORMAL).rejected()).isFalse();
    }

    @Test
    void settings_agingTurnedOn_appliesToEntriesAlreadyWaiting() {
        AdmissionQueue<String> q = queue(10, Duration.ZERO);
        q.offer("background", BACKGROUND);
        ticker.advance(Duration.ofSeconds(4));
        q.offer("critical", CRITICAL);
        q.settings(AdmissionQueue.Settings.uniform(10, Duration.ofSeconds(10), Duration.ofSeconds(1)));
        assertThat(drain(q)).containsExactly("background", "critical");
    }
}

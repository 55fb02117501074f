package dev.sluice.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestTrackerTest {

    private final RequestTracker tracker = new RequestTracker();

    @Test
    void empty_peekAndPopGiveZero() {
        assertThat(tracker.isEmpty()).isTrue();
        assertThat(tracker.size()).isZero();
        assertThat(tracker.peek()).isZero();
        assertThat(tracker.peekPayload()).isNull();
        assertThat(tracker.pop()).isZero();
        assertThat(tracker.hasSync()).isFalse();
    }

    @Test
    void pop_returnsKindsInTheOrderAdded() {
        tracker.add(RequestTracker.PARSE);
        tracker.add(RequestTracker.BIND);
        tracker.add(RequestTracker.EXECUTE);
        tracker.add(RequestTracker.SYNC);

        assertThat(tracker.size()).isEqualTo(4);
        assertThat(drain()).containsExactly(RequestTracker.PARSE, RequestTracker.BIND, RequestTracker.EXECUTE,
                RequestTracker.SYNC);
        assertThat(tracker.isEmpty()).isTrue();
    }

    @Test
    void add_beyondSixteen_growsAndKeepsOrderAndPayloads() {
        // wrap the ring first so growth has to unroll it
        for (int i = 0; i < 10; i++) {
            tracker.add(RequestTracker.QUERY);
            tracker.pop();
        }
        for (int i = 0; i < 100; i++) {
            tracker.add((byte) (1 + i % 12), "payload " + i);
        }

        assertThat(tracker.size()).isEqualTo(100);
        for (int i = 0; i < 100; i++) {
            assertThat(tracker.peekPayload()).isEqualTo("payload " + i);
            assertThat(tracker.pop()).isEqualTo((byte) (1 + i % 12));
        }
        assertThat(tracker.isEmpty()).isTrue();
    }

    @Test
    void addAndPop_interleavedAcrossGrowth_fifo() {
        List<Byte> expected = new ArrayList<>();
        List<Byte> got = new ArrayList<>();
        byte next = 0;
        for (int round = 0; round < 50; round++) {
            for (int i = 0; i < 3; i++) {
                byte k = (byte) (1 + next++ % 12);
                tracker.add(k);
                expected.add(k);
            }
            got.add(tracker.pop());
        }
        got.addAll(drain());

        assertThat(got).isEqualTo(expected);
    }

    @Test
    void pop_clearsThePayload() {
        tracker.add(RequestTracker.PARSE, "p");
        tracker.add(RequestTracker.BIND);

        tracker.pop();

        assertThat(tracker.peekPayload()).isNull();
    }

    @Test
    void hasSync_onlyWhileASyncIsQueued() {
        tracker.add(RequestTracker.PARSE);
        tracker.add(RequestTracker.BIND);
        assertThat(tracker.hasSync()).isFalse();

        tracker.add(RequestTracker.SYNC);
        assertThat(tracker.hasSync()).isTrue();

        tracker.pop();
        tracker.pop();
        assertThat(tracker.hasSync()).isTrue();
        tracker.pop();
        assertThat(tracker.hasSync()).isFalse();
    }

    @Test
    void hasSync_syncBehindAWrappedRingAfterGrowth_found() {
        for (int i = 0; i < 12; i++) {
            tracker.add(RequestTracker.EXECUTE);
            tracker.pop();
        }
        for (int i = 0; i < 40; i++) {
            tracker.add(RequestTracker.EXECUTE);
        }
        assertThat(tracker.hasSync()).isFalse();

        tracker.add(RequestTracker.SYNC);

        assertThat(tracker.hasSync()).isTrue();
    }

    @Test
    void clear_emptiesAndDropsPayloads() {
        for (int i = 0; i < 20; i++) {
            tracker.add(RequestTracker.PARSE, i);
        }

        tracker.clear();

        assertThat(tracker.isEmpty()).isTrue();
        assertThat(tracker.peekPayload()).isNull();
        tracker.add(RequestTracker.SYNC);
        assertThat(tracker.pop()).isEqualTo(RequestTracker.SYNC);
    }

    @Test
    void isInjected_onlyForRequestsSluiceSent() {
        assertThat(kindsWhere(RequestTracker::isInjected)).containsExactly(RequestTracker.INJECTED_PARSE,
                RequestTracker.INJECTED_CLOSE, RequestTracker.INJECTED_QUERY, RequestTracker.INJECTED_BIND,
                RequestTracker.FENCE);
    }

    @Test
    void isSynthetic_onlyForAnswersSluiceMakesUp() {
        assertThat(kindsWhere(RequestTracker::isSynthetic)).containsExactly(RequestTracker.SYNTHETIC_PARSE_COMPLETE,
                RequestTracker.SYNTHETIC_CLOSE_COMPLETE);
    }

    @Test
    void isExtended_extendedProtocolKindsButNotSyncOrQueries() {
        assertThat(kindsWhere(RequestTracker::isExtended)).containsExactly(RequestTracker.PARSE, RequestTracker.BIND,
                RequestTracker.DESCRIBE, RequestTracker.EXECUTE, RequestTracker.CLOSE, RequestTracker.INJECTED_PARSE,
                RequestTracker.INJECTED_CLOSE, RequestTracker.SYNTHETIC_PARSE_COMPLETE,
                RequestTracker.SYNTHETIC_CLOSE_COMPLETE, RequestTracker.INJECTED_BIND, RequestTracker.DUPLICATE_PARSE);
        assertThat(RequestTracker.isExtended(RequestTracker.SYNC)).isFalse();
        assertThat(RequestTracker.isExtended(RequestTracker.QUERY)).isFalse();
        assertThat(RequestTracker.isExtended(RequestTracker.INJECTED_QUERY)).isFalse();
    }

    @Test
    void anyBeforeLastSync_looksOnlyAtExchangesSentBeforeTheCurrentOne() {
        tracker.add(RequestTracker.PARSE, "a");
        tracker.add(RequestTracker.SYNC);
        tracker.add(RequestTracker.CLOSE, "b");
        assertThat(tracker.anyBeforeLastSync("a"::equals)).isTrue();
        assertThat(tracker.anyBeforeLastSync("b"::equals)).as("the current exchange").isFalse();
        tracker.add(RequestTracker.SYNC);
        assertThat(tracker.anyBeforeLastSync("b"::equals)).isTrue();
        tracker.pop();
        tracker.pop();
        assertThat(tracker.anyBeforeLastSync("a"::equals)).as("answered").isFalse();
    }

    @Test
    void anyBeforeLastSync_withoutASync_isFalse() {
        tracker.add(RequestTracker.PARSE, "a");
        assertThat(tracker.anyBeforeLastSync(p -> true)).isFalse();
    }

    @Test
    void hasQuery_whileASimpleQueryIsOutstanding() {
        tracker.add(RequestTracker.PARSE);
        assertThat(tracker.hasQuery()).isFalse();
        tracker.add(RequestTracker.QUERY);
        assertThat(tracker.hasQuery()).isTrue();
        tracker.pop();
        tracker.pop();
        assertThat(tracker.hasQuery()).isFalse();
    }

    @Test
    void forEachPayload_fromTheHeadOn_skippingRequestsWithout() {
        tracker.add(RequestTracker.PARSE, "a");
        tracker.add(RequestTracker.SYNC);
        tracker.add(RequestTracker.CLOSE, "b");
        List<Object> seen = new ArrayList<>();
        tracker.forEachPayload(seen::add);
        assertThat(seen).containsExactly("a", "b");
    }

    @Test
    void firstPayload_theEarliestAccepted_skippingRequestsWithout() {
        tracker.add(RequestTracker.SYNC);
        tracker.add(RequestTracker.PARSE, "a1");
        tracker.add(RequestTracker.BIND, "b");
        tracker.add(RequestTracker.PARSE, "a2");
        assertThat(tracker.firstPayload(p -> ((String) p).startsWith("a"))).isEqualTo("a1");
        assertThat(tracker.firstPayload("c"::equals)).isNull();
        tracker.pop();
        tracker.pop();
        assertThat(tracker.firstPayload(p -> ((String) p).startsWith("a"))).isEqualTo("a2");
    }

    private List<Byte> drain() {
        List<Byte> out = new ArrayList<>();
        while (!tracker.isEmpty()) {
            out.add(tracker.pop());
        }
        return out;
    }

    private interface KindPredicate {
        boolean test(byte kind);
    }

    private static List<Byte> kindsWhere(KindPredicate p) {
        List<Byte> out = new ArrayList<>();
        for (byte k = 1; k <= RequestTracker.DUPLICATE_PARSE; k++) {
            if (p.test(k)) {
                out.add(k);
            }
        }
        return out;
    }

    @Test
    void onlyInjected_trueWhenEmptyOrEverythingWasSentBySluice() {
        RequestTracker t = new RequestTracker();
        assertThat(t.onlyInjected()).isTrue();
        t.add(RequestTracker.INJECTED_QUERY);
        assertThat(t.onlyInjected()).isTrue();
        t.add(RequestTracker.QUERY);
        assertThat(t.onlyInjected()).isFalse();
    }

    @Test
    void copyInStarted_dropsTheSyncsSentBeforeTheCopyEnd_only() {
        tracker.add(RequestTracker.EXECUTE, "copy");
        tracker.add(RequestTracker.SYNC);
        tracker.add(RequestTracker.SYNC);
        tracker.add(RequestTracker.COPY_END);
        tracker.add(RequestTracker.SYNC);
        tracker.add(RequestTracker.QUERY);

        assertThat(tracker.hasCopyEnd()).isTrue();
        assertThat(tracker.copyInStarted()).as("Syncs forgotten").isEqualTo(2);

        assertThat(tracker.peekPayload()).isEqualTo("copy");
        assertThat(tracker.pop()).isEqualTo(RequestTracker.EXECUTE);
        // the marker leaves with the request before it: nothing answers it
        assertThat(tracker.peek()).isEqualTo(RequestTracker.SYNC);
        assertThat(tracker.size()).isEqualTo(2);
        assertThat(tracker.pop()).isEqualTo(RequestTracker.SYNC);
        assertThat(tracker.pop()).isEqualTo(RequestTracker.QUERY);
        assertThat(tracker.isEmpty()).isTrue();
    }

    @Test
    void copyInStarted_withoutTheCopyEndYet_dropsEverySyncAfterTheHead() {
        tracker.add(RequestTracker.PARSE);
        tracker.pop();
        tracker.add(RequestTracker.EXECUTE);
        tracker.add(RequestTracker.SYNC);

        assertThat(tracker.copyInStarted()).isEqualTo(1);
        assertThat(tracker.hasCopyEnd()).isFalse();

        assertThat(tracker.size()).isEqualTo(1);
        assertThat(tracker.pop()).isEqualTo(RequestTracker.EXECUTE);
        assertThat(tracker.isEmpty()).isTrue();
    }

    @Test
    void copyEnd_withNothingOutstanding_isNotKept_andNeverCountsAsARequest() {
        tracker.add(RequestTracker.COPY_END);
        assertThat(tracker.isEmpty()).isTrue();

        tracker.add(RequestTracker.INJECTED_QUERY);
        tracker.add(RequestTracker.COPY_END);
        assertThat(tracker.onlyInjected()).isTrue();
        assertThat(tracker.pop()).isEqualTo(RequestTracker.INJECTED_QUERY);
        assertThat(tracker.isEmpty()).isTrue();
    }
}

package dev.sluice.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntToLongFunction;
import org.junit.jupiter.api.Test;

/**
 * The limit is driven by a simulated upstream: a saturated client load keeps exactly
 * {@code limit()} statements in flight and each finishes with the latency the curve gives for
 * that concurrency; the fake clock advances by the time between completions.
 *
 * <p>Tolerance: with latency flat up to C* and proportional to concurrency above it, the
 * algorithm's queue estimate is {@code limit - C*} and it settles where that lies between its
 * α and β thresholds, i.e. in [C*, C* + β(limit)]; β is 8 near C* = 20 and 10 near C* = 50. A
 * result in that band is convergence by design (a few statements kept queued so the server
 * never idles); anything beyond it would be drift.
 */
class AdaptiveLimitTest {
    private static final long BASE = 2_000_000; // 2 ms

    private final FakeTicker ticker = new FakeTicker();

    /** Like the defaults but probing every second, so a simulated run of a few seconds probes. */
    private static AdaptiveLimit.Settings settings(int min, int max, int initial) {
        return new AdaptiveLimit.Settings(min, max, initial, Duration.ofMillis(100), 20, Duration.ofSeconds(1));
    }

    /** Latency flat at BASE up to {@code knee}, then growing linearly with concurrency. */
    private static IntToLongFunction knee(int knee) {
        return inflight -> BASE * Math.max(knee, inflight) / knee;
    }

    /** Feeds {@code samples} completions; returns the limits seen outside probes. */
    private List<Integer> drive(AdaptiveLimit limit, IntToLongFunction curve, int samples) {
        List<Integer> seen = new ArrayList<>();
        for (int i = 0; i < samples; i++) {
            int inflight = limit.limit();
            long rtt = curve.applyAsLong(inflight);
            ticker.advanceNanos(rtt / inflight);
            limit.onSample(rtt, inflight, false);
            if (!limit.snapshot().probing()) {
                seen.add(limit.limit());
            }
        }
        return seen;
    }

    private static int beta(int limit) {
        return 2 * Math.max(2, (int) Math.round(3 * Math.log10(limit)));
    }

    @Test
    void convergesNearKnee_fromBelow() {
        AdaptiveLimit limit = new AdaptiveLimit(settings(2, 200, 2), ticker);
        List<Integer> seen = drive(limit, knee(20), 200_000);

        List<Integer> tail = seen.subList(seen.size() / 2, seen.size());
        assertThat(tail).allSatisfy(l -> assertThat(l).isBetween(20, 20 + beta(28)));
    }

    @Test
    void convergesNearKnee_fromAbove() {
        AdaptiveLimit limit = new AdaptiveLimit(
                settings(2, 200, 180), ticker);
        List<Integer> seen = drive(limit, knee(50), 200_000);

        List<Integer> tail = seen.subList(seen.size() / 2, seen.size());
        assertThat(tail).allSatisfy(l -> assertThat(l).isBetween(50, 50 + beta(60)));
    }

    @Test
    void convergesNearKnee_withOneStatementInTenTwentyFiveTimesSlower() {
        AdaptiveLimit limit = new AdaptiveLimit(settings(2, 200, 2), ticker);
        IntToLongFunction curve = knee(20);
        long[] n = {0};
        List<Integer> seen = drive(limit, inflight -> curve.applyAsLong(inflight) * (n[0]++ % 10 == 0 ? 25 : 1), 200_000);

        List<Integer> tail = seen.subList(seen.size() / 2, seen.size());
        assertThat(tail).allSatisfy(l -> assertThat(l).isBetween(20, 20 + beta(28)));
    }

    @Test
    void dropsWhenLatencyRises_asWhenALockIsHeld() {
        AdaptiveLimit limit = new AdaptiveLimit(AdaptiveLimit.Settings.of(2, 200), ticker);
        drive(limit, knee(20), 20_000);
        int before = limit.limit();
        assertThat(before).isBetween(20, 28);

        // every statement now waits ~10x longer, whatever the concurrency: 1 s of simulated time
        long end = ticker.read() + Duration.ofSeconds(1).toNanos();
        while (ticker.read() < end) {
            drive(limit, inflight -> 10 * knee(20).applyAsLong(inflight), 1);
        }

        assertThat(limit.limit()).isLessThanOrEqualTo(before / 2);
    }

    @Test
    void recoversAfterLatencyFallsBack() {
        AdaptiveLimit limit = new AdaptiveLimit(AdaptiveLimit.Settings.of(2, 200), ticker);
        drive(limit, knee(20), 20_000);
        drive(limit, inflight -> 10 * knee(20).applyAsLong(inflight), 1_000);
        assertThat(limit.limit()).isLessThan(20);

        drive(limit, knee(20), 20_000);

        assertThat(limit.limit()).isBetween(20, 28);
    }

    @Test
    void followsAWorkloadThatBecameSlower_throughTheProbe() {
        AdaptiveLimit limit = new AdaptiveLimit(settings(2, 200, 2), ticker);
        drive(limit, knee(20), 20_000);
        long before = limit.snapshot().baselineRttNanos();

        // heavier statements: 3x the latency at every concurrency, knee unchanged
        List<Integer> seen = drive(limit, inflight -> 3 * knee(20).applyAsLong(inflight), 100_000);

        assertThat(limit.snapshot().baselineRttNanos()).isEqualTo(3 * before);
        assertThat(seen.subList(seen.size() / 2, seen.size())).allSatisfy(l -> assertThat(l).isBetween(20, 28));
    }

    @Test
    void staysWithinBounds() {
        AdaptiveLimit limit = new AdaptiveLimit(
                new AdaptiveLimit.Settings(5, 12, 8, Duration.ofMillis(100), 20, Duration.ofSeconds(30)), ticker);
        List<Integer> flat = drive(limit, inflight -> BASE, 20_000);
        assertThat(flat).allSatisfy(l -> assertThat(l).isBetween(5, 12));
        assertThat(limit.limit()).isEqualTo(12);

        for (int i = 0; i < 2_000; i++) {
            ticker.advance(Duration.ofMillis(1));
            limit.onSample(BASE, limit.limit(), true);
            assertThat(limit.limit()).isBetween(5, 12);
        }
        assertThat(limit.limit()).isEqualTo(5);
    }

    @Test
    void doesNotGrow_whenDemandIsBelowHalfTheLimit() {
        AdaptiveLimit limit = new AdaptiveLimit(
                new AdaptiveLimit.Settings(2, 200, 40, Duration.ofMillis(100), 20, Duration.ofSeconds(30)), ticker);
        for (int i = 0; i < 10_000; i++) {
            ticker.advanceNanos(BASE / 5);
            limit.onSample(BASE, 5, false);
        }
        assertThat(limit.limit()).isEqualTo(40);
    }

    @Test
    void cutsOnDrops() {
        AdaptiveLimit limit = new AdaptiveLimit(
                new AdaptiveLimit.Settings(2, 200, 100, Duration.ofMillis(100), 20, Duration.ofSeconds(30)), ticker);
        // one window at the minimum concurrency measures the no-load latency
        for (int i = 0; i < 20; i++) {
            ticker.advance(Duration.ofMillis(10));
            limit.onSample(BASE, 2, false);
        }
        List<int[]> changes = new ArrayList<>();
        limit.addListener((o, n, reason, base, rtt) -> changes.add(new int[] {o, n, reason.ordinal()}));
        for (int i = 0; i < 20; i++) {
            ticker.advance(Duration.ofMillis(10));
            limit.onSample(BASE, 100, i == 3);
        }
        assertThat(limit.limit()).isEqualTo(90);
        assertThat(changes).hasSize(1);
        assertThat(changes.get(0)).containsExactly(100, 90, AdaptiveLimit.Reason.DROP.ordinal());
    }

    @Test
    void probes_atTheMinimum_thenRestoresTheLimit() {
        AdaptiveLimit limit = new AdaptiveLimit(settings(2, 200, 2), ticker);
        List<AdaptiveLimit.Reason> reasons = new ArrayList<>();
        limit.addListener((o, n, reason, base, rtt) -> reasons.add(reason));
        drive(limit, knee(20), 20_000);
        assertThat(reasons).contains(AdaptiveLimit.Reason.PROBE_START, AdaptiveLimit.Reason.PROBE_END);

        // advance to the start of the next probe and watch it
        while (!limit.snapshot().probing()) {
            drive(limit, knee(20), 1);
        }
        assertThat(limit.limit()).isEqualTo(2);
        int beforeIndex = reasons.lastIndexOf(AdaptiveLimit.Reason.PROBE_START);
        while (limit.snapshot().probing()) {
            drive(limit, knee(20), 1);
        }
        assertThat(reasons.get(beforeIndex + 1)).isEqualTo(AdaptiveLimit.Reason.PROBE_END);
        assertThat(limit.limit()).isBetween(20, 28);
    }
}

package dev.sluice.admission;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The number of statements an upstream should run at once, learned from their latency: it rises
 * while latency stays at its no-load level and falls when latency shows requests queueing inside
 * PostgreSQL. Always between {@link Settings#minLimit()} and {@link Settings#maxLimit()}.
 *
 * <p>Design notes. A queue-estimating algorithm in the family of TCP Vegas, with a periodic
 * minimum-latency probe borrowed from TCP BBR. Netflix concurrency-limits' Gradient2 and Vegas
 * were tried first: fed a steady saturated load whose latency is flat up to a concurrency C* and
 * rises linearly above it, both drift to their maximum, because each re-learns its no-load
 * latency from loaded samples (Gradient2's long-term average follows the load; Vegas's random
 * probe resets the minimum to a loaded sample) and nothing ever shows them a lower one again.
 * <ol>
 * <li><b>Windows.</b> Samples (one per finished statement: latency, statements in flight when it
 *     finished, whether it was dropped) are gathered into windows that close once
 *     {@link Settings#window()} has passed on the {@link Ticker} and at least
 *     {@link Settings#minWindowSamples()} arrived (or 256 samples arrived, whichever is first).
 *     A window's latency is the <em>median</em> of its samples: a mix of fast and slow
 *     statements moves the mean a lot and the median little, while queueing delays every
 *     statement and moves the median too.</li>
 * <li><b>Baseline.</b> The no-load latency is the lowest window latency seen since the last
 *     probe. A window in which no sample saw more than {@code minLimit} statements in flight
 *     measures the no-load latency directly and replaces the baseline, up or down.</li>
 * <li><b>Probe.</b> If no such window happened for {@link Settings#probeInterval()}, or none yet
 *     when the first window closes, the limit is
 *     held at {@code minLimit} until one window of samples taken at that concurrency closes (a
 *     probe), then restored. This is how the baseline follows a workload that really became
 *     slower instead of reading it as queueing forever. Samples finishing with more in flight
 *     while the probe drains are ignored; a probe that gets no window within ten window
 *     lengths gives up until the next interval.</li>
 * <li><b>Update per window.</b> {@code queue = limit × (1 − baseline / latency)} estimates how
 *     many statements wait inside the server. With {@code α = max(2, round(3·log10 limit))}
 *     and {@code β = 2α}: a dropped sample cuts the limit by 10%; {@code queue ≤ α/2} adds β
 *     (fast start); {@code queue < α} adds 1; {@code queue > β} subtracts
 *     {@code (queue − β) / 2} (at least 1, at most half the limit); otherwise the limit stays.
 *     Increases need demand: when fewer than half the limit were ever in flight during the
 *     window the limit does not grow.</li>
 * </ol>
 * Where latency is flat up to C* and then grows in proportion to concurrency, {@code queue}
 * equals {@code limit − C*}, so the limit settles between C* and C* + β: a few statements kept
 * queued so PostgreSQL never idles, as Vegas intends. Above that band each window halves the
 * distance to C* + β; below it the limit grows by β per window.
 *
 * <p>Concurrency: {@link #onSample} takes a short lock (the per-window median sorts at most 256
 * longs, once per window); {@link #limit()} is a volatile read. Listeners run on the thread that
 * delivered the closing sample, after the lock is released, and must not block; two changes
 * made on different threads at nearly the same time may reach a listener out of order, so
 * {@link #limit()} is the authority.
 */
public final class AdaptiveLimit {

    /**
     * @param minLimit         the limit never goes below this (at least 1); also the concurrency
     *                         of a probe, so keep it below the concurrency where latency rises
     * @param maxLimit         the limit never goes above this, e.g. the pool size
     * @param initialLimit     the limit before any sample, clamped into [min, max]
     * @param window           shortest duration of a window
     * @param minWindowSamples fewest samples in a window
     * @param probeInterval    longest time without a no-load measurement before probing
     */
    public record Settings(int minLimit, int maxLimit, int initialLimit, Duration window,
                           int minWindowSamples, Duration probeInterval) {
        public Settings {
            if (minLimit < 1) {
                throw new IllegalArgumentException("minLimit: " + minLimit + " (expected: >= 1)");
            }
            if (maxLimit < minLimit) {
                throw new IllegalArgumentException("maxLimit: " + maxLimit + " (expected: >= minLimit " + minLimit + ")");
            }
            if (minWindowSamples < 1 || minWindowSamples > MAX_WINDOW_SAMPLES) {
                throw new IllegalArgumentException("minWindowSamples: " + minWindowSamples
                        + " (expected: 1.." + MAX_WINDOW_SAMPLES + ")");
            }
            if (window.isNegative() || probeInterval.isNegative() || probeInterval.isZero()) {
                throw new IllegalArgumentException("window: " + window + ", probeInterval: " + probeInterval
                        + " (expected: window >= 0, probeInterval > 0)");
            }
            initialLimit = Math.max(minLimit, Math.min(maxLimit, initialLimit));
        }

        /** Defaults for an upstream: 100 ms windows of at least 20 samples, a probe every 30 s. */
        public static Settings of(int minLimit, int maxLimit) {
            return new Settings(minLimit, maxLimit, minLimit, Duration.ofMillis(100), 20, Duration.ofSeconds(30));
        }
    }

    /** Why the limit changed. */
    public enum Reason {
        /** Latency stayed near its baseline. */
        INCREASE,
        /** Latency showed requests queueing in the server. */
        DECREASE,
        /** A sample was dropped (timed out or failed for load). */
        DROP,
        /** Held at the minimum to measure the no-load latency. */
        PROBE_START,
        /** Probe over, previous limit restored. */
        PROBE_END
    }

    /** Told of every change of {@link #limit()}. */
    @FunctionalInterface
    public interface Listener {
        void limitChanged(int oldLimit, int newLimit, Reason reason, long baselineRttNanos, long windowRttNanos);
    }

    /**
     * A point-in-time view for status output.
     *
     * @param limit            the current limit
     * @param baselineRttNanos the learned no-load latency, 0 before the first window
     * @param lastRttNanos     the latency of the last closed window, 0 before it
     * @param probing          whether a probe holds the limit at the minimum
     */
    public record Snapshot(int limit, long baselineRttNanos, long lastRttNanos, boolean probing) {
    }

    private static final int MAX_WINDOW_SAMPLES = 256;
    private static final int PROBE_GIVE_UP_WINDOWS = 10;

    private final Settings settings;
    private final Ticker ticker;
    private final long windowNanos;
    private final long probeIntervalNanos;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    private final ReentrantLock lock = new ReentrantLock();
    private volatile int limit;
    /** The limit to restore after a probe. */
    private int limitBeforeProbe;
    private boolean probing;
    private long probeStartedAt;
    private long lastNoLoadAt;
    /** Whether the baseline came from a no-load window; until then the first loaded window probes. */
    private boolean baselineMeasured;
    private long baseline;
    private long lastRtt;
    private final long[] samples = new long[MAX_WINDOW_SAMPLES];
    private int count;
    private long windowStart;
    private int maxInflight;
    private boolean dropped;

    public AdaptiveLimit(Settings settings, Ticker ticker) {
        this.settings = Objects.requireNonNull(settings);
        this.ticker = Objects.requireNonNull(ticker);
        this.windowNanos = settings.window().toNanos();
        this.probeIntervalNanos = settings.probeInterval().toNanos();
        this.limit = settings.initialLimit();
        long now = ticker.read();
        this.windowStart = now;
        this.lastNoLoadAt = now;
    }

    /** The number of statements that may run at once now. */
    public int limit() {
        return limit;
    }

    public void addListener(Listener listener) {
        listeners.add(Objects.requireNonNull(listener));
    }

    /**
     * Records one finished statement.
     *
     * @param rttNanos latency from sending the statement to its completion
     * @param inflight statements in flight on this upstream when it finished, itself included
     * @param dropped  whether it timed out or was refused for load rather than completing
     */
    public void onSample(long rttNanos, int inflight, boolean dropped) {
        if (rttNanos <= 0) {
            return;
        }
        long now = ticker.read();
        int oldLimit;
        int newLimit;
        Reason reason;
        lock.lock();
        try {
            oldLimit = limit;
            if (probing && inflight > settings.minLimit()) {
                // the probe is still draining: this sample saw more than the probed concurrency
                if (now - probeStartedAt <= PROBE_GIVE_UP_WINDOWS * Math.max(windowNanos, 1)) {
                    return;
                }
                probing = false;
                lastNoLoadAt = now;
                baselineMeasured = true;
                newLimit = limitBeforeProbe;
                reason = Reason.PROBE_END;
            } else {
                samples[count++] = rttNanos;
                maxInflight = Math.max(maxInflight, inflight);
                this.dropped |= dropped;
                boolean full = count == MAX_WINDOW_SAMPLES;
                if (!full && (count < settings.minWindowSamples() || now - windowStart < windowNanos)) {
                    return;
                }
                long rtt = median();
                lastRtt = rtt;
                if (maxInflight <= settings.minLimit()) {
                    // nothing queued in the server this window: a direct no-load measurement
                    baseline = rtt;
                    lastNoLoadAt = now;
                    baselineMeasured = true;
                } else if (baseline == 0 || rtt < baseline) {
                    baseline = rtt;
                }
                if (probing) {
                    probing = false;
                    newLimit = limitBeforeProbe;
                    reason = Reason.PROBE_END;
                } else if (!baselineMeasured || now - lastNoLoadAt >= probeIntervalNanos) {
                    probing = true;
                    probeStartedAt = now;
                    limitBeforeProbe = oldLimit;
                    newLimit = settings.minLimit();
                    reason = Reason.PROBE_START;
                } else {
                    newLimit = next(oldLimit, baseline, rtt);
                    reason = newLimit > oldLimit ? Reason.INCREASE : this.dropped ? Reason.DROP : Reason.DECREASE;
                }
            }
            limit = newLimit;
            resetWindow(now);
        } finally {
            lock.unlock();
        }
        if (newLimit != oldLimit) {
            Snapshot s = snapshot();
            for (Listener l : listeners) {
                l.limitChanged(oldLimit, newLimit, reason, s.baselineRttNanos(), s.lastRttNanos());
            }
        }
    }

    /** The limit after a window with median latency {@code rtt}; lock held. */
    private int next(int current, long base, long rtt) {
        int min = settings.minLimit();
        int max = settings.maxLimit();
        if (dropped) {
            return clamp((int) Math.floor(current * 0.9), min, max);
        }
        double queue = current * (1.0 - (double) base / rtt);
        int alpha = Math.max(2, (int) Math.round(3 * Math.log10(current)));
        int beta = 2 * alpha;
        boolean appLimited = maxInflight * 2 < current;
        int next = current;
        if (queue <= alpha / 2.0) {
            next = appLimited ? current : current + beta;
        } else if (queue < alpha) {
            next = appLimited ? current : current + 1;
        } else if (queue > beta) {
            int cut = (int) Math.max(1, Math.min(current / 2.0, (queue - beta) / 2));
            next = current - cut;
        }
        return clamp(next, min, max);
    }

    private static int clamp(int v, int min, int max) {
        return Math.max(min, Math.min(max, v));
    }

    private long median() {
        Arrays.sort(samples, 0, count);
        return samples[count / 2];
    }

    private void resetWindow(long now) {
        count = 0;
        maxInflight = 0;
        dropped = false;
        windowStart = now;
    }

    public Snapshot snapshot() {
        lock.lock();
        try {
            return new Snapshot(limit, baseline, lastRtt, probing);
        } finally {
            lock.unlock();
        }
    }

    public Settings settings() {
        return settings;
    }
}

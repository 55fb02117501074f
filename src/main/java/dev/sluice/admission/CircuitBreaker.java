package dev.sluice.admission;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Fails fast while an upstream is unreachable, one breaker per upstream.
 *
 * <p>Contract. The caller asks {@link #tryAcquirePermission()} before a connection attempt (or a
 * statement) and reports its outcome with {@link #onSuccess()} or {@link #onFailure()}. Only
 * connection-level failures are reported as failures (refused or reset connections, login
 * timeouts, a backend terminated under the session); the caller classifies, and SQL errors such
 * as 23505 or 40001 prove the upstream alive, so they count as successes or are not reported.
 * <ul>
 * <li>{@link State#CLOSED}: every call is permitted. {@link Settings#failureThreshold()}
 *     consecutive failures open the breaker; a success resets the count.</li>
 * <li>{@link State#OPEN}: no call is permitted (the caller answers 08006) until the cool-down has
 *     passed; the first {@code tryAcquirePermission} after it moves to half-open. Outcomes
 *     reported while open belong to calls permitted earlier and are ignored.</li>
 * <li>{@link State#HALF_OPEN}: up to {@link Settings#halfOpenProbes()} calls are permitted as
 *     probes. The first success closes the breaker and resets the cool-down; a failure reopens
 *     it with the cool-down multiplied by {@link Settings#backoffMultiplier()}, up to
 *     {@link Settings#maxCoolDown()}. Probes whose outcome never arrives are forgotten after one
 *     cool-down, so a lost probe cannot wedge the breaker.</li>
 * </ul>
 * Thread-safe; a short lock. The {@link Listener} is called under that lock, so it sees changes
 * in order, and must only log or count.
 */
public final class CircuitBreaker {

    public enum State { CLOSED, OPEN, HALF_OPEN }

    /**
     * @param failureThreshold  consecutive failures that open the breaker (>= 1)
     * @param coolDown          first time spent open
     * @param maxCoolDown       longest time spent open after repeated failed probes
     * @param backoffMultiplier growth of the cool-down after each failed probe (>= 1)
     * @param halfOpenProbes    calls let through while half-open (>= 1)
     */
    public record Settings(int failureThreshold, Duration coolDown, Duration maxCoolDown,
                           double backoffMultiplier, int halfOpenProbes) {
        public Settings {
            if (failureThreshold < 1 || halfOpenProbes < 1 || !(backoffMultiplier >= 1)
                    || coolDown.isNegative() || coolDown.isZero() || maxCoolDown.compareTo(coolDown) < 0) {
                throw new IllegalArgumentException("circuit breaker settings " + failureThreshold + " failures, cool-down "
                        + coolDown + " up to " + maxCoolDown + " x" + backoffMultiplier + ", " + halfOpenProbes
                        + " probes (expected: failures >= 1, 0 < cool-down <= max, multiplier >= 1, probes >= 1)");
            }
        }

        /** 5 failures, 5 s cool-down doubling up to 60 s, 1 probe. */
        public static Settings defaults() {
            return new Settings(5, Duration.ofSeconds(5), Duration.ofSeconds(60), 2.0, 1);
        }
    }

    /** Told of each state change, under the breaker's lock. */
    @FunctionalInterface
    public interface Listener {
        void stateChanged(String upstream, State from, State to, String reason);
    }

    private final String upstream;
    private final Settings settings;
    private final Ticker ticker;
    private final Listener listener;

    private final ReentrantLock lock = new ReentrantLock();
    private volatile State state = State.CLOSED;
    /** Written under the lock; read without it on the success path. */
    private volatile int consecutiveFailures;
    private long openedAt;
    private long coolDownNanos;
    private int probesInFlight;
    private long halfOpenedAt;

    public CircuitBreaker(String upstream, Settings settings, Ticker ticker, Listener listener) {
        this.upstream = Objects.requireNonNull(upstream);
        this.settings = Objects.requireNonNull(settings);
        this.ticker = Objects.requireNonNull(ticker);
        this.listener = listener == null ? (u, f, t, r) -> { } : listener;
        this.coolDownNanos = settings.coolDown().toNanos();
    }

    /** Whether a call may go to the upstream now; see the class contract. */
    public boolean tryAcquirePermission() {
        if (state == State.CLOSED) {
            return true;
        }
        long now = ticker.read();
        lock.lock();
        try {
            switch (state) {
                case CLOSED -> {
                    return true;
                }
                case OPEN -> {
                    if (now - openedAt < coolDownNanos) {
                        return false;
                    }
                    transition(State.HALF_OPEN, "cool-down of " + coolDownNanos / 1_000_000 + " ms over");
                    halfOpenedAt = now;
                    probesInFlight = 0;
                }
                case HALF_OPEN -> {
                    if (now - halfOpenedAt >= coolDownNanos) {
                        // probes that never reported: let new ones through
                        halfOpenedAt = now;
                        probesInFlight = 0;
                    }
                }
            }
            if (probesInFlight < settings.halfOpenProbes()) {
                probesInFlight++;
                return true;
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** A permitted call reached the upstream. */
    public void onSuccess() {
        if (state == State.CLOSED && consecutiveFailures == 0) {
            // the common case, without the lock
            return;
        }
        lock.lock();
        try {
            switch (state) {
                case CLOSED -> consecutiveFailures = 0;
                case OPEN -> { }
                case HALF_OPEN -> {
                    consecutiveFailures = 0;
                    coolDownNanos = settings.coolDown().toNanos();
                    transition(State.CLOSED, "probe succeeded");
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** A permitted call failed at connection level. */
    public void onFailure() {
        long now = ticker.read();
        lock.lock();
        try {
            switch (state) {
                case CLOSED -> {
                    consecutiveFailures++;
                    if (consecutiveFailures >= settings.failureThreshold()) {
                        openedAt = now;
                        transition(State.OPEN, consecutiveFailures + " consecutive connection failures");
                    }
                }
                case OPEN -> { }
                case HALF_OPEN -> {
                    coolDownNanos = Math.min(settings.maxCoolDown().toNanos(),
                            (long) (coolDownNanos * settings.backoffMultiplier()));
                    openedAt = now;
                    transition(State.OPEN, "probe failed; next probe in " + coolDownNanos / 1_000_000 + " ms");
                }
            }
        } finally {
            lock.unlock();
        }
    }

    public State state() {
        return state;
    }

    /** While open, nanoseconds until probes are allowed; otherwise 0. */
    public long retryAfterNanos() {
        long now = ticker.read();
        lock.lock();
        try {
            return state == State.OPEN ? Math.max(0, openedAt + coolDownNanos - now) : 0;
        } finally {
            lock.unlock();
        }
    }

    public String upstream() {
        return upstream;
    }

    private void transition(State to, String reason) {
        State from = state;
        state = to;
        listener.stateChanged(upstream, from, to, reason);
    }
}

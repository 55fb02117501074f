package dev.sluice.admission;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The operating mode of one pool (or of the whole proxy), derived from load signals the caller
 * samples periodically, with hysteresis, and overridable by an operator.
 *
 * <p>Contract.
 * <ul>
 * <li><b>Signals</b> ({@link Signals}): how full the admission queue is, how long its oldest entry
 *     has waited, and whether the adaptive limit sits at its minimum (PostgreSQL slow even at
 *     the lowest concurrency allowed).</li>
 * <li><b>Entering</b> a worse mode is immediate: {@link Mode#EMERGENCY} when the queue fill or
 *     the oldest wait reaches its emergency <em>enter</em> threshold; {@link Mode#DEGRADED} when
 *     either reaches its degraded enter threshold or the limit sits at its minimum.</li>
 * <li><b>Leaving</b> is one step at a time (emergency, then degraded, then normal), only when
 *     every signal is below the current mode's <em>leave</em> thresholds (lower than the enter
 *     ones) and the mode has lasted at least {@link Thresholds#minDwell()}.</li>
 * <li><b>Override</b>: {@link #force(Mode)} fixes the mode reported by {@link #mode()} until
 *     {@link #auto()}; the automatic mode keeps being computed meanwhile, so returning to auto
 *     resumes from the current load.</li>
 * <li>{@link #shouldShed(Priority)}: in emergency, {@link Priority#LOW} and
 *     {@link Priority#BACKGROUND} are refused at admission; nothing is shed otherwise.</li>
 * </ul>
 * Thread-safe; {@link #mode()} is a volatile read. The listener is called under a short lock on
 * the thread that caused the change, and must only log or count.
 */
public final class OperatingMode {

    public enum Mode {
        NORMAL, DEGRADED, EMERGENCY;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One sample of the load.
     *
     * @param queueDepth      entries waiting for a server connection
     * @param queueCapacity   most entries that may wait
     * @param oldestWaitNanos how long the oldest entry has waited
     * @param limitAtMinimum  whether the adaptive limit is at its configured minimum
     */
    public record Signals(int queueDepth, int queueCapacity, long oldestWaitNanos, boolean limitAtMinimum) {
        double queueFill() {
            return queueCapacity <= 0 ? (queueDepth > 0 ? 1.0 : 0.0) : (double) queueDepth / queueCapacity;
        }
    }

    /**
     * Enter and leave thresholds; each leave threshold must be at most its enter threshold.
     *
     * @param degradedQueueEnter   queue fill (0..1) that enters degraded
     * @param degradedQueueLeave   queue fill below which degraded may be left
     * @param emergencyQueueEnter  queue fill that enters emergency
     * @param emergencyQueueLeave  queue fill below which emergency may be left
     * @param degradedWaitEnter    oldest wait that enters degraded
     * @param degradedWaitLeave    oldest wait below which degraded may be left
     * @param emergencyWaitEnter   oldest wait that enters emergency
     * @param emergencyWaitLeave   oldest wait below which emergency may be left
     * @param minDwell             shortest time in a mode before stepping down from it
     */
    public record Thresholds(double degradedQueueEnter, double degradedQueueLeave,
                             double emergencyQueueEnter, double emergencyQueueLeave,
                             Duration degradedWaitEnter, Duration degradedWaitLeave,
                             Duration emergencyWaitEnter, Duration emergencyWaitLeave,
                             Duration minDwell) {
        public Thresholds {
            if (degradedQueueLeave > degradedQueueEnter || emergencyQueueLeave > emergencyQueueEnter
                    || degradedWaitLeave.compareTo(degradedWaitEnter) > 0
                    || emergencyWaitLeave.compareTo(emergencyWaitEnter) > 0
                    || degradedQueueEnter > emergencyQueueEnter
                    || degradedWaitEnter.compareTo(emergencyWaitEnter) > 0
                    || minDwell.isNegative()) {
                throw new IllegalArgumentException("operating mode thresholds: queue degraded " + degradedQueueEnter
                        + "/" + degradedQueueLeave + ", emergency " + emergencyQueueEnter + "/" + emergencyQueueLeave
                        + ", wait degraded " + degradedWaitEnter + "/" + degradedWaitLeave + ", emergency "
                        + emergencyWaitEnter + "/" + emergencyWaitLeave + ", dwell " + minDwell
                        + " (expected: leave <= enter, degraded enter <= emergency enter, minDwell >= 0)");
            }
        }

        /**
         * Degraded at half a queue or 1 s of waiting (left below a quarter, 250 ms); emergency at
         * 90% or 5 s (left below half, 2 s); at least 10 s in a mode before stepping down.
         */
        public static Thresholds defaults() {
            return forWaits(Duration.ofSeconds(1), Duration.ofSeconds(5));
        }

        /**
         * The default queue thresholds with these oldest waits entering degraded and emergency;
         * degraded is left below a quarter of its wait, emergency below two fifths of its own.
         *
         * @throws IllegalArgumentException if {@code degraded} is longer than {@code emergency}
         */
        public static Thresholds forWaits(Duration degraded, Duration emergency) {
            return new Thresholds(0.5, 0.25, 0.9, 0.5,
                    degraded, degraded.dividedBy(4),
                    emergency, emergency.multipliedBy(2).dividedBy(5),
                    Duration.ofSeconds(10));
        }
    }

    /** Told of each change of {@link #mode()}. */
    @FunctionalInterface
    public interface Listener {
        void modeChanged(Mode from, Mode to, String reason);
    }

    private volatile Thresholds t;
    private final Ticker ticker;
    private final Listener listener;
    private final ReentrantLock lock = new ReentrantLock();

    private Mode automatic = Mode.NORMAL;
    private long enteredAt;
    private Mode forced;
    private volatile Mode effective = Mode.NORMAL;

    public OperatingMode(Thresholds thresholds, Ticker ticker, Listener listener) {
        this.t = Objects.requireNonNull(thresholds);
        this.ticker = Objects.requireNonNull(ticker);
        this.listener = listener == null ? (f, to, r) -> { } : listener;
        this.enteredAt = ticker.read();
    }

    /** Feeds one sample; returns the mode now in force. */
    public Mode update(Signals s) {
        long now = ticker.read();
        lock.lock();
        try {
            Thresholds t = this.t; // one set of thresholds per sample, even across a reload
            Mode target = entered(t, s);
            String reason;
            if (target.compareTo(automatic) > 0) {
                reason = describe(s);
            } else if (automatic != Mode.NORMAL && mayLeave(t, automatic, s) && now - enteredAt >= t.minDwell().toNanos()) {
                target = Mode.values()[automatic.ordinal() - 1];
                reason = "load below the " + automatic.configName() + " leave thresholds: " + describe(s);
            } else {
                return effective;
            }
            automatic = target;
            enteredAt = now;
            publish(reason);
            return effective;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Judges the next samples by {@code next}; the current mode stays until a sample says
     * otherwise (a reload changing the thresholds neither resets nor re-evaluates it at once).
     */
    public void thresholds(Thresholds next) {
        t = Objects.requireNonNull(next);
    }

    /** The thresholds samples are judged by. */
    public Thresholds thresholds() {
        return t;
    }

    /** The mode in force: the operator's if forced, else the automatic one. */
    public Mode mode() {
        return effective;
    }

    /** The mode the signals alone give, whatever the override. */
    public Mode automaticMode() {
        lock.lock();
        try {
            return automatic;
        } finally {
            lock.unlock();
        }
    }

    /** Operator override: report {@code mode} until {@link #auto()}. */
    public void force(Mode mode) {
        lock.lock();
        try {
            forced = Objects.requireNonNull(mode);
            publish("forced by operator");
        } finally {
            lock.unlock();
        }
    }

    /** Ends an operator override. */
    public void auto() {
        lock.lock();
        try {
            forced = null;
            publish("operator override ended");
        } finally {
            lock.unlock();
        }
    }

    /** Whether the mode is forced by an operator. */
    public boolean isForced() {
        lock.lock();
        try {
            return forced != null;
        } finally {
            lock.unlock();
        }
    }

    /** Whether new work of class {@code priority} should be refused now (53300). */
    public boolean shouldShed(Priority priority) {
        return effective == Mode.EMERGENCY && (priority == Priority.LOW || priority == Priority.BACKGROUND);
    }

    private static Mode entered(Thresholds t, Signals s) {
        double fill = s.queueFill();
        long wait = s.oldestWaitNanos();
        if (fill >= t.emergencyQueueEnter() || wait >= t.emergencyWaitEnter().toNanos()) {
            return Mode.EMERGENCY;
        }
        if (fill >= t.degradedQueueEnter() || wait >= t.degradedWaitEnter().toNanos() || s.limitAtMinimum()) {
            return Mode.DEGRADED;
        }
        return Mode.NORMAL;
    }

    private static boolean mayLeave(Thresholds t, Mode current, Signals s) {
        double fill = s.queueFill();
        long wait = s.oldestWaitNanos();
        return switch (current) {
            case EMERGENCY -> fill < t.emergencyQueueLeave() && wait < t.emergencyWaitLeave().toNanos();
            case DEGRADED -> fill < t.degradedQueueLeave() && wait < t.degradedWaitLeave().toNanos()
                    && !s.limitAtMinimum();
            case NORMAL -> false;
        };
    }

    private static String describe(Signals s) {
        return "queue " + s.queueDepth() + "/" + s.queueCapacity() + ", oldest wait "
                + s.oldestWaitNanos() / 1_000_000 + " ms" + (s.limitAtMinimum() ? ", limit at minimum" : "");
    }

    /** Lock held. */
    private void publish(String reason) {
        Mode next = forced != null ? forced : automatic;
        Mode prev = effective;
        effective = next;
        if (prev != next) {
            listener.modeChanged(prev, next, reason);
        }
    }
}

package dev.sluice.admission;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * A bounded wait queue of requests for a server connection, ordered by {@link Priority} class and
 * first-come within a class, each entry with a deadline.
 *
 * <p>Design notes.
 * <ul>
 * <li><b>Bound.</b> At most {@link Settings#capacity()} entries wait, all classes together. When
 *     the queue is full, an arrival is refused at once ({@link Offer#rejected()}) unless an entry
 *     of a strictly lower class waits: then the <em>newest</em> entry of the <em>lowest</em> class
 *     present is displaced to make room and handed back in {@link Offer#displaced()}, so the
 *     caller can answer it 53300 like any refusal. The newest is chosen because it has invested
 *     the least waiting. Hence an arrival of the lowest class present, or lower, is refused.</li>
 * <li><b>Deadlines.</b> An entry's deadline is its arrival time plus its class's timeout
 *     ({@link Settings#timeouts()}). {@link #expire(long)} removes and returns the entries past
 *     their deadline so the caller can answer 57014; {@link #nextDeadline()} says when to call it
 *     next. {@link #poll()} does not look at deadlines: an entry granted a moment after its
 *     deadline, before the caller's timer fired, is served rather than cancelled.</li>
 * <li><b>Starvation protection by aging.</b> For the choice made by {@link #poll()}, an entry
 *     that has waited {@code k} times {@link Settings#agingStep()} counts as {@code k} classes
 *     higher, up to {@link Priority#CRITICAL}; between equal effective classes the longest waiting
 *     goes first. So a {@code background} entry outranks fresh {@code critical} arrivals after
 *     four aging steps, and no class waits longer than about four steps plus the service time of
 *     the entries that were older when it aged. Aging changes only the order of service, never
 *     the class used for displacement, shedding or deadlines. With an aging step of zero, aging
 *     is off and the order is strictly by class.</li>
 * <li><b>Concurrency.</b> Any thread may call any method. One lock guards the queue and is held
 *     only for a few pointer updates (plus a scan of at most five class heads in {@code poll});
 *     nothing is called back under it. Items are compared by identity: offering the same item
 *     twice while it waits is refused with {@link IllegalStateException}. An item that is a
 *     {@link Member} keeps its own place; for others the queue keeps an identity map.</li>
 * </ul>
 *
 * @param <T> what waits, typically the pool's waiter record
 */
public final class AdmissionQueue<T> {

    /**
     * @param capacity  most entries waiting at once, all classes together; 0 refuses everything
     * @param timeouts  how long an entry of each class may wait; every class must be present
     * @param agingStep waiting this long raises an entry one class for {@link #poll()}; zero
     *                  turns aging off
     */
    public record Settings(int capacity, Map<Priority, Duration> timeouts, Duration agingStep) {
        public Settings {
            if (capacity < 0) {
                throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 0)");
            }
            timeouts = Map.copyOf(new EnumMap<>(timeouts));
            for (Priority p : Priority.values()) {
                Duration d = timeouts.get(p);
                if (d == null || d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("timeout for " + p.configName() + ": " + d
                            + " (expected: a positive duration)");
                }
            }
            if (agingStep.isNegative()) {
                throw new IllegalArgumentException("agingStep: " + agingStep + " (expected: >= 0)");
            }
        }

        /** The same timeout for every class. */
        public static Settings uniform(int capacity, Duration timeout, Duration agingStep) {
            Map<Priority, Duration> m = new EnumMap<>(Priority.class);
            for (Priority p : Priority.values()) {
                m.put(p, timeout);
            }
            return new Settings(capacity, m, agingStep);
        }
    }

    /**
     * The answer to {@link #offer}.
     *
     * @param admitted  whether the item now waits in the queue
     * @param displaced an entry pushed out to make room for the item (the caller must refuse it
     *                  with 53300), or {@code null}
     */
    public record Offer<T>(boolean admitted, T displaced) {
        private static final Offer<?> ADMITTED = new Offer<>(true, null);
        private static final Offer<?> REJECTED = new Offer<>(false, null);

        @SuppressWarnings("unchecked")
        static <T> Offer<T> admittedOnly() {
            return (Offer<T>) ADMITTED;
        }

        @SuppressWarnings("unchecked")
        static <T> Offer<T> rejectedOnly() {
            return (Offer<T>) REJECTED;
        }

        /** Whether the item was refused because the queue is full. */
        public boolean rejected() {
            return !admitted;
        }
    }

    private static final int CLASSES = Priority.values().length;

    /** Written under the lock ({@link #settings}); read without it by {@link #capacity()}. */
    private volatile int capacity;
    /** Guarded by the lock. */
    private final long[] timeoutNanos = new long[CLASSES];
    /** Guarded by the lock. */
    private long agingNanos;
    private final Ticker ticker;

    private final ReentrantLock lock = new ReentrantLock();
    /** One doubly linked FIFO per class: oldest at head. */
    private final Entry<T>[] heads;
    private final Entry<T>[] tails;
    private final int[] sizes = new int[CLASSES];
    /** Entries of items that do not keep their own ({@link Member}). */
    private final Map<T, Entry<T>> index = new IdentityHashMap<>();
    private int size;

    @SuppressWarnings({"unchecked", "rawtypes"})
    public AdmissionQueue(Settings settings, Ticker ticker) {
        this.ticker = Objects.requireNonNull(ticker);
        this.heads = new Entry[CLASSES];
        this.tails = new Entry[CLASSES];
        settings(settings);
    }

    /**
     * Takes new settings (a configuration reload). Entries already waiting get the new timeout of
     * their class, counted from their arrival (so deadlines still ascend within a class, and an
     * entry already past its new deadline goes at the next {@link #expire}); a smaller capacity
     * refuses arrivals until enough entries have left; a new aging step applies to every entry at
     * the next {@link #poll()}.
     */
    public void settings(Settings settings) {
        lock.lock();
        try {
            for (Priority p : Priority.values()) {
                timeoutNanos[p.ordinal()] = settings.timeouts().get(p).toNanos();
            }
            for (int c = 0; c < CLASSES; c++) {
                for (Entry<T> e = heads[c]; e != null; e = e.next) {
                    e.deadline = e.enqueuedAt + timeoutNanos[c];
                }
            }
            agingNanos = settings.agingStep().toNanos();
            capacity = settings.capacity();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Puts {@code item} in the queue as class {@code priority}, or refuses it because the queue is
     * full; see the class notes for displacement.
     *
     * @throws IllegalStateException if {@code item} is already waiting
     */
    public Offer<T> offer(T item, Priority priority) {
        Objects.requireNonNull(item);
        int c = priority.ordinal();
        long now = ticker.read();
        lock.lock();
        try {
            if (entryOf(item) != null) {
                throw new IllegalStateException("already waiting: " + item);
            }
            T displaced = null;
            if (size >= capacity) {
                int lowest = lowestClassPresent();
                if (lowest <= c) {
                    return Offer.rejectedOnly();
                }
                Entry<T> victim = tails[lowest];
                unlink(victim);
                displaced = victim.item;
            }
            Entry<T> e = new Entry<>(item, c, now, now + timeoutNanos[c]);
            link(e);
            return displaced == null ? Offer.admittedOnly() : new Offer<>(true, displaced);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the entry to serve next: the one with the highest class after aging, the longest
     * waiting among equals; {@code null} when the queue is empty.
     */
    public T poll() {
        return poll(ANY);
    }

    private static final Predicate<Object> ANY = x -> true;

    /**
     * As {@link #poll()}, among the entries {@code eligible} accepts only (fair shares: a waiter
     * whose key holds its maximum share is passed over, not removed). Within a class the oldest
     * eligible entry competes; {@code null} when none is eligible.
     */
    public T poll(Predicate<? super T> eligible) {
        lock.lock();
        try {
            if (size == 0) {
                return null; // the common case when connections are plentiful: no clock read
            }
            long now = agingNanos > 0 ? ticker.read() : 0;
            Entry<T> best = null;
            int bestClass = Integer.MAX_VALUE;
            for (int c = 0; c < CLASSES; c++) {
                Entry<T> h = heads[c];
                while (h != null && !eligible.test(h.item)) {
                    h = h.next;
                }
                if (h == null) {
                    continue;
                }
                int effective = effectiveClass(h, now);
                if (effective < bestClass || (effective == bestClass && h.enqueuedAt < best.enqueuedAt)) {
                    best = h;
                    bestClass = effective;
                }
            }
            if (best == null) {
                return null;
            }
            unlink(best);
            return best.item;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes and returns, oldest first within each class and classes highest first, every entry
     * whose deadline is at or before {@code nowNanos} (a {@link Ticker} reading).
     */
    public List<T> expire(long nowNanos) {
        List<T> out = null;
        lock.lock();
        try {
            for (int c = 0; c < CLASSES; c++) {
                // one timeout per class and FIFO order: deadlines ascend from the head
                Entry<T> h;
                while ((h = heads[c]) != null && h.deadline - nowNanos <= 0) {
                    unlink(h);
                    if (out == null) {
                        out = new ArrayList<>();
                    }
                    out.add(h.item);
                }
            }
        } finally {
            lock.unlock();
        }
        return out == null ? List.of() : out;
    }

    /** The earliest deadline of any waiting entry, or {@link Long#MAX_VALUE} when empty. */
    public long nextDeadline() {
        lock.lock();
        try {
            long min = Long.MAX_VALUE;
            for (int c = 0; c < CLASSES; c++) {
                if (heads[c] != null && (min == Long.MAX_VALUE || heads[c].deadline - min < 0)) {
                    min = heads[c].deadline;
                }
            }
            return min;
        } finally {
            lock.unlock();
        }
    }

    /** Takes {@code item} out of the queue (client went away); whether it was waiting. */
    public boolean remove(T item) {
        lock.lock();
        try {
            Entry<T> e = entryOf(item);
            if (e == null) {
                return false;
            }
            unlink(e);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Entries waiting, all classes. */
    public int size() {
        lock.lock();
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }

    /** Entries of class {@code priority} waiting. */
    public int size(Priority priority) {
        lock.lock();
        try {
            return sizes[priority.ordinal()];
        } finally {
            lock.unlock();
        }
    }

    /** Entries waiting per class, a consistent copy. */
    public Map<Priority, Integer> sizes() {
        Map<Priority, Integer> m = new EnumMap<>(Priority.class);
        lock.lock();
        try {
            for (Priority p : Priority.values()) {
                m.put(p, sizes[p.ordinal()]);
            }
        } finally {
            lock.unlock();
        }
        return m;
    }

    /** How long the longest-waiting entry has waited, in nanoseconds; 0 when empty. */
    public long oldestWaitNanos() {
        long now = ticker.read();
        lock.lock();
        try {
            long oldest = 0;
            for (int c = 0; c < CLASSES; c++) {
                if (heads[c] != null) {
                    oldest = Math.max(oldest, now - heads[c].enqueuedAt);
                }
            }
            return oldest;
        } finally {
            lock.unlock();
        }
    }

    public int capacity() {
        return capacity;
    }

    private int effectiveClass(Entry<T> e, long now) {
        if (agingNanos <= 0) {
            return e.priority;
        }
        long steps = (now - e.enqueuedAt) / agingNanos;
        return (int) Math.max(0, e.priority - steps);
    }

    /** Lock held; -1 when empty. */
    private int lowestClassPresent() {
        for (int c = CLASSES - 1; c >= 0; c--) {
            if (heads[c] != null) {
                return c;
            }
        }
        return -1;
    }

    private void link(Entry<T> e) {
        int c = e.priority;
        e.prev = tails[c];
        if (tails[c] == null) {
            heads[c] = e;
        } else {
            tails[c].next = e;
        }
        tails[c] = e;
        sizes[c]++;
        size++;
        if (e.item instanceof Member m) {
            m.admissionEntry(e);
        } else {
            index.put(e.item, e);
        }
    }

    private void unlink(Entry<T> e) {
        int c = e.priority;
        if (e.prev == null) {
            heads[c] = e.next;
        } else {
            e.prev.next = e.next;
        }
        if (e.next == null) {
            tails[c] = e.prev;
        } else {
            e.next.prev = e.prev;
        }
        e.prev = null;
        e.next = null;
        sizes[c]--;
        size--;
        if (e.item instanceof Member m) {
            m.admissionEntry(null);
        } else {
            index.remove(e.item);
        }
    }

    /** Lock held. */
    @SuppressWarnings("unchecked")
    private Entry<T> entryOf(T item) {
        return item instanceof Member m ? (Entry<T>) m.admissionEntry() : index.get(item);
    }

    /**
     * An item that keeps its own place in the queue, sparing the queue an identity map lookup
     * per offer and per removal (the pool's waiters; with a thousand clients waiting, that lookup
     * was a cache miss on every request). Only the queue calls these, under its lock.
     */
    public interface Member {
        /** What the queue last stored, null when the item does not wait. */
        Object admissionEntry();

        void admissionEntry(Object entry);
    }

    private static final class Entry<T> {
        final T item;
        final int priority;
        final long enqueuedAt;
        /** Changed only by {@link #settings}, under the lock. */
        long deadline;
        Entry<T> prev;
        Entry<T> next;

        Entry(T item, int priority, long enqueuedAt, long deadline) {
            this.item = item;
            this.priority = priority;
            this.enqueuedAt = enqueuedAt;
            this.deadline = deadline;
        }
    }
}

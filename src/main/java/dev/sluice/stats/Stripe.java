package dev.sluice.stats;

import java.util.function.Consumer;

/**
 * A long-keyed open-addressing table of entries (linear probing, backward-shift deletion, load at
 * most one half). Not thread-safe: {@link QueryStats} synchronises on the stripe.
 */
final class Stripe {
    private long[] keys = new long[16];
    private Entry[] vals = new Entry[16];
    private int size;

    private static int slot(long id, int mask) {
        long h = id * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }

    int size() {
        return size;
    }

    Entry get(long id) {
        int mask = vals.length - 1;
        for (int i = slot(id, mask); vals[i] != null; i = (i + 1) & mask) {
            if (keys[i] == id) {
                return vals[i];
            }
        }
        return null;
    }

    /** Adds {@code e}; its id must not be present. */
    void put(Entry e) {
        if ((size + 1) * 2 > vals.length) {
            resize(vals.length * 2);
        }
        insert(e);
        size++;
    }

    private void insert(Entry e) {
        int mask = vals.length - 1;
        int i = slot(e.id, mask);
        while (vals[i] != null) {
            i = (i + 1) & mask;
        }
        keys[i] = e.id;
        vals[i] = e;
    }

    private void resize(int capacity) {
        Entry[] old = vals;
        keys = new long[capacity];
        vals = new Entry[capacity];
        for (Entry e : old) {
            if (e != null) {
                insert(e);
            }
        }
    }

    boolean remove(long id) {
        int mask = vals.length - 1;
        int i = slot(id, mask);
        while (vals[i] != null && keys[i] != id) {
            i = (i + 1) & mask;
        }
        if (vals[i] == null) {
            return false;
        }
        vals[i] = null;
        size--;
        // backward shift: move later entries of the run into the hole when their home allows it
        for (int j = (i + 1) & mask; vals[j] != null; j = (j + 1) & mask) {
            int home = slot(keys[j], mask);
            boolean movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
            if (movable) {
                keys[i] = keys[j];
                vals[i] = vals[j];
                vals[j] = null;
                i = j;
            }
        }
        return true;
    }

    void forEach(Consumer<Entry> action) {
        for (Entry e : vals) {
            if (e != null) {
                action.accept(e);
            }
        }
    }

    void clear() {
        keys = new long[16];
        vals = new Entry[16];
        size = 0;
    }
}

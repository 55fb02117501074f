package dev.sluice.backend;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The prepared statements Sluice created on one server connection in transaction pooling mode,
 * keyed by statement identity, least recently used first. Names are {@code sluice_<n>} with n
 * never reused on the connection, so a statement whose Close was skipped by the server cannot
 * collide with a later one. Owned by whichever session holds the connection.
 */
public final class ServerStatements {
    private final int capacity;
    private final LinkedHashMap<StatementKey, String> byKey = new LinkedHashMap<>(16, 0.75f, true);
    private long next;
    /** Names whose Close the server skipped (an error earlier in its exchange); null while none. */
    private List<String> closesOwed;

    public ServerStatements(int capacity) {
        this.capacity = capacity;
    }

    /** The server-side name of {@code key}, or {@code null} if not prepared here. Marks it used. */
    public String get(StatementKey key) {
        return byKey.get(key);
    }

    /** Registers {@code key} under a fresh name and returns the name. */
    public String add(StatementKey key) {
        String name = "sluice_" + (++next);
        byKey.put(key, name);
        return name;
    }

    /** Forgets {@code key} (its Parse failed or was skipped by the server). */
    public void remove(StatementKey key, String name) {
        byKey.remove(key, name);
    }

    /**
     * If over capacity, removes the least recently used statement and returns its server name so
     * the caller can Close it on the server; otherwise {@code null}.
     */
    public String evictOne() {
        if (byKey.size() <= capacity) {
            return null;
        }
        Iterator<Map.Entry<StatementKey, String>> it = byKey.entrySet().iterator();
        String name = it.next().getValue();
        it.remove();
        return name;
    }

    /** The server skipped the Close of {@code name}: it is still prepared there, and owed a Close. */
    public void closeSkipped(String name) {
        if (closesOwed == null) {
            closesOwed = new ArrayList<>(2);
        }
        closesOwed.add(name);
    }

    /**
     * The names owed a Close, forgotten here: the caller sends them. Empty while none. A name
     * registered again meanwhile (prepared anew in a later exchange of the same pipeline) is left
     * alone: closing it would drop the statement that later exchange prepared.
     */
    public List<String> takeClosesOwed() {
        List<String> owed = closesOwed;
        closesOwed = null;
        if (owed == null) {
            return List.of();
        }
        owed.removeIf(byKey::containsValue);
        return owed;
    }

    /**
     * The server dropped its prepared statements (DISCARD ALL, DEALLOCATE): only {@code names},
     * prepared after that (their Parse not answered yet), are still there.
     */
    public void retainNames(Set<String> names) {
        byKey.values().retainAll(names);
        closesOwed = null;
    }

    /** Forgets the statement the server knows as {@code name} (it said it has none); its key, or null. */
    public StatementKey removeName(String name) {
        for (Iterator<Map.Entry<StatementKey, String>> it = byKey.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<StatementKey, String> e = it.next();
            if (e.getValue().equals(name)) {
                it.remove();
                return e.getKey();
            }
        }
        return null;
    }

    /** The server dropped all prepared statements (DISCARD ALL, DEALLOCATE ALL). */
    public void clear() {
        byKey.clear();
        closesOwed = null;
    }

    public int size() {
        return byKey.size();
    }
}

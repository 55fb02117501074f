package dev.sluice.frontend;

import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The requests a session sent to its server connection that PostgreSQL has not answered yet, in
 * order. It tells the session which server message ends which request, so Sluice knows when a
 * server connection is truly idle (nothing outstanding, ReadyForQuery 'I'), which answers belong
 * to messages Sluice injected (and must not reach the client), and where answers Sluice makes up
 * itself (a ParseComplete for a statement already prepared on the server) go in the stream.
 *
 * <p>A ring of small integers, so tracking costs no allocation per message.
 * Not thread-safe: owned by the session's event loop.
 */
final class RequestTracker {
    // requests the client sent and the server answers
    static final byte PARSE = 1;
    static final byte BIND = 2;
    static final byte DESCRIBE = 3;
    static final byte EXECUTE = 4;
    static final byte CLOSE = 5;
    static final byte SYNC = 6;
    /** Simple Query or FunctionCall: answered up to and including ReadyForQuery. */
    static final byte QUERY = 7;
    // requests Sluice sent on its own: their answers are swallowed
    static final byte INJECTED_PARSE = 8;
    static final byte INJECTED_CLOSE = 9;
    static final byte INJECTED_QUERY = 10;
    // answers Sluice gives itself when they reach the head
    static final byte SYNTHETIC_PARSE_COMPLETE = 11;
    static final byte SYNTHETIC_CLOSE_COMPLETE = 12;
    /** A Bind Sluice sent again to retry an Execute: its BindComplete is swallowed. */
    static final byte INJECTED_BIND = 13;
    /**
     * Where the client's CopyDone or CopyFail stands among its requests. Not a request: the
     * server answers nothing to it, and it leaves the tracker when it reaches the head. It marks
     * where a copy-in ends, because PostgreSQL ignores the Syncs a client sends before that.
     */
    static final byte COPY_END = 14;
    /**
     * Sync + empty Query Sluice sent after a copy-in failed, when PostgreSQL may or may not answer
     * Syncs the client sent during the copy: every ReadyForQuery before the query's
     * EmptyQueryResponse, but the last (the Sync's), is the client's.
     */
    static final byte FENCE = 15;
    /**
     * A client's Parse of a name it already has. PostgreSQL never sees the duplicate (Sluice
     * renames statements), so Sluice sends a Parse that fails analysis in its place: the exchange
     * stops there as PostgreSQL would stop it, and the error is answered as PostgreSQL's 42P05.
     * The payload is the client's name.
     */
    static final byte DUPLICATE_PARSE = 16;

    private byte[] kinds = new byte[16];
    private Object[] payloads = new Object[16];
    private int head;
    private int size;

    void add(byte kind) {
        add(kind, null);
    }

    void add(byte kind, Object payload) {
        if (kind == COPY_END && size == 0) {
            return; // nothing outstanding for it to mark
        }
        if (size == kinds.length) {
            grow();
        }
        int i = (head + size) & (kinds.length - 1);
        kinds[i] = kind;
        payloads[i] = payload;
        size++;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /** The kind at the head, or 0 when empty. */
    byte peek() {
        return size == 0 ? 0 : kinds[head];
    }

    Object peekPayload() {
        return size == 0 ? null : payloads[head];
    }

    /** Removes the head and returns its kind (0 when empty). */
    byte pop() {
        if (size == 0) {
            return 0;
        }
        byte k = kinds[head];
        payloads[head] = null;
        head = (head + 1) & (kinds.length - 1);
        size--;
        while (size > 0 && kinds[head] == COPY_END) {
            head = (head + 1) & (kinds.length - 1);
            size--;
        }
        return k;
    }

    /**
     * The server started a copy-in for the request at the head: forgets the Syncs queued after it
     * up to the client's CopyDone or CopyFail, which PostgreSQL ignores in copy-in mode (it
     * answers them with nothing) as long as the copy does not fail before it reads them.
     *
     * @return how many Syncs were forgotten
     */
    int copyInStarted() {
        int kept = 1;
        int dropped = 0;
        boolean ended = false;
        for (int n = 1; n < size; n++) {
            int i = (head + n) & (kinds.length - 1);
            byte k = kinds[i];
            if (k == COPY_END) {
                ended = true;
            }
            if (k == SYNC && !ended) {
                dropped++;
                continue;
            }
            int to = (head + kept) & (kinds.length - 1);
            kinds[to] = k;
            payloads[to] = payloads[i];
            kept++;
        }
        for (int n = kept; n < size; n++) {
            payloads[(head + n) & (kinds.length - 1)] = null;
        }
        size = kept;
        return dropped;
    }

    /** Whether the client's CopyDone or CopyFail is queued. */
    boolean hasCopyEnd() {
        return contains(COPY_END);
    }

    /** Whether a Sync is queued, i.e. an extended-protocol error would stop skipping at it. */
    boolean hasSync() {
        return contains(SYNC);
    }

    /**
     * Whether a request queued before the last Sync, in an exchange PostgreSQL has not answered
     * yet, carries a payload {@code test} accepts.
     */
    boolean anyBeforeLastSync(Predicate<Object> test) {
        int last = size - 1;
        while (last >= 0 && kinds[(head + last) & (kinds.length - 1)] != SYNC) {
            last--;
        }
        for (int n = 0; n < last; n++) {
            Object p = payloads[(head + n) & (kinds.length - 1)];
            if (p != null && test.test(p)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a simple Query or FunctionCall is outstanding. */
    boolean hasQuery() {
        return contains(QUERY);
    }

    /** Calls {@code action} with every payload, from the head on. */
    void forEachPayload(Consumer<Object> action) {
        for (int n = 0; n < size; n++) {
            Object p = payloads[(head + n) & (kinds.length - 1)];
            if (p != null) {
                action.accept(p);
            }
        }
    }

    /** The first payload, from the head on, that {@code test} accepts; null when none. */
    Object firstPayload(Predicate<Object> test) {
        for (int n = 0; n < size; n++) {
            Object p = payloads[(head + n) & (kinds.length - 1)];
            if (p != null && test.test(p)) {
                return p;
            }
        }
        return null;
    }

    private boolean contains(byte kind) {
        for (int n = 0; n < size; n++) {
            if (kinds[(head + n) & (kinds.length - 1)] == kind) {
                return true;
            }
        }
        return false;
    }

    /** Whether everything outstanding was sent by Sluice itself (e.g. the parameters it re-applies). */
    boolean onlyInjected() {
        for (int n = 0; n < size; n++) {
            byte k = kinds[(head + n) & (kinds.length - 1)];
            if (!isInjected(k) && k != COPY_END) {
                return false;
            }
        }
        return true;
    }

    static boolean isInjected(byte kind) {
        return kind == INJECTED_PARSE || kind == INJECTED_CLOSE || kind == INJECTED_QUERY || kind == INJECTED_BIND
                || kind == FENCE;
    }

    static boolean isSynthetic(byte kind) {
        return kind == SYNTHETIC_PARSE_COMPLETE || kind == SYNTHETIC_CLOSE_COMPLETE;
    }

    /** Extended-protocol requests: an error in one makes PostgreSQL skip the rest up to Sync. */
    static boolean isExtended(byte kind) {
        return kind >= PARSE && kind <= CLOSE || kind == INJECTED_PARSE || kind == INJECTED_CLOSE
                || kind == INJECTED_BIND || kind == DUPLICATE_PARSE || isSynthetic(kind);
    }

    void clear() {
        while (size > 0) {
            pop();
        }
    }

    private void grow() {
        byte[] k = new byte[kinds.length * 2];
        Object[] p = new Object[kinds.length * 2];
        for (int n = 0; n < size; n++) {
            k[n] = kinds[(head + n) & (kinds.length - 1)];
            p[n] = payloads[(head + n) & (kinds.length - 1)];
        }
        kinds = k;
        payloads = p;
        head = 0;
    }
}

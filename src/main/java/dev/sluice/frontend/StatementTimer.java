package dev.sluice.frontend;

import dev.sluice.sql.Fingerprinter;
import dev.sluice.stats.QueryStats;
import io.netty.buffer.ByteBuf;
import java.util.HashMap;
import java.util.Map;

/**
 * Times a session's statements for {@link QueryStats}: a FIFO of the statements in flight
 * (simple Query messages and Executes, in the order PostgreSQL answers them) with their
 * fingerprint id, start time and admission wait, plus the fingerprint of each prepared statement
 * of the session, taken once at its Parse.
 *
 * <p>Cost per statement: for a Query, one fingerprint (a lexer pass over the text, no
 * allocation) and a {@link QueryStats#contains} probe; for an Execute, none; at completion one
 * {@link QueryStats#record}. The normalised text is built only for a fingerprint the store has
 * not seen. Arrays grow with the deepest pipeline and are then reused: no allocation per
 * statement. Only the session's event loop touches it.
 */
final class StatementTimer {
    private final QueryStats stats;
    private static final long[] NO_LONGS = {};
    private static final String[] NO_TEXTS = {};
    /**
     * Longs per statement in {@link #slots}: fingerprint id, start, admission wait, and 1 when
     * {@link #texts} holds its text. One array, so that a statement's figures share a cache line.
     */
    private static final int STRIDE = 4;
    // allocated with the first statement: an idle client costs no arrays
    private long[] slots = NO_LONGS;
    /** Normalised texts of statements the store has not seen; touched only for those. */
    private String[] texts = NO_TEXTS;
    private int head;
    private int size;

    /** Rows and error of the simple query at the head, gathered until its ReadyForQuery. */
    private long queryRows = -1;
    private String queryError;

    /** Fingerprint of the unnamed statement and of the unnamed portal (what the next Execute runs). */
    private long unnamedId;
    private String unnamedText;
    private long portalId;
    private String portalText;
    private Map<String, Named> named;
    /** Admission wait not yet charged to a statement. */
    private long pendingWait;

    StatementTimer(QueryStats stats) {
        this.stats = stats;
    }

    /** The session got a server connection after waiting {@code nanos}: charged to the next statement. */
    void waited(long nanos) {
        pendingWait += nanos;
    }

    /** A simple Query whose text is {@code buf[from, to)} goes to the server now. */
    void query(ByteBuf buf, int from, int to, long now) {
        long id = Fingerprinter.id(buf, from, to);
        push(id, now, stats.contains(id) ? null : Fingerprinter.normalize(buf, from, to));
    }

    /** A Parse of statement {@code name} ("" for unnamed) whose text is {@code buf[from, to)}. */
    void parse(String name, ByteBuf buf, int from, int to) {
        long id = Fingerprinter.id(buf, from, to);
        String text = stats.contains(id) ? null : Fingerprinter.normalize(buf, from, to);
        if (name.isEmpty()) {
            unnamedId = id;
            unnamedText = text;
        } else {
            if (named == null) {
                named = new HashMap<>();
            }
            named.put(name, new Named(id, text));
        }
    }

    /** A Bind of statement {@code name} ("" for unnamed): the next Execute runs it. */
    void bind(String name) {
        if (name.isEmpty()) {
            portalId = unnamedId;
            portalText = unnamedText;
        } else {
            Named n = named == null ? null : named.get(name);
            if (n != null && n.text != null && stats.contains(n.id)) {
                n.text = null; // recorded once: the store has it now
            }
            portalId = n == null ? 0 : n.id;
            portalText = n == null ? null : n.text;
        }
    }

    /** A Close of statement {@code name}. */
    void close(String name) {
        if (named != null) {
            named.remove(name);
        }
    }

    /** A request that is answered like a Query but not timed (a FunctionCall). */
    void untimed() {
        push(0, 0, null);
    }

    /** An Execute goes to the server now. */
    void execute(long now) {
        push(portalId, now, portalText);
    }

    private void push(long id, long now, String text) {
        if (size == texts.length) {
            grow();
        }
        int i = (head + size) & (texts.length - 1);
        int k = i * STRIDE;
        slots[k] = id;
        slots[k + 1] = now - pendingWait; // end to end: the wait for a server connection is part of it
        slots[k + 2] = pendingWait;
        if (text != null) {
            texts[i] = text;
            slots[k + 3] = 1;
        } else {
            slots[k + 3] = 0;
        }
        pendingWait = 0;
        size++;
    }

    /** A CommandComplete for the simple query at the head: adds its rows. */
    void queryRows(long rows) {
        if (rows >= 0) {
            queryRows = queryRows < 0 ? rows : queryRows + rows;
        }
    }

    /** An ErrorResponse for the simple query at the head. */
    void queryError(String sqlState) {
        queryError = sqlState;
    }

    /** The ReadyForQuery ending the simple query at the head. */
    void queryDone(long now, String database, String user, String application) {
        long rows = queryRows;
        String error = queryError;
        queryRows = -1;
        queryError = null;
        done(now, rows, error, database, user, application);
    }

    /** The Execute at the head finished with {@code rows} (negative if unknown) or the error {@code sqlState}. */
    void done(long now, long rows, String sqlState, String database, String user, String application) {
        if (size == 0) {
            return;
        }
        int k = head * STRIDE;
        long id = slots[k];
        String text = removeHead();
        if (id != 0) {
            stats.recordAt(now, id, text == null ? null : () -> text, database, user, application, now - slots[k + 1],
                    slots[k + 2], rows, sqlState);
        }
    }

    /** Forgets the statement at the head without recording it (skipped after an error). */
    void drop() {
        if (size > 0) {
            removeHead();
        }
    }

    /** Removes the statement at the head; returns its text, or null when it has none. */
    private String removeHead() {
        int i = head;
        String text = null;
        if (slots[i * STRIDE + 3] != 0) {
            text = texts[i];
            texts[i] = null;
        }
        head = (i + 1) & (texts.length - 1);
        size--;
        return text;
    }

    /** Forgets everything in flight (the server connection was lost). */
    void clear() {
        while (size > 0) {
            drop();
        }
        queryRows = -1;
        queryError = null;
        pendingWait = 0;
    }

    private void grow() {
        int n = Math.max(4, texts.length * 2);
        long[] s2 = new long[n * STRIDE];
        String[] t2 = new String[n];
        for (int k = 0; k < size; k++) {
            int j = (head + k) & (texts.length - 1);
            System.arraycopy(slots, j * STRIDE, s2, k * STRIDE, STRIDE);
            t2[k] = texts[j];
        }
        slots = s2;
        texts = t2;
        head = 0;
    }

    /**
     * The row count a CommandComplete tag ends with ({@code SELECT 5}, {@code INSERT 0 5}), or -1
     * when it has none. Reads the frame in place.
     */
    static long rowsOf(ByteBuf b, int start, int size) {
        int end = start + size - 1; // the tag's terminating zero
        long rows = 0;
        long scale = 1;
        int i = end - 1;
        while (i > start + 5 && b.getByte(i) >= '0' && b.getByte(i) <= '9') {
            rows += (b.getByte(i) - '0') * scale;
            scale *= 10;
            i--;
        }
        return scale == 1 || b.getByte(i) != ' ' ? -1 : rows;
    }

    private static final class Named {
        final long id;
        String text;

        Named(long id, String text) {
            this.id = id;
            this.text = text;
        }
    }
}

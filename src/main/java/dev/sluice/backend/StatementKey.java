package dev.sluice.backend;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Identity of a prepared statement independent of its name: the bytes of a Parse message after
 * the statement name (query text, parameter count and types). Two clients preparing the same
 * text with the same types share one server-side statement.
 */
public final class StatementKey {
    private static final byte[] DEALLOCATE = "deallocate".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DISCARD = "discard".getBytes(StandardCharsets.US_ASCII);

    private final byte[] body;
    private final int hash;
    private final boolean dropsStatements;

    private StatementKey(byte[] body, boolean dropsStatements) {
        this.body = body;
        this.hash = Arrays.hashCode(body);
        this.dropsStatements = dropsStatements;
    }

    /** Copies {@code length} bytes at absolute {@code index}: the Parse body after the name. */
    public static StatementKey of(ByteBuf buf, int index, int length) {
        byte[] bytes = new byte[length];
        buf.getBytes(index, bytes);
        return new StatementKey(bytes, mayDropStatements(buf, index, index + length));
    }

    /** Whether running this statement may drop prepared statements (see {@link #mayDropStatements}). */
    public boolean dropsStatements() {
        return dropsStatements;
    }

    /**
     * Whether the statement text at {@code index} (up to {@code end}) may be a DEALLOCATE or
     * DISCARD, which drop prepared statements: it starts with either word, in any letter case,
     * after white space and semicolons, or with a comment or parenthesis that hides its first word.
     */
    public static boolean mayDropStatements(ByteBuf b, int index, int end) {
        int i = index;
        while (i < end && (isSpace(b.getByte(i)) || b.getByte(i) == ';')) { // empty statements before it
            i++;
        }
        if (i >= end) {
            return false;
        }
        byte c = b.getByte(i);
        if (c == '/' || c == '-' || c == '(') {
            return true;
        }
        return startsWithWord(b, i, end, DEALLOCATE) || startsWithWord(b, i, end, DISCARD);
    }

    private static boolean startsWithWord(ByteBuf b, int at, int end, byte[] word) {
        if (at + word.length > end) {
            return false;
        }
        for (int j = 0; j < word.length; j++) {
            if ((b.getByte(at + j) | 0x20) != word[j]) {
                return false;
            }
        }
        if (at + word.length == end) {
            return true;
        }
        byte next = b.getByte(at + word.length);
        return !(next >= 'a' && next <= 'z' || next >= 'A' && next <= 'Z' || next >= '0' && next <= '9' || next == '_');
    }

    private static boolean isSpace(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
    }

    /** Writes the Parse body (query, parameter types) into {@code out}. */
    public void writeBody(ByteBuf out) {
        out.writeBytes(body);
    }

    public int bodyLength() {
        return body.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StatementKey k && k.hash == hash && Arrays.equals(k.body, body);
    }

    @Override
    public int hashCode() {
        return hash;
    }
}

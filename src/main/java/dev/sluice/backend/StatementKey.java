package dev.sluice.backend;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * Identity of a prepared statement independent of its name: the bytes of a Parse message after
 * the statement name (query text, parameter count and types). Two clients preparing the same
 * text with the same types share one server-side statement.
 */
public final class StatementKey {
    private final byte[] body;
    private final int hash;

    private StatementKey(byte[] body) {
        this.body = body;
        this.hash = Arrays.hashCode(body);
    }

    /** Copies {@code length} bytes at absolute {@code index}: the Parse body after the name. */
    public static StatementKey of(ByteBuf buf, int index, int length) {
        byte[] bytes = new byte[length];
        buf.getBytes(index, bytes);
        return new StatementKey(bytes);
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

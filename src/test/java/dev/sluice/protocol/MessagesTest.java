package dev.sluice.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessagesTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    @Test
    void errorResponse_encodesSeverityCodeAndMessageFields() {
        ByteBuf b = Messages.errorResponse(ALLOC, "FATAL", SqlState.PROTOCOL_VIOLATION, "bad length: 3 (expected: 4)");
        try {
            assertThat(b.getByte(0)).isEqualTo((byte) 'E');
            assertThat(b.getInt(1)).isEqualTo(b.readableBytes() - 1);
            ByteBuf expected = Unpooled.buffer();
            expected.writeByte('S').writeBytes(cstr("FATAL"))
                    .writeByte('V').writeBytes(cstr("FATAL"))
                    .writeByte('C').writeBytes(cstr("08P01"))
                    .writeByte('M').writeBytes(cstr("bad length: 3 (expected: 4)"))
                    .writeByte(0);
            assertThat(b.slice(5, b.readableBytes() - 5)).isEqualTo(expected);
            expected.release();
        } finally {
            b.release();
        }
    }

    @Test
    void withErrorMessage_replacesOnlyTheMessage_keepingEveryOtherFieldInOrder() {
        ByteBuf b = ALLOC.buffer();
        b.writeBytes(new byte[] {'Z', 0, 0, 0, 5, 'I'}); // a frame before it in the same buffer
        int start = b.writerIndex();
        b.writeByte('E').writeInt(0);
        b.writeByte('S').writeBytes(cstr("ERROR")).writeByte('C').writeBytes(cstr("08P01"))
                .writeByte('M').writeBytes(cstr("prepared statement \"sluice_7\" requires 1"))
                .writeByte('F').writeBytes(cstr("postgres.c")).writeByte(0);
        b.setInt(start + 1, b.writerIndex() - start - 1);
        ByteBuf out = Messages.withErrorMessage(ALLOC, b, start, b.writerIndex() - start, "prepared statement \"c\" requires 1");
        try {
            assertThat(out.getByte(0)).isEqualTo((byte) 'E');
            assertThat(out.getInt(1)).isEqualTo(out.readableBytes() - 1);
            ByteBuf expected = Unpooled.buffer();
            expected.writeByte('S').writeBytes(cstr("ERROR")).writeByte('C').writeBytes(cstr("08P01"))
                    .writeByte('M').writeBytes(cstr("prepared statement \"c\" requires 1"))
                    .writeByte('F').writeBytes(cstr("postgres.c")).writeByte(0);
            assertThat(out.slice(5, out.readableBytes() - 5)).isEqualTo(expected);
            expected.release();
        } finally {
            out.release();
            b.release();
        }
    }

    @Test
    void errorField_readsBackEachField() {
        ByteBuf b = Messages.errorResponse(ALLOC, "ERROR", SqlState.QUERY_CANCELED, "caf\u00e9 closed");
        try {
            int size = b.readableBytes();
            assertThat(Messages.errorField(b, 0, size, 'S')).isEqualTo("ERROR");
            assertThat(Messages.errorField(b, 0, size, 'V')).isEqualTo("ERROR");
            assertThat(Messages.errorField(b, 0, size, 'C')).isEqualTo("57014");
            assertThat(Messages.errorField(b, 0, size, 'M')).isEqualTo("caf\u00e9 closed");
            assertThat(Messages.errorField(b, 0, size, 'D')).isNull();
        } finally {
            b.release();
        }
    }

    @Test
    void errorField_frameInsideALargerBuffer_readsRelativeToStart() {
        ByteBuf e = Messages.noticeResponse(ALLOC, "WARNING", "01000", "careful");
        ByteBuf b = ALLOC.buffer();
        b.writeBytes(new byte[] {'Z', 0, 0, 0, 5, 'I'});
        int start = b.writerIndex();
        int size = e.readableBytes();
        b.writeBytes(e);
        b.writeBytes(new byte[] {'Z', 0, 0, 0, 5, 'I'});
        e.release();
        try {
            assertThat(b.getByte(start)).isEqualTo((byte) 'N');
            assertThat(Messages.errorField(b, start, size, 'C')).isEqualTo("01000");
            assertThat(Messages.errorField(b, start, size, 'M')).isEqualTo("careful");
        } finally {
            b.release();
        }
    }

    @Test
    void errorField_unterminatedField_null() {
        ByteBuf b = Unpooled.buffer();
        b.writeByte('E').writeInt(0).writeByte('C').writeBytes("08P01".getBytes(StandardCharsets.US_ASCII));
        Messages.finish(b, 0);

        assertThat(Messages.errorField(b, 0, b.readableBytes(), 'C')).isNull();
        b.release();
    }

    @Test
    void startupMessage_layout() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "app");
        params.put("database", "app");
        ByteBuf b = Messages.startupMessage(ALLOC, params);
        try {
            ByteBuf expected = Unpooled.buffer();
            expected.writeInt(0).writeInt(196608)
                    .writeBytes(cstr("user")).writeBytes(cstr("app"))
                    .writeBytes(cstr("database")).writeBytes(cstr("app"))
                    .writeByte(0);
            expected.setInt(0, expected.readableBytes());
            assertThat(b).isEqualTo(expected);
            assertThat(b.getInt(0)).isEqualTo(b.readableBytes());
            assertThat(b.getInt(4)).isEqualTo(Messages.PROTOCOL_3_0).isEqualTo(3 << 16);
            assertThat(b.getByte(b.readableBytes() - 1)).isZero();
            expected.release();
        } finally {
            b.release();
        }
    }

    @Test
    void untypedCode_sslAndCancelRequestLayout() {
        ByteBuf ssl = Messages.untypedCode(ALLOC, Messages.SSL_REQUEST_CODE);
        ByteBuf cancel = Messages.untypedCode(ALLOC, Messages.CANCEL_REQUEST_CODE, 42, -7);
        try {
            assertThat(ssl.readableBytes()).isEqualTo(8);
            assertThat(ssl.getInt(0)).isEqualTo(8);
            assertThat(ssl.getInt(4)).isEqualTo((1234 << 16) | 5679);
            assertThat(cancel.readableBytes()).isEqualTo(16);
            assertThat(cancel.getInt(0)).isEqualTo(16);
            assertThat(cancel.getInt(4)).isEqualTo((1234 << 16) | 5678);
            assertThat(cancel.getInt(8)).isEqualTo(42);
            assertThat(cancel.getInt(12)).isEqualTo(-7);
        } finally {
            ssl.release();
            cancel.release();
        }
    }

    @Test
    void query_lengthCountsItselfAndTerminator() {
        ByteBuf b = Messages.query(ALLOC, "SELECT '\u00e9'");
        try {
            assertThat(b.getByte(0)).isEqualTo((byte) 'Q');
            assertThat(b.getInt(1)).isEqualTo(b.readableBytes() - 1);
            assertThat(Messages.cstringAt(b, 5, b.readableBytes())).isEqualTo("SELECT '\u00e9'");
            assertThat(Messages.skipCstring(b, 5, b.readableBytes())).isEqualTo(b.readableBytes());
        } finally {
            b.release();
        }
    }

    @Test
    void readyForQuery_layout() {
        ByteBuf b = Messages.readyForQuery(ALLOC, (byte) 'T');
        try {
            assertThat(ByteBufEquals.bytes(b)).containsExactly('Z', 0, 0, 0, 5, 'T');
        } finally {
            b.release();
        }
    }

    @Test
    void negotiateProtocolVersion_listsUnsupportedOptions() {
        ByteBuf b = Messages.negotiateProtocolVersion(ALLOC, 0, List.of("_pq_.a", "_pq_.b"));
        try {
            assertThat(b.getByte(0)).isEqualTo((byte) 'v');
            assertThat(b.getInt(1)).isEqualTo(b.readableBytes() - 1);
            assertThat(b.getInt(5)).isZero();
            assertThat(b.getInt(9)).isEqualTo(2);
            int next = Messages.skipCstring(b, 13, b.readableBytes());
            assertThat(Messages.cstringAt(b, 13, b.readableBytes())).isEqualTo("_pq_.a");
            assertThat(Messages.cstringAt(b, next, b.readableBytes())).isEqualTo("_pq_.b");
        } finally {
            b.release();
        }
    }

    @Test
    void cstringAt_noTerminatorBeforeEnd_protocolException() {
        ByteBuf b = Unpooled.wrappedBuffer(new byte[] {'a', 'b', 'c', 0});
        assertThatThrownBy(() -> Messages.cstringAt(b, 0, 3)).isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> Messages.skipCstring(b, 0, 3)).isInstanceOf(ProtocolException.class);
        assertThat(Messages.cstringAt(b, 0, 4)).isEqualTo("abc");
        b.release();
    }

    private static byte[] cstr(String s) {
        byte[] t = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[t.length + 1];
        System.arraycopy(t, 0, out, 0, t.length);
        return out;
    }

    /** Readable bytes as ints, for compact assertions. */
    private static final class ByteBufEquals {
        static int[] bytes(ByteBuf b) {
            int[] out = new int[b.readableBytes()];
            for (int i = 0; i < out.length; i++) {
                out[i] = b.getByte(b.readerIndex() + i);
            }
            return out;
        }
    }
}

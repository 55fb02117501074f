package dev.sluice.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Encoders for the messages Sluice writes itself (most traffic is forwarded untouched and never
 * passes through here), plus the few decoders the proxy needs: strings, ErrorResponse fields.
 * Every encoder returns a new buffer the caller owns.
 */
public final class Messages {
    public static final int SSL_REQUEST_CODE = 80877103;
    public static final int GSSENC_REQUEST_CODE = 80877104;
    public static final int CANCEL_REQUEST_CODE = 80877102;
    public static final int PROTOCOL_3_0 = 196608;

    public static final int AUTH_OK = 0;
    public static final int AUTH_CLEARTEXT = 3;
    public static final int AUTH_MD5 = 5;
    public static final int AUTH_SASL = 10;
    public static final int AUTH_SASL_CONTINUE = 11;
    public static final int AUTH_SASL_FINAL = 12;

    private Messages() {
    }

    // ---- backend messages Sluice sends to clients ----

    /** ErrorResponse (or NoticeResponse with type 'N') with severity, SQLSTATE and message. */
    public static ByteBuf errorResponse(ByteBufAllocator alloc, String severity, String sqlState, String message) {
        return notice(alloc, BackendType.ERROR_RESPONSE.code(), severity, sqlState, message);
    }

    public static ByteBuf noticeResponse(ByteBufAllocator alloc, String severity, String sqlState, String message) {
        return notice(alloc, BackendType.NOTICE_RESPONSE.code(), severity, sqlState, message);
    }

    private static ByteBuf notice(ByteBufAllocator alloc, byte type, String severity, String sqlState, String message) {
        ByteBuf b = start(alloc, type, 64 + message.length() * 3);
        b.writeByte('S');
        cstring(b, severity);
        b.writeByte('V');
        cstring(b, severity);
        b.writeByte('C');
        cstring(b, sqlState);
        b.writeByte('M');
        cstring(b, message);
        b.writeByte(0);
        return finish(b, 0);
    }

    public static ByteBuf authentication(ByteBufAllocator alloc, int code) {
        ByteBuf b = start(alloc, BackendType.AUTHENTICATION.code(), 8);
        b.writeInt(code);
        return finish(b, 0);
    }

    public static ByteBuf authenticationMd5(ByteBufAllocator alloc, byte[] salt) {
        ByteBuf b = start(alloc, BackendType.AUTHENTICATION.code(), 12);
        b.writeInt(AUTH_MD5);
        b.writeBytes(salt);
        return finish(b, 0);
    }

    public static ByteBuf authenticationSasl(ByteBufAllocator alloc, List<String> mechanisms) {
        ByteBuf b = start(alloc, BackendType.AUTHENTICATION.code(), 32);
        b.writeInt(AUTH_SASL);
        for (String m : mechanisms) {
            cstring(b, m);
        }
        b.writeByte(0);
        return finish(b, 0);
    }

    /** AuthenticationSASLContinue (11) or AuthenticationSASLFinal (12) carrying {@code data}. */
    public static ByteBuf authenticationSaslData(ByteBufAllocator alloc, int code, String data) {
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = start(alloc, BackendType.AUTHENTICATION.code(), 8 + bytes.length);
        b.writeInt(code);
        b.writeBytes(bytes);
        return finish(b, 0);
    }

    public static ByteBuf parameterStatus(ByteBufAllocator alloc, String name, String value) {
        ByteBuf b = start(alloc, BackendType.PARAMETER_STATUS.code(), 8 + name.length() + value.length() * 3);
        cstring(b, name);
        cstring(b, value);
        return finish(b, 0);
    }

    /** Writes one ParameterStatus per entry into {@code b}. */
    public static void parameterStatuses(ByteBuf b, Map<String, String> params) {
        for (Map.Entry<String, String> e : params.entrySet()) {
            int start = b.writerIndex();
            b.writeByte(BackendType.PARAMETER_STATUS.code());
            b.writeInt(0);
            cstring(b, e.getKey());
            cstring(b, e.getValue());
            finish(b, start);
        }
    }

    public static ByteBuf backendKeyData(ByteBufAllocator alloc, int pid, int secret) {
        ByteBuf b = start(alloc, BackendType.BACKEND_KEY_DATA.code(), 13);
        b.writeInt(pid);
        b.writeInt(secret);
        return finish(b, 0);
    }

    public static ByteBuf readyForQuery(ByteBufAllocator alloc, byte status) {
        ByteBuf b = alloc.buffer(6);
        b.writeByte(BackendType.READY_FOR_QUERY.code());
        b.writeInt(5);
        b.writeByte(status);
        return b;
    }

    /** A message with no body: ParseComplete, BindComplete, CloseComplete, NoData. */
    public static ByteBuf empty(ByteBufAllocator alloc, byte type) {
        ByteBuf b = alloc.buffer(5);
        b.writeByte(type);
        b.writeInt(4);
        return b;
    }

    /** NegotiateProtocolVersion: the newest minor version supported and the options not recognised. */
    public static ByteBuf negotiateProtocolVersion(ByteBufAllocator alloc, int minor, List<String> unsupported) {
        ByteBuf b = start(alloc, BackendType.NEGOTIATE_PROTOCOL_VERSION.code(), 32);
        b.writeInt(minor);
        b.writeInt(unsupported.size());
        for (String o : unsupported) {
            cstring(b, o);
        }
        return finish(b, 0);
    }

    // ---- frontend messages Sluice sends to PostgreSQL ----

    public static ByteBuf startupMessage(ByteBufAllocator alloc, Map<String, String> params) {
        ByteBuf b = alloc.buffer(128);
        b.writeInt(0);
        b.writeInt(PROTOCOL_3_0);
        for (Map.Entry<String, String> e : params.entrySet()) {
            cstring(b, e.getKey());
            cstring(b, e.getValue());
        }
        b.writeByte(0);
        b.setInt(0, b.writerIndex());
        return b;
    }

    /** SSLRequest or CancelRequest-like fixed packets: length, code, then optional ints. */
    public static ByteBuf untypedCode(ByteBufAllocator alloc, int code, int... ints) {
        ByteBuf b = alloc.buffer(8 + 4 * ints.length);
        b.writeInt(8 + 4 * ints.length);
        b.writeInt(code);
        for (int i : ints) {
            b.writeInt(i);
        }
        return b;
    }

    public static ByteBuf passwordMessage(ByteBufAllocator alloc, String password) {
        ByteBuf b = start(alloc, FrontendType.PASSWORD.code(), password.length() * 3 + 8);
        cstring(b, password);
        return finish(b, 0);
    }

    public static ByteBuf saslInitialResponse(ByteBufAllocator alloc, String mechanism, String data) {
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = start(alloc, FrontendType.PASSWORD.code(), 16 + mechanism.length() + bytes.length);
        cstring(b, mechanism);
        b.writeInt(bytes.length);
        b.writeBytes(bytes);
        return finish(b, 0);
    }

    public static ByteBuf saslResponse(ByteBufAllocator alloc, String data) {
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = start(alloc, FrontendType.PASSWORD.code(), 8 + bytes.length);
        b.writeBytes(bytes);
        return finish(b, 0);
    }

    public static ByteBuf query(ByteBufAllocator alloc, String sql) {
        ByteBuf b = start(alloc, FrontendType.QUERY.code(), sql.length() * 3 + 8);
        cstring(b, sql);
        return finish(b, 0);
    }

    /** Close of a prepared statement ({@code kind} 'S') or portal ('P'). */
    public static ByteBuf close(ByteBufAllocator alloc, byte kind, String name) {
        ByteBuf b = start(alloc, FrontendType.CLOSE.code(), name.length() + 8);
        b.writeByte(kind);
        cstring(b, name);
        return finish(b, 0);
    }

    public static ByteBuf terminate(ByteBufAllocator alloc) {
        return empty(alloc, FrontendType.TERMINATE.code());
    }

    // ---- helpers ----

    /** Starts a typed message: writes the type and a length placeholder. */
    public static ByteBuf start(ByteBufAllocator alloc, byte type, int sizeHint) {
        ByteBuf b = alloc.buffer(sizeHint);
        b.writeByte(type);
        b.writeInt(0);
        return b;
    }

    /** Patches the length of the typed message that starts at {@code start}. */
    public static ByteBuf finish(ByteBuf b, int start) {
        b.setInt(start + 1, b.writerIndex() - start - 1);
        return b;
    }

    public static void cstring(ByteBuf b, String s) {
        b.writeCharSequence(s, StandardCharsets.UTF_8);
        b.writeByte(0);
    }

    /**
     * Reads a NUL-terminated string at {@code index} (absolute) without moving indexes.
     *
     * @throws ProtocolException if no terminator occurs before {@code end}
     */
    public static String cstringAt(ByteBuf b, int index, int end) {
        int nul = b.indexOf(index, end, (byte) 0);
        if (nul < 0) {
            throw new ProtocolException("string field not terminated");
        }
        return b.toString(index, nul - index, StandardCharsets.UTF_8);
    }

    /** Index just past the NUL terminating the string at {@code index}. */
    public static int skipCstring(ByteBuf b, int index, int end) {
        int nul = b.indexOf(index, end, (byte) 0);
        if (nul < 0) {
            throw new ProtocolException("string field not terminated");
        }
        return nul + 1;
    }

    /**
     * A copy of the ErrorResponse or NoticeResponse frame at {@code start} (whole frame, type byte
     * first) with its message field ('M') replaced by {@code message}; every other field is kept.
     */
    public static ByteBuf withErrorMessage(ByteBufAllocator alloc, ByteBuf b, int start, int frameLength, String message) {
        int end = start + frameLength;
        ByteBuf out = start(alloc, b.getByte(start), frameLength + message.length() * 3);
        int i = start + 5;
        while (i < end) {
            byte code = b.getByte(i);
            if (code == 0) {
                break;
            }
            int nul = b.indexOf(i + 1, end, (byte) 0);
            if (nul < 0) {
                break;
            }
            out.writeByte(code);
            if (code == 'M') {
                cstring(out, message);
            } else {
                out.writeBytes(b, i + 1, nul - i);
            }
            i = nul + 1;
        }
        out.writeByte(0);
        return finish(out, 0);
    }

    /**
     * The value of one field of an ErrorResponse or NoticeResponse frame (whole frame, type byte
     * at {@code start}), e.g. 'C' for the SQLSTATE; {@code null} if absent.
     */
    public static String errorField(ByteBuf b, int start, int frameLength, char field) {
        int end = start + frameLength;
        int i = start + 5;
        while (i < end) {
            byte code = b.getByte(i);
            if (code == 0) {
                return null;
            }
            int nul = b.indexOf(i + 1, end, (byte) 0);
            if (nul < 0) {
                return null;
            }
            if (code == field) {
                return b.toString(i + 1, nul - i - 1, StandardCharsets.UTF_8);
            }
            i = nul + 1;
        }
        return null;
    }
}

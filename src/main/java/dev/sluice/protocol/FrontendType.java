package dev.sluice.protocol;

/** Type bytes of messages a client (the frontend) sends after startup, named as in the protocol documentation. */
public enum FrontendType {
    BIND('B'),
    CLOSE('C'),
    COPY_DATA('d'),
    COPY_DONE('c'),
    COPY_FAIL('f'),
    DESCRIBE('D'),
    EXECUTE('E'),
    FLUSH('H'),
    FUNCTION_CALL('F'),
    PARSE('P'),
    /** PasswordMessage, SASLInitialResponse and SASLResponse share this byte. */
    PASSWORD('p'),
    QUERY('Q'),
    SYNC('S'),
    TERMINATE('X');

    private static final FrontendType[] BY_CODE = new FrontendType[128];

    static {
        for (FrontendType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final byte code;

    FrontendType(char code) {
        this.code = (byte) code;
    }

    public byte code() {
        return code;
    }

    /** The type for a type byte, or {@code null} if the byte names no frontend message. */
    public static FrontendType of(byte code) {
        return code >= 0 ? BY_CODE[code] : null;
    }
}

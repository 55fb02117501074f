package dev.sluice.protocol;

/** Type bytes of messages PostgreSQL (the backend) sends, named as in the protocol documentation. */
public enum BackendType {
    AUTHENTICATION('R'),
    BACKEND_KEY_DATA('K'),
    BIND_COMPLETE('2'),
    CLOSE_COMPLETE('3'),
    COMMAND_COMPLETE('C'),
    COPY_DATA('d'),
    COPY_DONE('c'),
    COPY_IN_RESPONSE('G'),
    COPY_OUT_RESPONSE('H'),
    COPY_BOTH_RESPONSE('W'),
    DATA_ROW('D'),
    EMPTY_QUERY_RESPONSE('I'),
    ERROR_RESPONSE('E'),
    FUNCTION_CALL_RESPONSE('V'),
    NEGOTIATE_PROTOCOL_VERSION('v'),
    NO_DATA('n'),
    NOTICE_RESPONSE('N'),
    NOTIFICATION_RESPONSE('A'),
    PARAMETER_DESCRIPTION('t'),
    PARAMETER_STATUS('S'),
    PARSE_COMPLETE('1'),
    PORTAL_SUSPENDED('s'),
    READY_FOR_QUERY('Z'),
    ROW_DESCRIPTION('T');

    private static final BackendType[] BY_CODE = new BackendType[128];

    static {
        for (BackendType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final byte code;

    BackendType(char code) {
        this.code = (byte) code;
    }

    public byte code() {
        return code;
    }

    /** The type for a type byte, or {@code null} if the byte names no backend message. */
    public static BackendType of(byte code) {
        return code >= 0 ? BY_CODE[code] : null;
    }
}

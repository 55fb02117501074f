package dev.sluice.protocol;

/** The SQLSTATE codes Sluice itself raises (see DESIGN.md for when). */
public final class SqlState {
    public static final String TOO_MANY_CONNECTIONS = "53300";
    public static final String QUERY_CANCELED = "57014";
    public static final String CONNECTION_FAILURE = "08006";
    public static final String PROTOCOL_VIOLATION = "08P01";
    public static final String INVALID_PASSWORD = "28P01";
    public static final String INVALID_AUTHORIZATION = "28000";
    public static final String INVALID_CATALOG_NAME = "3D000";
    public static final String ADMIN_SHUTDOWN = "57P01";
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    public static final String IDLE_IN_TRANSACTION_TIMEOUT = "25P03";
    public static final String INTERNAL_ERROR = "XX000";
    public static final String INVALID_PARAMETER_VALUE = "22023";
    public static final String INSUFFICIENT_PRIVILEGE = "42501";
    public static final String SYNTAX_ERROR = "42601";
    public static final String DUPLICATE_PREPARED_STATEMENT = "42P05";
    public static final String UNDEFINED_PARAMETER = "42P02";
    public static final String INVALID_SQL_STATEMENT_NAME = "26000";
    public static final String WARNING = "01000";

    private SqlState() {
    }
}

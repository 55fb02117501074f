package dev.sluice.sql;

import java.nio.charset.StandardCharsets;

/**
 * The fixed set of SQL keywords that normalisation upper-cases, looked up without allocation.
 * A word is a keyword when it matches one of these case-insensitively; anything else is an
 * identifier and keeps its case. Function names and type names are deliberately not keywords.
 * Changing this list changes fingerprints.
 */
final class Keywords {
    private static final String[] WORDS = {
        "ABORT", "ADD", "ALL", "ALTER", "ANALYZE", "AND", "ANY", "ARRAY", "AS", "ASC", "AT",
        "BEGIN", "BETWEEN", "BY", "CALL", "CASCADE", "CASE", "CAST", "CHECK", "CLOSE", "CLUSTER",
        "COLLATE", "COLUMN", "COMMENT", "COMMIT", "COMMITTED", "CONCURRENTLY", "CONFLICT",
        "CONSTRAINT", "COPY", "CREATE", "CROSS", "CURRENT_DATE", "CURRENT_TIMESTAMP",
        "CURRENT_USER", "DATABASE", "DEALLOCATE", "DECLARE", "DEFAULT", "DELETE", "DESC",
        "DISCARD", "DISTINCT", "DO", "DROP", "ELSE", "END", "ESCAPE", "EXCEPT", "EXECUTE",
        "EXISTS", "EXPLAIN", "EXTENSION", "FALSE", "FETCH", "FILTER", "FIRST", "FOR", "FOREIGN",
        "FROM", "FULL", "FUNCTION", "GRANT", "GROUP", "HAVING", "IF", "ILIKE", "IMPORT", "IN",
        "INDEX", "INNER", "INSERT", "INTERSECT", "INTERVAL", "INTO", "IS", "ISNULL", "ISOLATION",
        "JOIN", "KEY", "LAST", "LATERAL", "LEFT", "LEVEL", "LIKE", "LIMIT", "LISTEN", "LOCK",
        "LOCKED", "MATCHED", "MATERIALIZED", "MERGE", "MOVE", "NATURAL", "NEXT", "NO", "NOT",
        "NOTHING", "NOTIFY", "NOTNULL", "NOWAIT", "NULL", "NULLS", "OF", "OFFSET", "ON", "ONLY",
        "OR", "ORDER", "OUTER", "OVER", "PARTITION", "PREPARE", "PREPARED", "PRIMARY",
        "PROCEDURE", "READ", "RECURSIVE", "REFERENCES", "REFRESH", "REINDEX", "RELEASE",
        "RENAME", "REPEATABLE", "REPLACE", "RESET", "RESTRICT", "RETURNING", "REVOKE", "RIGHT",
        "ROLLBACK", "ROW", "ROWS", "SAVEPOINT", "SCHEMA", "SECURITY", "SELECT", "SEQUENCE",
        "SERIALIZABLE", "SESSION", "SET", "SHARE", "SHOW", "SIMILAR", "SKIP", "SOME", "START",
        "TABLE", "TEMP", "TEMPORARY", "THEN", "TO", "TRANSACTION", "TRIGGER", "TRUE", "TRUNCATE",
        "UNCOMMITTED", "UNION", "UNIQUE", "UNLISTEN", "UNLOGGED", "UPDATE", "USING", "VACUUM",
        "VALUES", "VIEW", "WHEN", "WHERE", "WINDOW", "WITH", "WITHIN", "WITHOUT", "WORK", "WRITE",
    };
    private static final byte[][] BYTES = new byte[WORDS.length][];
    private static final int MASK = 1023;
    private static final short[] SLOTS = new short[MASK + 1];
    private static final int MAX_LENGTH;

    static {
        java.util.Arrays.fill(SLOTS, (short) -1);
        int max = 0;
        for (int k = 0; k < WORDS.length; k++) {
            byte[] b = WORDS[k].getBytes(StandardCharsets.US_ASCII);
            BYTES[k] = b;
            max = Math.max(max, b.length);
            int slot = hash(b, 0, b.length) & MASK;
            while (SLOTS[slot] >= 0) {
                slot = (slot + 1) & MASK;
            }
            SLOTS[slot] = (short) k;
        }
        MAX_LENGTH = max;
    }

    static final int ABORT = id("ABORT");
    static final int ALTER = id("ALTER");
    static final int ARRAY = id("ARRAY");
    static final int BEGIN = id("BEGIN");
    static final int COMMENT = id("COMMENT");
    static final int COMMIT = id("COMMIT");
    static final int CREATE = id("CREATE");
    static final int DEFAULT = id("DEFAULT");
    static final int DELETE = id("DELETE");
    static final int DROP = id("DROP");
    static final int END = id("END");
    static final int FALSE = id("FALSE");
    static final int FOR = id("FOR");
    static final int GRANT = id("GRANT");
    static final int IMPORT = id("IMPORT");
    static final int IN = id("IN");
    static final int INSERT = id("INSERT");
    static final int INTO = id("INTO");
    static final int KEY = id("KEY");
    static final int MERGE = id("MERGE");
    static final int NO = id("NO");
    static final int NULL = id("NULL");
    static final int PREPARE = id("PREPARE");
    static final int REFRESH = id("REFRESH");
    static final int REINDEX = id("REINDEX");
    static final int RELEASE = id("RELEASE");
    static final int REVOKE = id("REVOKE");
    static final int ROLLBACK = id("ROLLBACK");
    static final int SAVEPOINT = id("SAVEPOINT");
    static final int SECURITY = id("SECURITY");
    static final int SELECT = id("SELECT");
    static final int SHARE = id("SHARE");
    static final int START = id("START");
    static final int TABLE = id("TABLE");
    static final int TRANSACTION = id("TRANSACTION");
    static final int TRUE = id("TRUE");
    static final int TRUNCATE = id("TRUNCATE");
    static final int UPDATE = id("UPDATE");
    static final int VALUES = id("VALUES");
    static final int WITH = id("WITH");

    private Keywords() {
    }

    private static int id(String word) {
        byte[] b = word.getBytes(StandardCharsets.US_ASCII);
        int k = lookup(b, 0, b.length);
        if (k < 0) {
            throw new IllegalStateException("not a keyword: " + word);
        }
        return k;
    }

    /** Upper-case bytes of keyword {@code k}. */
    static byte[] bytes(int k) {
        return BYTES[k];
    }

    /** The keyword id of {@code in[from, to)}, case-insensitively, or -1 for an identifier. */
    static int lookup(byte[] in, int from, int to) {
        int len = to - from;
        if (len < 2 || len > MAX_LENGTH) {
            return -1;
        }
        int h = hash(in, from, to);
        if (h < 0) {
            return -1;
        }
        int slot = h & MASK;
        for (int k; (k = SLOTS[slot]) >= 0; slot = (slot + 1) & MASK) {
            byte[] w = BYTES[k];
            if (w.length == len && equalsUpper(w, in, from)) {
                return k;
            }
        }
        return -1;
    }

    private static boolean equalsUpper(byte[] upper, byte[] in, int from) {
        for (int i = 0; i < upper.length; i++) {
            int c = in[from + i];
            if (c >= 'a' && c <= 'z') {
                c -= 32;
            }
            if (c != upper[i]) {
                return false;
            }
        }
        return true;
    }

    /** Case-insensitive hash of letters and '_'; -1 when another byte rules out a keyword. */
    private static int hash(byte[] in, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) {
            int c = in[i];
            if (c >= 'a' && c <= 'z') {
                c -= 32;
            } else if (!((c >= 'A' && c <= 'Z') || c == '_')) {
                return -1;
            }
            h = h * 31 + c;
        }
        h *= 0x9E3779B1;
        return (h ^ (h >>> 15)) & 0x7fffffff;
    }
}

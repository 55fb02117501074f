package dev.sluice.sql;

import java.nio.charset.StandardCharsets;

/**
 * Built-in functions that change state although they are called from a SELECT: sequences,
 * advisory locks, notifications, configuration, transaction ids. A SELECT calling one of them is
 * not read-only. User functions cannot be judged from the text; callers that route reads away
 * from the primary need their own list for those.
 */
final class SideEffects {
    private static final byte[][] NAMES = bytes("nextval", "setval", "pg_notify", "set_config",
            "txid_current", "pg_current_xact_id", "lo_create", "lo_import", "lo_unlink",
            "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock",
            "pg_advisory_xact_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
            "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared", "pg_advisory_unlock",
            "pg_advisory_unlock_shared", "pg_advisory_unlock_all");

    private SideEffects() {
    }

    private static byte[][] bytes(String... names) {
        byte[][] b = new byte[names.length][];
        for (int i = 0; i < names.length; i++) {
            b[i] = names[i].getBytes(StandardCharsets.US_ASCII);
        }
        return b;
    }

    /** Whether {@code in[s, e)} names one of the functions, case-insensitively. */
    static boolean matches(byte[] in, int s, int e) {
        int len = e - s;
        int c0 = in[s] | 0x20;
        if (c0 != 'n' && c0 != 's' && c0 != 'p' && c0 != 't' && c0 != 'l') {
            return false;
        }
        outer:
        for (byte[] name : NAMES) {
            if (name.length != len) {
                continue;
            }
            for (int i = 0; i < len; i++) {
                int c = in[s + i];
                if (c >= 'A' && c <= 'Z') {
                    c += 32;
                }
                if (c != name[i]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}

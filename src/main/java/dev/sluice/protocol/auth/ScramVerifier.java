package dev.sluice.protocol.auth;

/**
 * Makes and recognises SCRAM-SHA-256 verifiers in PostgreSQL's format, the form
 * {@code pg_authid.rolpassword} holds and a configuration file can hold instead of a password:
 * {@code SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>}.
 *
 * <p>The password goes through SASLprep first, as in PostgreSQL (see {@link ScramServer}), so a
 * verifier made here for a given password, salt and iteration count is byte-for-byte the one
 * PostgreSQL stores for them.
 */
public final class ScramVerifier {

    private ScramVerifier() {
    }

    /** A verifier for {@code password} with a fresh random 16-byte salt and 4096 iterations. */
    public static String create(String password) {
        return create(password, ScramCrypto.randomBytes(ScramCrypto.DEFAULT_SALT_LENGTH),
                ScramCrypto.DEFAULT_ITERATIONS);
    }

    /**
     * A verifier for {@code password} with the given salt and iteration count.
     *
     * @throws IllegalArgumentException if {@code salt} is empty or {@code iterations} is below 1
     */
    public static String create(String password, byte[] salt, int iterations) {
        return ScramSecret.derive(password, salt, iterations).format();
    }

    /**
     * Whether {@code stored} is a SCRAM-SHA-256 verifier: it starts with {@code SCRAM-SHA-256$} and
     * parses (positive iteration count, non-empty salt, 32-byte keys, valid base64).
     */
    public static boolean isVerifier(String stored) {
        return ScramSecret.parseOrNull(stored) != null;
    }
}

package dev.sluice.protocol.auth;

import java.util.Base64;

/**
 * What a server keeps to check SCRAM-SHA-256 logins: iteration count, salt, StoredKey and ServerKey.
 * Its text form is PostgreSQL's {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}.
 */
final class ScramSecret {

    private static final String PREFIX = ScramCrypto.MECHANISM + "$";

    final int iterations;
    private final byte[] salt;
    private final byte[] storedKey;
    private final byte[] serverKey;

    private ScramSecret(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
        this.iterations = iterations;
        this.salt = salt;
        this.storedKey = storedKey;
        this.serverKey = serverKey;
    }

    static ScramSecret derive(String password, byte[] salt, int iterations) {
        return derive(SaslPrep.prepare(password), salt, iterations);
    }

    static ScramSecret derive(byte[] preparedPassword, byte[] salt, int iterations) {
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations: " + iterations + " (expected: >= 1)");
        }
        if (salt.length == 0) {
            throw new IllegalArgumentException("salt is empty (expected: at least 1 byte)");
        }
        byte[] salted = ScramCrypto.saltedPassword(preparedPassword, salt, iterations);
        return new ScramSecret(iterations, salt.clone(),
                ScramCrypto.sha256(ScramCrypto.clientKey(salted)), ScramCrypto.serverKey(salted));
    }

    /** Parses PostgreSQL's text form; {@code null} when {@code stored} is not a valid secret. */
    static ScramSecret parseOrNull(String stored) {
        if (stored == null || !stored.startsWith(PREFIX)) {
            return null;
        }
        String[] halves = stored.substring(PREFIX.length()).split("\\$", -1);
        if (halves.length != 2) {
            return null;
        }
        String[] left = halves[0].split(":", -1);
        String[] right = halves[1].split(":", -1);
        if (left.length != 2 || right.length != 2 || !left[0].matches("[0-9]{1,10}")) {
            return null;
        }
        try {
            int iterations = Integer.parseInt(left[0]);
            byte[] salt = Base64.getDecoder().decode(left[1]);
            byte[] storedKey = Base64.getDecoder().decode(right[0]);
            byte[] serverKey = Base64.getDecoder().decode(right[1]);
            if (iterations < 1 || salt.length == 0
                    || storedKey.length != ScramCrypto.KEY_LENGTH || serverKey.length != ScramCrypto.KEY_LENGTH) {
                return null;
            }
            return new ScramSecret(iterations, salt, storedKey, serverKey);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    byte[] salt() {
        return salt.clone();
    }

    byte[] storedKey() {
        return storedKey.clone();
    }

    byte[] serverKey() {
        return serverKey.clone();
    }

    String format() {
        return PREFIX + iterations + ":" + ScramCrypto.base64(salt) + "$"
                + ScramCrypto.base64(storedKey) + ":" + ScramCrypto.base64(serverKey);
    }
}

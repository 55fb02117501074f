package dev.sluice.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;

/** The SCRAM-SHA-256 primitives of RFC 5802 section 3, on byte arrays. */
final class ScramCrypto {

    static final String MECHANISM = "SCRAM-SHA-256";
    static final int KEY_LENGTH = 32;
    static final int DEFAULT_ITERATIONS = 4096;
    static final int DEFAULT_SALT_LENGTH = 16;
    // 18 random bytes give 24 base64 characters, the nonce length libpq and PostgreSQL use
    static final int NONCE_BYTES = 18;

    private static final String HMAC = "HmacSHA256";
    private static final SecureRandom RANDOM = new SecureRandom();

    private ScramCrypto() {
    }

    /** Hi(password, salt, i) of RFC 5802: PBKDF2 with HMAC-SHA-256 and one 32-byte block. */
    static byte[] saltedPassword(byte[] preparedPassword, byte[] salt, int iterations) {
        try {
            Mac mac = mac(preparedPassword);
            mac.update(salt);
            mac.update(new byte[] {0, 0, 0, 1});
            byte[] u = mac.doFinal();
            byte[] result = u.clone();
            for (int i = 1; i < iterations; i++) {
                mac.update(u);
                mac.doFinal(u, 0);
                for (int j = 0; j < result.length; j++) {
                    result[j] ^= u[j];
                }
            }
            return result;
        } catch (ShortBufferException e) {
            throw new IllegalStateException("HMAC-SHA-256 output is not 32 bytes", e);
        }
    }

    static byte[] hmac(byte[] key, String message) {
        return mac(key).doFinal(message.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] hmac(byte[] key, byte[] message) {
        return mac(key).doFinal(message);
    }

    static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (byte[] part : parts) {
                digest.update(part);
            }
            return digest.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    static byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, "Client Key");
    }

    static byte[] serverKey(byte[] saltedPassword) {
        return hmac(saltedPassword, "Server Key");
    }

    static byte[] randomBytes(int length) {
        byte[] bytes = new byte[length];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    static String randomNonce() {
        return base64(randomBytes(NONCE_BYTES));
    }

    static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    /** Decodes standard base64, naming {@code what} (never the value) when it is not valid. */
    static byte[] decodeBase64(String value, String what) throws AuthException {
        try {
            return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw new AuthException("malformed SCRAM message: " + what + " is not valid base64");
        }
    }

    private static Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            // SecretKeySpec refuses an empty key; HMAC pads keys with zero bytes to its block size,
            // so the empty key and the one-zero-byte key are the same key
            mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, HMAC));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA-256 is missing from this JDK", e);
        }
    }
}

package dev.sluice.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * PostgreSQL's MD5 password authentication (AuthenticationMD5Password), both directions.
 *
 * <p>PostgreSQL stores {@code "md5" + hex(md5(password + user))}; the client answers the 4-byte
 * salt with {@code "md5" + hex(md5(hex(md5(password + user)) + salt))}, so knowing the stored hash
 * is enough to log in. Strings are hashed as UTF-8 and, unlike SCRAM, without SASLprep. A stored
 * hash is recognised as PostgreSQL does: {@code "md5"} followed by exactly 32 lower-case hex digits.
 */
public final class Md5Password {

    private static final String PREFIX = "md5";
    private static final int STORED_LENGTH = 35;
    private static final HexFormat HEX = HexFormat.of();

    private Md5Password() {
    }

    /** PostgreSQL's stored form, {@code "md5" + hex(md5(password + user))}. */
    public static String storedHash(String user, String password) {
        return PREFIX + HEX.formatHex(md5(password.getBytes(StandardCharsets.UTF_8),
                user.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * The PasswordMessage answer to AuthenticationMD5Password with salt {@code salt4}.
     *
     * @param passwordOrStoredHash a plain password or a stored {@code md5...} hash (35 characters)
     * @throws IllegalArgumentException if {@code salt4} is not 4 bytes, or if given a SCRAM
     *     verifier, which cannot answer an MD5 challenge
     */
    public static String response(String user, String passwordOrStoredHash, byte[] salt4) {
        if (salt4.length != 4) {
            throw new IllegalArgumentException("MD5 salt is " + salt4.length + " bytes (expected: 4)");
        }
        if (ScramVerifier.isVerifier(passwordOrStoredHash)) {
            throw new IllegalArgumentException("a SCRAM verifier cannot answer an MD5 password challenge");
        }
        String stored = isStoredHash(passwordOrStoredHash) ? passwordOrStoredHash : storedHash(user, passwordOrStoredHash);
        byte[] inner = stored.substring(PREFIX.length()).getBytes(StandardCharsets.US_ASCII);
        return PREFIX + HEX.formatHex(md5(inner, salt4));
    }

    /**
     * Server side: whether {@code clientResponse} answers the challenge {@code salt4} for
     * {@code user} with the given plain password or stored hash. Compared in constant time. False
     * for a {@code null} response and for a SCRAM verifier (which cannot check an MD5 answer).
     *
     * @throws IllegalArgumentException if {@code salt4} is not 4 bytes
     */
    public static boolean verify(String user, String passwordOrStoredHash, byte[] salt4, String clientResponse) {
        if (salt4.length != 4) {
            throw new IllegalArgumentException("MD5 salt is " + salt4.length + " bytes (expected: 4)");
        }
        if (clientResponse == null || ScramVerifier.isVerifier(passwordOrStoredHash)) {
            return false;
        }
        byte[] expected = response(user, passwordOrStoredHash, salt4).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, clientResponse.getBytes(StandardCharsets.UTF_8));
    }

    static boolean isStoredHash(String stored) {
        return stored.length() == STORED_LENGTH && stored.startsWith(PREFIX)
                && stored.substring(PREFIX.length()).chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'a' && c <= 'f');
    }

    private static byte[] md5(byte[] first, byte[] second) {
        try {
            MessageDigest digest = MessageDigest.getInstance("MD5");
            digest.update(first);
            digest.update(second);
            return digest.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is missing from this JDK", e);
        }
    }
}

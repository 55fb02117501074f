package dev.sluice.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class Md5PasswordTest {

    private static final byte[] SALT = {(byte) 0x9a, 0x01, 0x7f, (byte) 0xe0};

    @Test
    void storedHash_knownValue() {
        assertThat(Md5Password.storedHash("postgres", "postgres")).isEqualTo("md53175bce1d3201d16594cebf9d7eb3f9d");
    }

    @Test
    void storedHash_isMd5OfPasswordThenUser() throws NoSuchAlgorithmException {
        assertThat(Md5Password.storedHash("al\u00EFce", "s3cr\u00E9t")).isEqualTo("md5" + md5Hex(utf8("s3cr\u00E9tal\u00EFce")));
    }

    @Test
    void response_plainPassword_isMd5OfStoredHexThenSalt() throws NoSuchAlgorithmException {
        String inner = md5Hex(utf8("secretalice"));
        String expected = "md5" + md5Hex(concat(utf8(inner), SALT));

        assertThat(Md5Password.response("alice", "secret", SALT)).isEqualTo(expected);
    }

    @Test
    void response_storedHash_sameAsPlainPassword() {
        String stored = Md5Password.storedHash("alice", "secret");

        assertThat(Md5Password.response("alice", stored, SALT)).isEqualTo(Md5Password.response("alice", "secret", SALT));
    }

    @Test
    void response_knownStoredHash_isMd5OfItsHexThenSalt() throws NoSuchAlgorithmException {
        byte[] salt = {1, 2, 3, 4};
        String expected = "md5" + md5Hex(concat(utf8("3175bce1d3201d16594cebf9d7eb3f9d"), salt));

        assertThat(Md5Password.response("postgres", "postgres", salt)).isEqualTo(expected);
        assertThat(Md5Password.response("postgres", "md53175bce1d3201d16594cebf9d7eb3f9d", salt)).isEqualTo(expected);
    }

    @Test
    void verify_rightAndWrongResponses() {
        String stored = Md5Password.storedHash("alice", "secret");
        String right = Md5Password.response("alice", "secret", SALT);

        assertThat(Md5Password.verify("alice", "secret", SALT, right)).isTrue();
        assertThat(Md5Password.verify("alice", stored, SALT, right)).isTrue();
        assertThat(Md5Password.verify("alice", "secret", SALT, Md5Password.response("alice", "Secret", SALT))).isFalse();
        assertThat(Md5Password.verify("alice", "secret", new byte[] {1, 2, 3, 4}, right)).isFalse();
        assertThat(Md5Password.verify("bob", "secret", SALT, right)).isFalse();
        assertThat(Md5Password.verify("alice", "secret", SALT, right.toUpperCase())).isFalse();
        assertThat(Md5Password.verify("alice", "secret", SALT, "")).isFalse();
        assertThat(Md5Password.verify("alice", "secret", SALT, null)).isFalse();
    }

    @Test
    void hashLookalikes_treatedAsPlainPasswords() throws NoSuchAlgorithmException {
        // upper-case hex or the wrong length is not a stored hash, as in PostgreSQL
        String upper = "MD53175BCE1D3201D16594CEBF9D7EB3F9D";
        String shortOne = "md53175bce1d3201d16594cebf9d7eb3f9";

        assertThat(Md5Password.response("u", upper, SALT))
                .isEqualTo("md5" + md5Hex(concat(utf8(md5Hex(utf8(upper + "u"))), SALT)));
        assertThat(Md5Password.isStoredHash(upper)).isFalse();
        assertThat(Md5Password.isStoredHash(shortOne)).isFalse();
        assertThat(Md5Password.isStoredHash("md53175bce1d3201d16594cebf9d7eb3f9d")).isTrue();
    }

    @Test
    void scramVerifier_cannotAnswerOrCheckMd5() {
        String verifier = ScramVerifier.create("secret");

        assertThat(Md5Password.verify("alice", verifier, SALT, Md5Password.response("alice", "x", SALT))).isFalse();
        assertThatThrownBy(() -> Md5Password.response("alice", verifier, SALT)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void saltNotFourBytes_refused() {
        assertThatThrownBy(() -> Md5Password.response("u", "p", new byte[3])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Md5Password.verify("u", "p", new byte[5], "md5")).isInstanceOf(IllegalArgumentException.class);
    }

    private static String md5Hex(byte[] input) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(input));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

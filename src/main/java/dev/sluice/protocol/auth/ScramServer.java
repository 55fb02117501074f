package dev.sluice.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL runs it, for one login.
 *
 * <p>Use: send AuthenticationSASL listing {@code SCRAM-SHA-256}; pass the SASLInitialResponse
 * payload to {@link #handleClientFirst} and send the result in AuthenticationSASLContinue; pass the
 * SASLResponse payload to {@link #handleClientFinal} and send the result in AuthenticationSASLFinal,
 * then AuthenticationOk. Any {@link AuthException} ends the login. An instance serves one login and
 * is not thread-safe; calling the steps out of order is an {@link IllegalStateException}.
 *
 * <p>Protocol choices, all PostgreSQL's:
 * <ul>
 *   <li>No channel binding: the gs2 header must be {@code n,,} or {@code y,,} (the client supports
 *       channel binding but thinks the server does not, true of Sluice); {@code p=...} is refused,
 *       as are an authorization identity ({@code a=}) and mandatory extensions ({@code m=}).</li>
 *   <li>The user name in the client-first-message is ignored: the user is the one from the startup
 *       message, so the caller picks the stored password (or {@link #forUnknownUser}) before.</li>
 *   <li>The server nonce is 18 random bytes in base64, the salt of a derived verifier 16 random
 *       bytes, the iteration count of a derived verifier 4096.</li>
 *   <li>Passwords are prepared with SASLprep, falling back to the raw UTF-8 bytes when SASLprep
 *       refuses them. Implemented: PostgreSQL's pure-ASCII shortcut; tables A.1 (unassigned in
 *       Unicode 3.2), B.1 (removed), C.1.2 (mapped to space); NFKC by {@link java.text.Normalizer};
 *       prohibited tables C.1.2 and C.2.1 to C.9; the bidirectional rule with D.1 and D.2.</li>
 * </ul>
 * Proofs are compared in constant time. Error messages never contain secrets.
 */
public final class ScramServer {

    private enum State { EXPECT_CLIENT_FIRST, EXPECT_CLIENT_FINAL, DONE }

    private final ScramSecret secret;
    // true for an unknown user: run the whole exchange, then fail
    private final boolean doomed;
    private final Supplier<String> serverNonces;

    private State state = State.EXPECT_CLIENT_FIRST;
    private String gs2Header;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;

    /**
     * A server checking logins against {@code storedPassword}: either a plain password (a verifier
     * is derived from it with a fresh random 16-byte salt and 4096 iterations, which costs 4096
     * HMAC computations) or a PostgreSQL SCRAM verifier as in {@code pg_authid.rolpassword}
     * (see {@link ScramVerifier}). An MD5 hash ({@code md5} and 32 hex digits) cannot check a SCRAM
     * login: as PostgreSQL does, the exchange then runs and always fails at the final step.
     *
     * @throws IllegalArgumentException if {@code storedPassword} starts with {@code SCRAM-SHA-256$}
     *     but is not a valid verifier (a configuration error; the message does not contain it)
     */
    public ScramServer(String storedPassword) {
        this(storedPassword, ScramCrypto::randomNonce);
    }

    ScramServer(String storedPassword, Supplier<String> serverNonces) {
        Objects.requireNonNull(storedPassword, "storedPassword");
        if (storedPassword.startsWith(ScramCrypto.MECHANISM + "$")) {
            ScramSecret parsed = ScramSecret.parseOrNull(storedPassword);
            if (parsed == null) {
                throw new IllegalArgumentException("stored password starts with " + ScramCrypto.MECHANISM
                        + "$ but is not a valid SCRAM verifier");
            }
            this.secret = parsed;
            this.doomed = false;
        } else if (Md5Password.isStoredHash(storedPassword)) {
            this.secret = mockSecret(ScramCrypto.randomBytes(ScramCrypto.DEFAULT_SALT_LENGTH));
            this.doomed = true;
        } else {
            this.secret = ScramSecret.derive(storedPassword,
                    ScramCrypto.randomBytes(ScramCrypto.DEFAULT_SALT_LENGTH), ScramCrypto.DEFAULT_ITERATIONS);
            this.doomed = false;
        }
        this.serverNonces = serverNonces;
    }

    private ScramServer(ScramSecret secret, boolean doomed, Supplier<String> serverNonces) {
        this.secret = secret;
        this.doomed = doomed;
        this.serverNonces = serverNonces;
    }

    /**
     * A server for a user that does not exist. On the wire it behaves like a real one: its salt is
     * derived from {@code userName} and a random secret made once per JVM (so repeated attempts for
     * the same name see the same salt, as for a real user), its iteration count is 4096, and creating
     * it costs the same key derivation as a plain password. It always fails at the final step with
     * the same error as a wrong password, so an unknown user cannot be told from a wrong password.
     */
    public static ScramServer forUnknownUser(String userName) {
        byte[] digest = ScramCrypto.sha256(userName.getBytes(StandardCharsets.UTF_8), UnknownUserSecret.VALUE);
        byte[] salt = Arrays.copyOf(digest, ScramCrypto.DEFAULT_SALT_LENGTH);
        return new ScramServer(mockSecret(salt), true, ScramCrypto::randomNonce);
    }

    private static ScramSecret mockSecret(byte[] salt) {
        return ScramSecret.derive(UnknownUserSecret.VALUE, salt, ScramCrypto.DEFAULT_ITERATIONS);
    }

    /**
     * Reads the client-first-message (the SASLInitialResponse payload) and returns the
     * server-first-message {@code r=<client nonce><server nonce>,s=<salt>,i=<iterations>}.
     *
     * @throws AuthException if the message is malformed or asks for channel binding, an
     *     authorization identity or a mandatory extension
     */
    public String handleClientFirst(String clientFirstMessage) throws AuthException {
        if (state != State.EXPECT_CLIENT_FIRST) {
            throw new IllegalStateException("client-first-message already handled");
        }
        state = State.DONE;
        ScramReader reader = new ScramReader(clientFirstMessage);
        switch (reader.peek()) {
            case 'n', 'y' -> reader.expect(reader.peek());
            case 'p' -> throw new AuthException(
                    "SCRAM channel binding is not supported: use SCRAM-SHA-256 without channel binding");
            default -> throw new AuthException("malformed SCRAM message: unexpected channel binding flag");
        }
        reader.expect(',');
        if (reader.peek() == 'a') {
            throw new AuthException("SCRAM authorization identity is not supported");
        }
        reader.expect(',');
        gs2Header = clientFirstMessage.substring(0, reader.position());
        int bareStart = reader.position();
        if (reader.peek() == 'm') {
            throw new AuthException("SCRAM client requires an unsupported extension");
        }
        reader.attribute('n');
        String clientNonce = reader.attribute('r');
        if (!ScramReader.isValidNonce(clientNonce)) {
            throw new AuthException("malformed SCRAM message: client nonce is empty or not printable");
        }
        while (!reader.atEnd()) {
            reader.anyAttribute();
        }
        clientFirstBare = clientFirstMessage.substring(bareStart);
        nonce = clientNonce + serverNonces.get();
        serverFirst = "r=" + nonce + ",s=" + ScramCrypto.base64(secret.salt()) + ",i=" + secret.iterations;
        state = State.EXPECT_CLIENT_FINAL;
        return serverFirst;
    }

    /**
     * Reads the client-final-message (the SASLResponse payload), checks the client proof and returns
     * the server-final-message {@code v=<server signature>}.
     *
     * @throws AuthException {@code "password authentication failed"} if the proof is wrong or the
     *     user unknown; another message if the message is malformed, the channel binding data is not
     *     the gs2 header or the nonce is not the one of this exchange
     */
    public String handleClientFinal(String clientFinalMessage) throws AuthException {
        if (state != State.EXPECT_CLIENT_FINAL) {
            throw new IllegalStateException("client-final-message is not expected now");
        }
        state = State.DONE;
        ScramReader reader = new ScramReader(clientFinalMessage);
        byte[] channelBinding = ScramCrypto.decodeBase64(reader.attribute('c'), "channel binding data");
        if (!Arrays.equals(channelBinding, gs2Header.getBytes(StandardCharsets.UTF_8))) {
            throw new AuthException("SCRAM channel binding check failed");
        }
        if (!reader.attribute('r').equals(nonce)) {
            throw new AuthException("SCRAM nonce mismatch");
        }
        int proofStart;
        ScramReader.Attribute attribute;
        do {
            if (reader.atEnd()) {
                throw new AuthException("malformed SCRAM message: client proof is missing");
            }
            proofStart = reader.position();
            attribute = reader.anyAttribute();
        } while (attribute.name() != 'p');
        if (!reader.atEnd()) {
            throw new AuthException("malformed SCRAM message: data after the client proof");
        }
        byte[] proof = ScramCrypto.decodeBase64(attribute.value(), "client proof");
        if (proof.length != ScramCrypto.KEY_LENGTH) {
            throw new AuthException("malformed SCRAM message: client proof has the wrong length");
        }
        String authMessage = clientFirstBare + "," + serverFirst + ","
                + clientFinalMessage.substring(0, proofStart - 1);
        byte[] storedKey = secret.storedKey();
        byte[] clientKey = ScramCrypto.xor(proof, ScramCrypto.hmac(storedKey, authMessage));
        boolean proofMatches = MessageDigest.isEqual(ScramCrypto.sha256(clientKey), storedKey);
        if (!proofMatches || doomed) {
            throw new AuthException("password authentication failed");
        }
        return "v=" + ScramCrypto.base64(ScramCrypto.hmac(secret.serverKey(), authMessage));
    }

    /** The per-JVM secret behind unknown users' salts and keys, made on first use. */
    private static final class UnknownUserSecret {
        static final byte[] VALUE = ScramCrypto.randomBytes(32);
    }
}

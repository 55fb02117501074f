package dev.sluice.protocol.auth;

import java.security.MessageDigest;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) for logging in to PostgreSQL, as libpq
 * does it without channel binding: gs2 header {@code n,,} and an empty user name (PostgreSQL takes
 * the user from the startup message).
 *
 * <p>Use: on AuthenticationSASL listing {@code SCRAM-SHA-256}, send {@link #clientFirstMessage()}
 * in SASLInitialResponse; on AuthenticationSASLContinue, send {@link #clientFinalMessage} of its
 * payload in SASLResponse; on AuthenticationSASLFinal, call {@link #verifyServerFinal} with its
 * payload before trusting the following AuthenticationOk. The password is prepared with SASLprep as
 * described in {@link ScramServer}. An instance serves one login and is not thread-safe; calling
 * the steps out of order is an {@link IllegalStateException}.
 */
public final class ScramClient {

    static final int MAX_ITERATIONS = 10_000_000;

    private enum State { INITIAL, EXPECT_SERVER_FIRST, EXPECT_SERVER_FINAL, DONE }

    private final String password;
    private final String clientNonce;
    private final String clientFirstBare;

    private State state = State.INITIAL;
    private byte[] expectedServerSignature;

    /** A client that will log in with {@code password} (a plain password, not a verifier). */
    public ScramClient(String password) {
        this(password, ScramCrypto::randomNonce);
    }

    ScramClient(String password, Supplier<String> clientNonces) {
        this("", password, clientNonces);
    }

    // a user name only for checking published test vectors; PostgreSQL ignores it
    ScramClient(String user, String password, Supplier<String> clientNonces) {
        this.password = Objects.requireNonNull(password, "password");
        this.clientNonce = clientNonces.get();
        this.clientFirstBare = "n=" + user.replace("=", "=3D").replace(",", "=2C") + ",r=" + clientNonce;
    }

    /** The client-first-message {@code n,,n=,r=<nonce>}, the SASLInitialResponse payload. */
    public String clientFirstMessage() {
        if (state != State.INITIAL) {
            throw new IllegalStateException("client-first-message already sent");
        }
        state = State.EXPECT_SERVER_FIRST;
        return "n,," + clientFirstBare;
    }

    /**
     * Reads the server-first-message and returns the client-final-message with the client proof.
     *
     * @throws AuthException if the message is malformed, requires an extension, its nonce does not
     *     extend ours, or its iteration count is not between 1 and 10,000,000
     */
    public String clientFinalMessage(String serverFirstMessage) throws AuthException {
        if (state != State.EXPECT_SERVER_FIRST) {
            throw new IllegalStateException("server-first-message is not expected now");
        }
        state = State.DONE;
        ScramReader reader = new ScramReader(serverFirstMessage);
        if (reader.peek() == 'm') {
            throw new AuthException("SCRAM server requires an unsupported extension");
        }
        String nonce = reader.attribute('r');
        if (!nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()
                || !ScramReader.isValidNonce(nonce)) {
            throw new AuthException("SCRAM nonce mismatch: the server nonce does not extend the client nonce");
        }
        byte[] salt = ScramCrypto.decodeBase64(reader.attribute('s'), "salt");
        if (salt.length == 0) {
            throw new AuthException("malformed SCRAM message: salt is empty");
        }
        String iterationText = reader.attribute('i');
        int iterations = iterationText.matches("[0-9]{1,8}") ? Integer.parseInt(iterationText) : -1;
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
            throw new AuthException("SCRAM iteration count is not between 1 and " + MAX_ITERATIONS);
        }
        while (!reader.atEnd()) {
            reader.anyAttribute();
        }
        byte[] salted = ScramCrypto.saltedPassword(SaslPrep.prepare(password), salt, iterations);
        String withoutProof = "c=biws,r=" + nonce;
        String authMessage = clientFirstBare + "," + serverFirstMessage + "," + withoutProof;
        byte[] clientKey = ScramCrypto.clientKey(salted);
        byte[] clientSignature = ScramCrypto.hmac(ScramCrypto.sha256(clientKey), authMessage);
        expectedServerSignature = ScramCrypto.hmac(ScramCrypto.serverKey(salted), authMessage);
        state = State.EXPECT_SERVER_FINAL;
        return withoutProof + ",p=" + ScramCrypto.base64(ScramCrypto.xor(clientKey, clientSignature));
    }

    /**
     * Checks the server signature in the server-final-message {@code v=<signature>}, proving the
     * server knows the password's verifier.
     *
     * @throws AuthException if the message is {@code e=<error>} (the message names the error), is
     *     malformed, or its signature is wrong
     */
    public void verifyServerFinal(String serverFinalMessage) throws AuthException {
        if (state != State.EXPECT_SERVER_FINAL) {
            throw new IllegalStateException("server-final-message is not expected now");
        }
        state = State.DONE;
        ScramReader reader = new ScramReader(serverFinalMessage);
        if (reader.peek() == 'e') {
            throw new AuthException("SCRAM server reported an error: " + reader.attribute('e'));
        }
        byte[] signature = ScramCrypto.decodeBase64(reader.attribute('v'), "server signature");
        if (!MessageDigest.isEqual(signature, expectedServerSignature)) {
            throw new AuthException("SCRAM server signature does not match: the server does not know the password");
        }
    }
}

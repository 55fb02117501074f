package dev.sluice.protocol.auth;

import java.io.Serial;

/**
 * Thrown when authentication fails or an authentication message is malformed.
 *
 * <p>The message is safe to log and to send to a client: it never contains a password, a hash, a
 * key or a proof.
 */
public final class AuthException extends Exception {

    @Serial
    private static final long serialVersionUID = 1L;

    /** @param message what went wrong, without any secret */
    public AuthException(String message) {
        super(message);
    }
}

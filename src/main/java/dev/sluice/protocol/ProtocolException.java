package dev.sluice.protocol;

/**
 * A peer broke the wire protocol: a bad length, an unknown or unexpected message, a truncated
 * field. The message names what was expected; the connection it came from is closed after an
 * ErrorResponse with {@link SqlState#PROTOCOL_VIOLATION}.
 */
public final class ProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message, null, false, false);
    }
}

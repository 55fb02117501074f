package dev.sluice.frontend;

import dev.sluice.config.SluiceConfig.AuthType;
import dev.sluice.protocol.Messages;
import dev.sluice.protocol.ProtocolException;
import dev.sluice.protocol.auth.AuthException;
import dev.sluice.protocol.auth.Md5Password;
import dev.sluice.protocol.auth.ScramServer;
import dev.sluice.protocol.auth.ScramVerifier;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;

/**
 * One client's password exchange with Sluice, as PostgreSQL runs it: SCRAM-SHA-256, md5 or
 * trust. An unknown user goes through the same exchange as a known one and fails at the same
 * step with the same message, so user names cannot be probed.
 *
 * <p>The method follows the configured type, except where the stored secret cannot serve it:
 * a stored md5 hash makes a SCRAM configuration fall back to md5, and a stored SCRAM verifier
 * makes an md5 configuration use SCRAM (PostgreSQL behaves the same way).
 */
final class ClientAuth {
    private static final SecureRandom RANDOM = new SecureRandom();

    private enum Method { TRUST, MD5, SCRAM }

    private final String user;
    private final String stored;
    private final Method method;
    private byte[] md5Salt;
    private ScramServer scram;
    private int step;

    /**
     * @param stored the user's configured secret, or {@code null} for an unknown user
     */
    ClientAuth(AuthType type, String user, String stored) {
        this.user = user;
        this.stored = stored;
        Method m = switch (type) {
            case TRUST -> Method.TRUST;
            case MD5 -> Method.MD5;
            case SCRAM_SHA_256 -> Method.SCRAM;
        };
        if (stored != null && m == Method.SCRAM && isMd5Hash(stored)) {
            m = Method.MD5;
        } else if (stored != null && m == Method.MD5 && ScramVerifier.isVerifier(stored)) {
            m = Method.SCRAM;
        }
        this.method = m;
    }

    boolean isTrust() {
        return method == Method.TRUST;
    }

    /** The authentication request to send after the startup packet. */
    ByteBuf begin(ByteBufAllocator alloc) {
        return switch (method) {
            case TRUST -> Messages.authentication(alloc, Messages.AUTH_OK);
            case MD5 -> {
                md5Salt = new byte[4];
                RANDOM.nextBytes(md5Salt);
                yield Messages.authenticationMd5(alloc, md5Salt);
            }
            case SCRAM -> {
                scram = stored == null ? ScramServer.forUnknownUser(user) : new ScramServer(stored);
                yield Messages.authenticationSasl(alloc, List.of("SCRAM-SHA-256"));
            }
        };
    }

    /**
     * Handles one password-type message (whole frame at {@code start}, {@code size} bytes).
     *
     * @return the next message to send; AuthenticationOk when the exchange succeeded (then
     *         {@link #isDone()} is true)
     * @throws AuthException when the password is wrong or the user unknown
     */
    ByteBuf onMessage(ByteBufAllocator alloc, ByteBuf b, int start, int size) throws AuthException {
        int end = start + size;
        switch (method) {
            case MD5 -> {
                String response = Messages.cstringAt(b, start + 5, end);
                step = 1;
                if (stored == null || !Md5Password.verify(user, stored, md5Salt, response)) {
                    throw failure();
                }
                step = 2;
                return Messages.authentication(alloc, Messages.AUTH_OK);
            }
            case SCRAM -> {
                if (step == 0) {
                    String mechanism = Messages.cstringAt(b, start + 5, end);
                    if (!"SCRAM-SHA-256".equals(mechanism)) {
                        throw new ProtocolException("unsupported SASL mechanism: " + mechanism);
                    }
                    int lenIndex = Messages.skipCstring(b, start + 5, end);
                    if (lenIndex + 4 > end) {
                        throw new ProtocolException("SASLInitialResponse truncated");
                    }
                    int len = b.getInt(lenIndex);
                    if (len < 0 || lenIndex + 4 + len > end) {
                        throw new ProtocolException("SASLInitialResponse length " + len + " out of range");
                    }
                    String first = b.toString(lenIndex + 4, len, StandardCharsets.UTF_8);
                    step = 1;
                    String serverFirst = scram.handleClientFirst(first);
                    return Messages.authenticationSaslData(alloc, Messages.AUTH_SASL_CONTINUE, serverFirst);
                }
                String fin = b.toString(start + 5, size - 5, StandardCharsets.UTF_8);
                String serverFinal;
                try {
                    serverFinal = scram.handleClientFinal(fin);
                } catch (AuthException e) {
                    throw failure();
                }
                step = 2;
                ByteBuf out = Messages.authenticationSaslData(alloc, Messages.AUTH_SASL_FINAL, serverFinal);
                ByteBuf ok = Messages.authentication(alloc, Messages.AUTH_OK);
                return alloc.compositeBuffer(2).addComponents(true, out, ok);
            }
            default -> throw new ProtocolException("unexpected password message");
        }
    }

    boolean isDone() {
        return step == 2 || method == Method.TRUST;
    }

    private AuthException failure() {
        return new AuthException("password authentication failed for user \"" + user + "\"");
    }

    private static boolean isMd5Hash(String s) {
        return s.length() == 35 && s.startsWith("md5");
    }
}

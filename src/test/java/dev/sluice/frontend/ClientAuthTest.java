package dev.sluice.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.config.SluiceConfig.AuthType;
import dev.sluice.protocol.Messages;
import dev.sluice.protocol.ProtocolException;
import dev.sluice.protocol.auth.AuthException;
import dev.sluice.protocol.auth.Md5Password;
import dev.sluice.protocol.auth.ScramClient;
import dev.sluice.protocol.auth.ScramVerifier;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ClientAuthTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    private static final String USER = "app";
    private static final String PASSWORD = "app-secret";

    @Test
    void scram_rightPassword_succeedsAndServerSignatureVerifies() throws AuthException {
        ClientAuth auth = new ClientAuth(AuthType.SCRAM_SHA_256, USER, PASSWORD);

        assertThat(scramLogin(auth, PASSWORD)).isTrue();
        assertThat(auth.isDone()).isTrue();
    }

    @Test
    void scram_storedVerifier_succeeds() throws AuthException {
        ClientAuth auth = new ClientAuth(AuthType.SCRAM_SHA_256, USER, ScramVerifier.create(PASSWORD));

        assertThat(scramLogin(auth, PASSWORD)).isTrue();
    }

    @Test
    void scram_begin_offersScramSha256Only() {
        ClientAuth auth = new ClientAuth(AuthType.SCRAM_SHA_256, USER, PASSWORD);
        ByteBuf begin = auth.begin(ALLOC);
        try {
            assertThat(begin.getByte(0)).isEqualTo((byte) 'R');
            assertThat(begin.getInt(5)).isEqualTo(Messages.AUTH_SASL);
            assertThat(Messages.cstringAt(begin, 9, begin.writerIndex())).isEqualTo("SCRAM-SHA-256");
            assertThat(begin.getByte(begin.writerIndex() - 1)).isZero();
            assertThat(begin.getInt(1)).isEqualTo(begin.readableBytes() - 1);
        } finally {
            begin.release();
        }
        assertThat(auth.isTrust()).isFalse();
        assertThat(auth.isDone()).isFalse();
    }

    @Test
    void scram_unsupportedMechanism_protocolException() {
        ClientAuth auth = new ClientAuth(AuthType.SCRAM_SHA_256, USER, PASSWORD);
        auth.begin(ALLOC).release();
        ByteBuf initial = Messages.saslInitialResponse(ALLOC, "SCRAM-SHA-1", "n,,n=,r=abc");
        try {
            assertThatThrownBy(() -> auth.onMessage(ALLOC, initial, 0, initial.readableBytes()))
                    .isInstanceOf(ProtocolException.class)
                    .hasMessageContaining("SCRAM-SHA-1");
        } finally {
            initial.release();
        }
    }

    @Test
    void scram_initialResponseLengthBeyondFrame_protocolException() {
        ClientAuth auth = new ClientAuth(AuthType.SCRAM_SHA_256, USER, PASSWORD);
        auth.begin(ALLOC).release();
        ByteBuf initial = Messages.start(ALLOC, (byte) 'p', 64);
        Messages.cstring(initial, "SCRAM-SHA-256");
        initial.writeInt(1000);
        initial.writeBytes("n,,n=,r=abc".getBytes(StandardCharsets.UTF_8));
        Messages.finish(initial, 0);
        try {
            assertThatThrownBy(() -> auth.onMessage(ALLOC, initial, 0, initial.readableBytes()))
                    .isInstanceOf(ProtocolException.class)
                    .hasMessageContaining("1000");
        } finally {
            initial.release();
        }
    }

    @Test
    void md5_rightPassword_succeeds() throws AuthException {
        ClientAuth auth = new ClientAuth(AuthType.MD5, "md5user", "md5-secret");

        assertThat(md5Login(auth, "md5user", "md5-secret")).isTrue();
        assertThat(auth.isDone()).isTrue();
    }

    @Test
    void md5_storedHash_succeeds() throws AuthException {
        ClientAuth auth = new ClientAuth(AuthType.MD5, "md5user", Md5Password.storedHash("md5user", "md5-secret"));

        assertThat(md5Login(auth, "md5user", "md5-secret")).isTrue();
    }

    @Test
    void scramConfigured_storedMd5Hash_fallsBackToMd5() throws AuthException {
        ClientAuth auth = new ClientAuth(AuthType.SCRAM_SHA_256, "md5user", Md5Password.storedHash("md5user", "md5-secret"));

        assertThat(md5Login(auth, "md5user", "md5-secret")).isTrue();
    }

    @Test
    void md5Configured_storedScramVerifier_usesScram() throws AuthException {
        ClientAuth auth = new ClientAuth(AuthType.MD5, USER, ScramVerifier.create(PASSWORD));

        assertThat(scramLogin(auth, PASSWORD)).isTrue();
    }

    @Test
    void trust_answersAuthenticationOkAtOnce() {
        ClientAuth auth = new ClientAuth(AuthType.TRUST, "anyone", null);

        assertThat(auth.isTrust()).isTrue();
        assertThat(auth.isDone()).isTrue();
        ByteBuf begin = auth.begin(ALLOC);
        try {
            assertThat(begin.readableBytes()).isEqualTo(9);
            assertThat(begin.getByte(0)).isEqualTo((byte) 'R');
            assertThat(begin.getInt(1)).isEqualTo(8);
            assertThat(begin.getInt(5)).isEqualTo(Messages.AUTH_OK);
        } finally {
            begin.release();
        }
    }

    @Test
    void scram_wrongPasswordAndUnknownUser_sameMessage() {
        String wrong = failureMessage(() -> scramLogin(new ClientAuth(AuthType.SCRAM_SHA_256, USER, PASSWORD), "nope"));
        String unknown = failureMessage(() -> scramLogin(new ClientAuth(AuthType.SCRAM_SHA_256, USER, null), "nope"));

        assertThat(wrong).isEqualTo("password authentication failed for user \"app\"");
        assertThat(unknown).isEqualTo(wrong);
    }

    @Test
    void md5_wrongPasswordAndUnknownUser_sameMessage() {
        String wrong = failureMessage(() -> md5Login(new ClientAuth(AuthType.MD5, "md5user", "md5-secret"), "md5user", "nope"));
        String unknown = failureMessage(() -> md5Login(new ClientAuth(AuthType.MD5, "md5user", null), "md5user", "nope"));

        assertThat(wrong).isEqualTo("password authentication failed for user \"md5user\"");
        assertThat(unknown).isEqualTo(wrong);
    }

    @Test
    void unknownUser_askedForTheSameMethodAsAKnownOne() {
        ByteBuf known = new ClientAuth(AuthType.SCRAM_SHA_256, USER, PASSWORD).begin(ALLOC);
        ByteBuf unknown = new ClientAuth(AuthType.SCRAM_SHA_256, "ghost", null).begin(ALLOC);
        try {
            assertThat(unknown).isEqualTo(known);
        } finally {
            known.release();
            unknown.release();
        }
    }

    // ---- a client side of the exchange, speaking in frames ----

    /** Runs a SCRAM exchange; true when it ended with AuthenticationOk and a valid server signature. */
    private static boolean scramLogin(ClientAuth auth, String password) throws AuthException {
        auth.begin(ALLOC).release();
        ScramClient client = new ScramClient(password);

        ByteBuf initial = Messages.saslInitialResponse(ALLOC, "SCRAM-SHA-256", client.clientFirstMessage());
        String serverFirst;
        ByteBuf cont = onMessage(auth, initial);
        try {
            assertThat(cont.getByte(0)).isEqualTo((byte) 'R');
            assertThat(cont.getInt(5)).isEqualTo(Messages.AUTH_SASL_CONTINUE);
            serverFirst = cont.toString(9, cont.getInt(1) - 8, StandardCharsets.UTF_8);
        } finally {
            cont.release();
        }
        assertThat(auth.isDone()).isFalse();

        ByteBuf response = Messages.saslResponse(ALLOC, client.clientFinalMessage(serverFirst));
        ByteBuf fin = onMessage(auth, response);
        try {
            assertThat(fin.getByte(0)).isEqualTo((byte) 'R');
            assertThat(fin.getInt(5)).isEqualTo(Messages.AUTH_SASL_FINAL);
            int finalLength = fin.getInt(1) + 1;
            client.verifyServerFinal(fin.toString(9, finalLength - 9, StandardCharsets.UTF_8));
            assertThat(fin.getByte(finalLength)).isEqualTo((byte) 'R');
            assertThat(fin.getInt(finalLength + 5)).isEqualTo(Messages.AUTH_OK);
            assertThat(fin.readableBytes()).isEqualTo(finalLength + 9);
        } finally {
            fin.release();
        }
        return auth.isDone();
    }

    private static boolean md5Login(ClientAuth auth, String user, String password) throws AuthException {
        ByteBuf begin = auth.begin(ALLOC);
        byte[] salt = new byte[4];
        try {
            assertThat(begin.getInt(5)).isEqualTo(Messages.AUTH_MD5);
            assertThat(begin.readableBytes()).isEqualTo(13);
            begin.getBytes(9, salt);
        } finally {
            begin.release();
        }
        ByteBuf ok = onMessage(auth, Messages.passwordMessage(ALLOC, Md5Password.response(user, password, salt)));
        try {
            assertThat(ok.getInt(5)).isEqualTo(Messages.AUTH_OK);
        } finally {
            ok.release();
        }
        return auth.isDone();
    }

    /** Hands a whole frame to {@code auth} behind some unrelated bytes, as it sits in a session's buffer. */
    private static ByteBuf onMessage(ClientAuth auth, ByteBuf frame) throws AuthException {
        ByteBuf b = ALLOC.buffer();
        b.writeBytes(new byte[] {1, 2, 3});
        int start = b.writerIndex();
        int size = frame.readableBytes();
        b.writeBytes(frame);
        frame.release();
        try {
            return auth.onMessage(ALLOC, b, start, size);
        } finally {
            b.release();
        }
    }

    private interface Login {
        boolean run() throws AuthException;
    }

    private static String failureMessage(Login login) {
        try {
            login.run();
        } catch (AuthException e) {
            return e.getMessage();
        }
        throw new AssertionError("login unexpectedly succeeded");
    }
}

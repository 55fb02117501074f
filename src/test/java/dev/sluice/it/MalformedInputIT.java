package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.SluiceConfig.AuthType;
import dev.sluice.config.SluiceConfig.ClientTls;
import dev.sluice.config.SluiceConfig.ClientTlsMode;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Await;
import dev.sluice.it.support.TestCertificates;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import dev.sluice.it.support.WireClient;
import dev.sluice.it.support.WireClient.Message;
import dev.sluice.protocol.Messages;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Clients sending bad bytes get ErrorResponse 08P01 and are disconnected, while a well-behaved
 * client on the same Sluice keeps running its queries on its one connection, unaware.
 */
@Timeout(120)
class MalformedInputIT {

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
    private static final int MAX_MESSAGE = 1024 * 1024;

    private static TestCertificates.SelfSigned cert;
    private static ProxyServer sluice;
    private static Thread goodClient;
    private static final AtomicBoolean stop = new AtomicBoolean();
    private static final AtomicLong goodQueries = new AtomicLong();
    private static final ConcurrentLinkedQueue<Throwable> goodFailures = new ConcurrentLinkedQueue<>();

    private long goodBefore;

    @BeforeAll
    static void start() throws Exception {
        cert = TestCertificates.selfSigned();
        sluice = ProxyServer.start(TestConfig.builder()
                .authType(AuthType.TRUST)
                .maxMessageLength(MAX_MESSAGE)
                .clientTls(new ClientTls(ClientTlsMode.ALLOW, Optional.of(cert.certFile().toString()),
                        Optional.of(cert.keyFile().toString())))
                .build());
        Connection c = connect();
        goodClient = new Thread(() -> runGoodClient(c), "good-client");
        goodClient.start();
        Await.until(Duration.ofSeconds(20), () -> goodQueries.get() > 5 || !goodFailures.isEmpty());
    }

    private static void runGoodClient(Connection c) {
        // bounded in count; stops early when the test class is done
        try (c; Statement s = c.createStatement()) {
            for (long i = 0; i < 1_000_000 && !stop.get(); i++) {
                try (ResultSet rs = s.executeQuery("SELECT " + i + " AS n")) {
                    rs.next();
                    if (rs.getLong(1) != i) {
                        throw new AssertionError("good client got " + rs.getLong(1) + " for " + i);
                    }
                }
                goodQueries.incrementAndGet();
            }
        } catch (Throwable t) {
            goodFailures.add(t);
        }
    }

    @AfterAll
    static void stopAll() throws Exception {
        stop.set(true);
        if (goodClient != null) {
            goodClient.join(Duration.ofSeconds(20));
        }
        if (sluice != null) {
            sluice.close();
        }
        if (cert != null) {
            cert.close();
        }
        assertThat(goodFailures).as("the good client never noticed").isEmpty();
    }

    @BeforeEach
    void noteProgress() {
        goodBefore = goodQueries.get();
    }

    @AfterEach
    void goodClientUnaffected() {
        assertThat(goodFailures).as("good client failures").isEmpty();
        Await.until(Duration.ofSeconds(20), () -> goodQueries.get() > goodBefore + 3 || !goodFailures.isEmpty(),
                () -> "good client progressing");
        assertThat(goodFailures).as("good client failures").isEmpty();
        assertThat(goodClient.isAlive()).as("good client still on its first connection").isTrue();
        // the good client is the only one left: bad clients leave no session behind
        Await.until(Duration.ofSeconds(10), () -> sluice.clientCount() == 1, () -> "clients: " + sluice.clientCount());
    }

    // ---------------------------------------------------------------- startup phase

    @Test
    void startup_lengthBelowEight_protocolViolation() throws Exception {
        assertProtocolViolation(new byte[] {0, 0, 0, 4}, false);
        assertProtocolViolation(new byte[] {0, 0, 0, 7, 0, 3, 0}, false);
    }

    @Test
    void startup_lengthAboveTenThousand_protocolViolation() throws Exception {
        // only the header: the length alone must be refused, without waiting for 10001 bytes
        assertProtocolViolation(ByteBuffer.allocate(8).putInt(10_001).putInt(Messages.PROTOCOL_3_0).array(), false);
    }

    @Test
    void startup_missingFinalTerminator_protocolViolation() throws Exception {
        byte[] full = WireClient.startupPacket("trustuser", "app");
        byte[] cut = new byte[full.length - 1];
        System.arraycopy(full, 0, cut, 0, cut.length);
        ByteBuffer.wrap(cut).putInt(0, cut.length);
        assertProtocolViolation(cut, false);
    }

    @Test
    void startup_protocolVersionTwo_protocolViolation() throws Exception {
        byte[] packet = WireClient.startupPacket("trustuser", "app");
        ByteBuffer.wrap(packet).putInt(4, 2 << 16);
        assertProtocolViolation(packet, false);
    }

    @Test
    void startup_passwordMessageBeforeStartup_protocolViolation() throws Exception {
        assertProtocolViolation(WireClient.frame('p', WireClient.cstring("app-secret")), false);
    }

    @Test
    void startup_gssEncRequest_answeredNoThenPlainLoginWorks() throws Exception {
        try (WireClient c = WireClient.connect("127.0.0.1", sluice.port(), READ_TIMEOUT)) {
            c.send(ByteBuffer.allocate(8).putInt(8).putInt(Messages.GSSENC_REQUEST_CODE).array());
            assertThat(c.readByte()).isEqualTo('N');
            List<Message> greeting = c.login("trustuser", "", "app");
            assertThat(greeting.getLast().type()).isEqualTo('Z');
            assertThat(c.simpleQuery("SELECT 1").stream().map(Message::type)).containsExactly('T', 'D', 'C', 'Z');
            c.send(WireClient.frame('X', new byte[0]));
            assertThat(c.isClosedByServer()).isTrue();
        }
    }

    @Test
    void startup_bytesAfterSslRequestInTheSamePacket_refusedNeverProcessed() throws Exception {
        // CVE-2021-23214: data sent before the TLS handshake could be injected by a man in the middle
        ByteArrayOutputStream packet = new ByteArrayOutputStream();
        packet.writeBytes(ByteBuffer.allocate(8).putInt(8).putInt(Messages.SSL_REQUEST_CODE).array());
        packet.writeBytes(WireClient.startupPacket("trustuser", "app"));
        packet.writeBytes(WireClient.query("SELECT 1"));
        try (WireClient c = WireClient.connect("127.0.0.1", sluice.port(), READ_TIMEOUT)) {
            c.send(packet.toByteArray());
            int first = c.readByte();
            assertThat((char) first).as("no 'S': TLS must not start").isEqualTo('E');
            Message error = readRestOfTyped(c, (char) first);
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(c.readUntilClosed()).as("nothing after the error").isEmpty();
        }
    }

    // ---------------------------------------------------------------- after login

    @Test
    void afterLogin_lengthBelowFour_protocolViolation() throws Exception {
        assertProtocolViolation(new byte[] {'Q', 0, 0, 0, 3}, true);
    }

    @Test
    void afterLogin_lengthAboveMaxMessageLength_protocolViolationWithoutWaitingForTheBody() throws Exception {
        Message error = assertProtocolViolation(
                ByteBuffer.allocate(5).put((byte) 'Q').putInt(2 * MAX_MESSAGE).array(), true);
        assertThat(error.field('M')).contains(String.valueOf(2 * MAX_MESSAGE));
    }

    @Test
    void afterLogin_unknownMessageType_protocolViolation() throws Exception {
        assertProtocolViolation(WireClient.frame('z', new byte[0]), true);
    }

    @Test
    void afterLogin_secondStartupMessage_protocolViolation() throws Exception {
        assertProtocolViolation(WireClient.startupPacket("trustuser", "app"), true);
    }

    @Test
    void afterLogin_passwordMessage_protocolViolation() throws Exception {
        assertProtocolViolation(WireClient.frame('p', WireClient.cstring("x")), true);
    }

    @Test
    void afterLogin_truncatedFrameThenClose_noEffectOnOthers() throws Exception {
        try (WireClient c = WireClient.connect("127.0.0.1", sluice.port(), READ_TIMEOUT)) {
            c.login("trustuser", "", "app");
            byte[] q = WireClient.query("SELECT 'never run'");
            byte[] cut = new byte[q.length / 2];
            System.arraycopy(q, 0, cut, 0, cut.length);
            c.send(cut);
        }
    }

    @Test
    void midStartup_truncatedPacketThenClose_noEffectOnOthers() throws Exception {
        try (WireClient c = WireClient.connect("127.0.0.1", sluice.port(), READ_TIMEOUT)) {
            byte[] p = WireClient.startupPacket("trustuser", "app");
            c.send(new byte[] {p[0], p[1], p[2], p[3], p[4], p[5]});
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Sends {@code bad} (after a trust login when {@code loggedIn}) and expects exactly one
     * ErrorResponse 08P01 followed by the server closing the connection.
     */
    private static Message assertProtocolViolation(byte[] bad, boolean loggedIn) throws Exception {
        try (WireClient c = WireClient.connect("127.0.0.1", sluice.port(), READ_TIMEOUT)) {
            if (loggedIn) {
                c.login("trustuser", "", "app");
            }
            c.send(bad);
            List<Message> got = c.readUntilClosed();
            assertThat(got).as("one ErrorResponse, then end of stream").hasSize(1);
            Message error = got.getFirst();
            assertThat(error.type()).isEqualTo('E');
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(error.field('S')).isEqualTo("FATAL");
            assertThat(error.field('M')).isNotBlank();
            return error;
        }
    }

    private static Message readRestOfTyped(WireClient c, char type) throws Exception {
        // the type byte was consumed by readByte(): read length and body directly
        var in = new java.io.DataInputStream(c.socket().getInputStream());
        int length = in.readInt();
        byte[] body = new byte[length - 4];
        in.readFully(body);
        return new Message(type, body);
    }

    private static Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.APP_USER);
        p.setProperty("password", TestPostgres.APP_PASSWORD);
        p.setProperty("sslmode", "disable");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + sluice.port() + "/app", p);
    }
}

package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import dev.sluice.it.support.WireClient;
import dev.sluice.it.support.WireClient.Message;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Graceful shutdown: a transaction in flight may finish, then its client is told 57P01; idle
 * clients are told at once; no new client gets in.
 */
@Timeout(60)
class ShutdownIT {

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    @BeforeEach
    void createTable() throws SQLException {
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS shutdown_probe");
            s.execute("CREATE TABLE shutdown_probe (id int PRIMARY KEY)");
        }
    }

    @AfterEach
    void dropTable() throws SQLException {
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS shutdown_probe");
        }
    }

    @Test
    void shutdownGracefully_transactionFinishesThen57P01_idleClosedAtOnce_newConnectionsRefused() throws Exception {
        ProxyServer proxy = ProxyServer.start(TestConfig.builder().build());
        int port = proxy.port();
        try (WireClient busy = WireClient.connect("127.0.0.1", port, READ_TIMEOUT);
                WireClient idle = WireClient.connect("127.0.0.1", port, READ_TIMEOUT)) {
            busy.login(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, TestPostgres.DATABASE);
            idle.login(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, TestPostgres.DATABASE);
            assertThat(status(idle.simpleQuery("SELECT 1"))).isEqualTo('I');
            assertThat(status(busy.simpleQuery("BEGIN"))).isEqualTo('T');
            assertNoError(busy.simpleQuery("INSERT INTO shutdown_probe VALUES (1)"));

            CompletableFuture<Void> shutdown = CompletableFuture.runAsync(
                    () -> proxy.shutdownGracefully(Duration.ofSeconds(10)));

            // the idle client is closed while the transaction is still open
            List<Message> idleGot = idle.readUntilClosed();
            assertThat(idleGot).hasSize(1);
            assertThat(idleGot.getFirst().type()).isEqualTo('E');
            assertThat(idleGot.getFirst().sqlState()).isEqualTo("57P01");

            assertThatThrownBy(() -> new Socket("127.0.0.1", port).close())
                    .as("new connections are refused").isInstanceOf(IOException.class);

            // the busy client finishes its transaction
            List<Message> insert = busy.simpleQuery("INSERT INTO shutdown_probe VALUES (2)");
            assertNoError(insert);
            assertThat(status(insert)).isEqualTo('T');
            List<Message> commit = busy.simpleQuery("COMMIT");
            assertNoError(commit);
            assertThat(commit.stream().filter(m -> m.type() == 'C')
                    .map(m -> new String(m.body(), 0, m.body().length - 1, StandardCharsets.UTF_8)))
                    .containsExactly("COMMIT");
            assertThat(status(commit)).isEqualTo('I');

            // then it is told, and closed
            List<Message> busyGot = busy.readUntilClosed();
            assertThat(busyGot).hasSize(1);
            assertThat(busyGot.getFirst().type()).isEqualTo('E');
            assertThat(busyGot.getFirst().sqlState()).isEqualTo("57P01");

            shutdown.get(30, TimeUnit.SECONDS);
        } finally {
            proxy.close();
        }
        try (Connection c = direct(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM shutdown_probe")) {
            rs.next();
            assertThat(rs.getInt(1)).as("the transaction committed").isEqualTo(2);
        }
    }

    private static char status(List<Message> got) {
        Message last = got.getLast();
        assertThat(last.type()).isEqualTo('Z');
        return (char) last.body()[0];
    }

    private static void assertNoError(List<Message> got) {
        assertThat(got).noneMatch(m -> m.type() == 'E');
    }

    private static Connection direct() throws SQLException {
        return TestPostgres.connect(TestPostgres.shared(), TestPostgres.APP_USER, TestPostgres.APP_PASSWORD,
                TestPostgres.DATABASE);
    }
}

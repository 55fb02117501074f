package dev.sluice.it;

import static dev.sluice.it.support.ProxyClients.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.config.SluiceConfig.IoTransport;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.frontend.Transport;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * The data path on every network transport ({@code io_transport}): the other integration tests
 * run on whichever {@code auto} picks, so the ones it does not pick are driven here with what
 * moves bytes in every direction: concurrent clients with server-prepared statements, COPY both
 * ways, and a result far larger than the socket buffers.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TransportIT {

    private static final int CLIENTS = 24;
    private static final int TRANSACTIONS = 40;

    @ParameterizedTest
    @EnumSource(value = IoTransport.class, names = {"IO_URING", "EPOLL", "NIO"})
    void dataPath_worksOnEachTransport(IoTransport transport) throws Exception {
        assumeTrue(Transport.isAvailable(transport), transport.configName() + " not available here");
        String table = "transport_" + transport.configName();
        try (Connection su = TestPostgres.superuserConnection(TestPostgres.shared(), TestPostgres.DATABASE);
                Statement s = su.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + table);
            s.execute("CREATE TABLE " + table + " (client int, n int, note text)");
            s.execute("GRANT ALL ON " + table + " TO " + TestPostgres.APP_USER);
        }
        try (ProxyServer proxy = ProxyServer.start(TestConfig.builder().ioTransport(transport).poolSize(4).build())) {
            assertThat(proxy.transport().name()).isEqualTo(transport.configName());

            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    done.add(pool.submit(() -> {
                        try (Connection conn = ProxyClients.connect(proxy, props("prepareThreshold", "1"));
                                PreparedStatement insert = conn.prepareStatement(
                                        "INSERT INTO " + table + " VALUES (?, ?, ?) RETURNING n * 2");
                                PreparedStatement echo = conn.prepareStatement("SELECT ?::int + 1, ?::text")) {
                            for (int n = 0; n < TRANSACTIONS; n++) {
                                insert.setInt(1, client);
                                insert.setInt(2, n);
                                insert.setString(3, "client " + client + " row " + n);
                                try (ResultSet rs = insert.executeQuery()) {
                                    assertThat(rs.next()).isTrue();
                                    assertThat(rs.getInt(1)).isEqualTo(2 * n);
                                }
                                echo.setInt(1, client * 1000 + n);
                                echo.setString(2, "c" + client);
                                try (ResultSet rs = echo.executeQuery()) {
                                    assertThat(rs.next()).isTrue();
                                    assertThat(rs.getInt(1)).isEqualTo(client * 1000 + n + 1);
                                    assertThat(rs.getString(2)).isEqualTo("c" + client);
                                }
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }

            try (Connection conn = ProxyClients.connect(proxy); Statement s = conn.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT client), sum(n) FROM " + table)) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).isEqualTo((long) CLIENTS * TRANSACTIONS);
                    assertThat(rs.getLong(2)).isEqualTo(CLIENTS);
                    assertThat(rs.getLong(3)).isEqualTo((long) CLIENTS * TRANSACTIONS * (TRANSACTIONS - 1) / 2);
                }

                // COPY in and out through the proxy, byte for byte
                CopyManager copy = conn.unwrap(PGConnection.class).getCopyAPI();
                StringBuilder in = new StringBuilder();
                for (int i = 0; i < 5000; i++) {
                    in.append(-1).append('\t').append(i).append('\t').append("copied line ").append(i).append('\n');
                }
                long copied = copy.copyIn("COPY " + table + " FROM STDIN",
                        new ByteArrayInputStream(in.toString().getBytes(StandardCharsets.UTF_8)));
                assertThat(copied).isEqualTo(5000);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                copy.copyOut("COPY (SELECT * FROM " + table + " WHERE client = -1 ORDER BY n) TO STDOUT", out);
                assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(in.toString());

                // about 20 MB of rows in one result, far more than the socket buffers hold
                long rows = 0;
                long sum = 0;
                try (ResultSet rs = s.executeQuery("SELECT g, repeat('x', 200) FROM generate_series(1, 100000) g")) {
                    while (rs.next()) {
                        rows++;
                        sum += rs.getLong(1);
                        assertThat(rs.getString(2)).hasSize(200);
                    }
                }
                assertThat(rows).isEqualTo(100_000);
                assertThat(sum).isEqualTo(100_000L * 100_001 / 2);
            }
        }
    }
}

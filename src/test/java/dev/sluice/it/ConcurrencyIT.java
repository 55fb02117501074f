package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Await;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import dev.sluice.pool.Pool;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many clients over few server connections in transaction mode: every answer belongs to the client
 * that asked, and PostgreSQL never sees more connections than the pool size.
 */
class ConcurrencyIT {

    private static final int CLIENTS = 500;
    private static final int POOL_SIZE = 10;
    private static final int QUERIES = 20;
    private static final int TRANSACTIONS = 3;
    private static final String TABLE = "concurrency_rows";

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void fiveHundredClients_tenServerConnections_noCrossTalk() throws Exception {
        try (Connection su = TestPostgres.superuserConnection(TestPostgres.shared(), TestPostgres.DATABASE);
                Statement s = su.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + TABLE);
            s.execute("CREATE TABLE " + TABLE + " (client int, n int, note text)");
            s.execute("GRANT ALL ON " + TABLE + " TO " + TestPostgres.APP_USER);
        }
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicInteger maxServerConnections = new AtomicInteger();
        AtomicInteger maxPoolTotal = new AtomicInteger();
        AtomicInteger samples = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        try (ProxyServer proxy = ProxyServer.start(TestConfig.builder().poolSize(POOL_SIZE).build());
                Connection su = TestPostgres.superuserConnection();
                PreparedStatement activity = su.prepareStatement(
                        "SELECT count(*) FROM pg_stat_activity WHERE usename = ? AND backend_type = 'client backend'")) {
            activity.setString(1, TestPostgres.APP_USER);
            // backends of earlier test classes may still be exiting: count only this test's
            Await.until(Duration.ofSeconds(30), "no backend of " + TestPostgres.APP_USER + " left from earlier tests", () -> {
                try (ResultSet rs = activity.executeQuery()) {
                    rs.next();
                    return rs.getInt(1) == 0;
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread monitor = Thread.ofPlatform().name("concurrency-monitor").start(() -> {
                while (running.get()) {
                    try (ResultSet rs = activity.executeQuery()) {
                        rs.next();
                        maxServerConnections.accumulateAndGet(rs.getInt(1), Math::max);
                    } catch (SQLException e) {
                        errors.add(e);
                        return;
                    }
                    for (Pool p : proxy.poolList()) {
                        maxPoolTotal.accumulateAndGet(p.snapshot().total(), Math::max);
                    }
                    samples.incrementAndGet();
                    LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
                }
            });
            CountDownLatch allConnected = new CountDownLatch(CLIENTS);
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                int id = i;
                futures.add(clients.submit(() -> {
                    try {
                        runClient(proxy, id, allConnected);
                    } catch (Throwable t) {
                        errors.add(new AssertionError("client " + id + ": " + t, t));
                        allConnected.countDown();
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get(200, TimeUnit.SECONDS);
            }
            running.set(false);
            monitor.join(Duration.ofSeconds(10));
            assertThat(errors).isEmpty();
            assertThat(samples.get()).as("monitor samples").isPositive();
            assertThat(maxServerConnections.get()).isBetween(1, POOL_SIZE);
            assertThat(maxPoolTotal.get()).isBetween(1, POOL_SIZE);
            try (Connection c = ProxyClients.connect(proxy); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT client) FROM " + TABLE)) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(CLIENTS * TRANSACTIONS * 2);
                assertThat(rs.getInt(2)).isEqualTo(CLIENTS);
            }
            Await.until(Duration.ofSeconds(10), "all clients gone", () -> proxy.clientCount() == 0);
        } finally {
            running.set(false);
            clients.shutdownNow();
            try (Connection su = TestPostgres.superuserConnection(TestPostgres.shared(), TestPostgres.DATABASE);
                    Statement s = su.createStatement()) {
                s.execute("DROP TABLE IF EXISTS " + TABLE);
            }
        }
    }

    private static void runClient(ProxyServer proxy, int id, CountDownLatch allConnected) throws Exception {
        try (Connection c = ProxyClients.connect(proxy)) {
            allConnected.countDown();
            // all 500 hold a client connection at once before anyone starts querying
            assertThat(allConnected.await(120, TimeUnit.SECONDS)).as("all clients connected").isTrue();
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::int, ?::text, " + id);
                    Statement st = c.createStatement()) {
                for (int q = 0; q < QUERIES; q++) {
                    String text = "client-" + id + "-query-" + q;
                    ps.setInt(1, id * 1000 + q);
                    ps.setString(2, text);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getInt(1)).isEqualTo(id * 1000 + q);
                        assertThat(rs.getString(2)).isEqualTo(text);
                        assertThat(rs.getInt(3)).isEqualTo(id);
                    }
                    if (q % 5 == 0) {
                        try (ResultSet rs = st.executeQuery("SELECT " + id + ", '" + text + "'")) {
                            assertThat(rs.next()).isTrue();
                            assertThat(rs.getInt(1)).isEqualTo(id);
                            assertThat(rs.getString(2)).isEqualTo(text);
                        }
                    }
                }
            }
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO " + TABLE + " VALUES (?, ?, ?)");
                    PreparedStatement count = c.prepareStatement("SELECT count(*), min(note), max(note) FROM "
                            + TABLE + " WHERE client = ?")) {
                for (int t = 0; t < TRANSACTIONS; t++) {
                    for (int r = 0; r < 2; r++) {
                        insert.setInt(1, id);
                        insert.setInt(2, t * 2 + r);
                        insert.setString(3, "note-" + id);
                        assertThat(insert.executeUpdate()).isEqualTo(1);
                    }
                    count.setInt(1, id);
                    try (ResultSet rs = count.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getInt(1)).isEqualTo((t + 1) * 2);
                        assertThat(rs.getString(2)).isEqualTo("note-" + id);
                        assertThat(rs.getString(3)).isEqualTo("note-" + id);
                    }
                    c.commit();
                }
            }
        }
    }
}

package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.config.SluiceConfig.PoolMode;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Await;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Query cancellation through Sluice with pgjdbc's {@link Statement#cancel()}: the cancelled query
 * ends with 57014, the connection stays usable, and under load a cancel never lands on another
 * client's query.
 */
@Timeout(180)
class CancelIT {

    private static final String QUERY_CANCELED = "57014";

    private static ProxyServer sluice;

    @BeforeAll
    static void start() throws InterruptedException {
        sluice = ProxyServer.start(TestConfig.builder().poolSize(10).acquireTimeout(Duration.ofSeconds(60)).build());
    }

    @AfterAll
    static void stop() {
        if (sluice != null) {
            sluice.close();
        }
    }

    @Test
    void cancel_transactionMode_longSleepEndsWith57014AndConnectionStaysUsable() throws Exception {
        cancelOneAndReuse(sluice, "tx");
    }

    @Test
    void cancel_sessionMode_longSleepEndsWith57014AndConnectionStaysUsable() throws Exception {
        try (ProxyServer session = ProxyServer.start(TestConfig.builder().poolMode(PoolMode.SESSION).build())) {
            cancelOneAndReuse(session, "session");
        }
    }

    private static void cancelOneAndReuse(ProxyServer proxy, String tag) throws Exception {
        String marker = "cancel-one-" + tag;
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try (Connection c = connect(proxy); Statement s = c.createStatement(); Connection su = TestPostgres.superuserConnection()) {
            Future<?> sleeping = executor.submit(() -> s.execute("SELECT /* " + marker + " */ pg_sleep(30)"));
            Await.until(Duration.ofSeconds(20), () -> !activeMarkers(su, marker).isEmpty() || sleeping.isDone(),
                    () -> "the sleep running on PostgreSQL");

            s.cancel();

            assertThatThrownBy(() -> sleeping.get(20, TimeUnit.SECONDS))
                    .cause()
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo(QUERY_CANCELED));
            try (ResultSet rs = s.executeQuery("SELECT 41 + 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
            // and in a transaction too
            c.setAutoCommit(false);
            s.execute("SELECT 1");
            c.commit();
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void cancel_hundredClientsUnderLoad_onlyTheTargetedQueriesAreCancelled() throws Exception {
        int sleepers = 30;
        int workers = 70;
        int queriesPerWorker = 10;
        List<Connection> connections = new ArrayList<>();
        ExecutorService executor = Executors.newFixedThreadPool(sleepers + workers + 1);
        try (Connection su = TestPostgres.superuserConnection()) {
            for (int i = 0; i < sleepers + workers; i++) {
                connections.add(connect(sluice));
            }
            Statement[] sleeperStatements = new Statement[sleepers];
            for (int i = 0; i < sleepers; i++) {
                sleeperStatements[i] = connections.get(i).createStatement();
            }
            Map<Integer, String> sleeperOutcome = new ConcurrentHashMap<>();
            ConcurrentLinkedQueue<String> workerFailures = new ConcurrentLinkedQueue<>();
            AtomicInteger workerSuccesses = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> tasks = new ArrayList<>();

            for (int i = 0; i < sleepers; i++) {
                int n = i;
                tasks.add(executor.submit(() -> {
                    go.await();
                    Statement s = sleeperStatements[n];
                    try {
                        s.execute("SELECT /* sleeper-" + n + " */ pg_sleep(30)");
                        sleeperOutcome.put(n, "completed without cancel");
                    } catch (SQLException e) {
                        sleeperOutcome.put(n, e.getSQLState());
                    }
                    // the cancelled client goes on using its connection
                    try (ResultSet rs = s.executeQuery("SELECT " + n)) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(n);
                    }
                    return null;
                }));
            }
            for (int i = 0; i < workers; i++) {
                Connection c = connections.get(sleepers + i);
                int n = i;
                tasks.add(executor.submit(() -> {
                    go.await();
                    try (Statement s = c.createStatement()) {
                        for (int q = 0; q < queriesPerWorker; q++) {
                            String expected = "w" + n + "-" + q;
                            try (ResultSet rs = s.executeQuery("SELECT pg_sleep(0.01), '" + expected + "'")) {
                                rs.next();
                                if (expected.equals(rs.getString(2))) {
                                    workerSuccesses.incrementAndGet();
                                } else {
                                    workerFailures.add(expected + ": got " + rs.getString(2));
                                }
                            } catch (SQLException e) {
                                workerFailures.add(expected + ": " + e.getSQLState() + " " + e.getMessage());
                            }
                        }
                    }
                    return null;
                }));
            }

            // the canceller: cancels each sleeper once PostgreSQL shows its query running
            Set<Integer> cancelled = new HashSet<>();
            go.countDown();
            Await.until(Duration.ofSeconds(90), () -> {
                for (int n : activeSleepers(su)) {
                    if (cancelled.add(n)) {
                        try {
                            sleeperStatements[n].cancel();
                        } catch (SQLException e) {
                            throw new AssertionError("cancel of sleeper " + n + " failed", e);
                        }
                    }
                }
                return cancelled.size() == sleepers;
            }, () -> "all sleepers cancelled; cancelled so far: " + cancelled.size());

            for (Future<?> t : tasks) {
                t.get(60, TimeUnit.SECONDS);
            }
            assertThat(workerFailures).as("queries nobody cancelled must all succeed").isEmpty();
            assertThat(workerSuccesses.get()).isEqualTo(workers * queriesPerWorker);
            assertThat(sleeperOutcome).hasSize(sleepers);
            assertThat(sleeperOutcome.values()).as("every cancelled query, and only those, ends with 57014")
                    .containsOnly(QUERY_CANCELED);
        } finally {
            executor.shutdownNow();
            for (Connection c : connections) {
                c.close();
            }
        }
        // nothing stays running on PostgreSQL
        try (Connection su = TestPostgres.superuserConnection()) {
            Await.until(Duration.ofSeconds(20), () -> activeSleepers(su).isEmpty());
        }
    }

    private static Set<Integer> activeSleepers(Connection su) {
        Set<Integer> out = new HashSet<>();
        for (String q : activeMarkers(su, "sleeper-")) {
            int i = q.indexOf("sleeper-") + "sleeper-".length();
            int end = q.indexOf(' ', i);
            out.add(Integer.parseInt(q.substring(i, end)));
        }
        return out;
    }

    /** Texts of queries running on PostgreSQL that contain {@code marker}. */
    private static List<String> activeMarkers(Connection su, String marker) {
        List<String> out = new ArrayList<>();
        try (var ps = su.prepareStatement("SELECT query FROM pg_stat_activity WHERE state = 'active'"
                + " AND pid <> pg_backend_pid() AND strpos(query, ?) > 0")) {
            ps.setString(1, marker);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
        return out;
    }

    static Connection connect(ProxyServer proxy) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.APP_USER);
        p.setProperty("password", TestPostgres.APP_PASSWORD);
        p.setProperty("sslmode", "disable");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + proxy.port() + "/app", p);
    }
}

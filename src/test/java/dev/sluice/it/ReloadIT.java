package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.admission.OperatingMode;
import dev.sluice.cli.Instance;
import dev.sluice.config.ReloadReport;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Await;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.TestPostgres;
import dev.sluice.pool.Pool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hot reload through the same start-up path as {@code sluice run} ({@link Instance}): a YAML file
 * changed on disk (file watcher) or reloaded on request ({@link ProxyServer#reload()}), under real
 * pgjdbc load against a real PostgreSQL.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReloadIT {
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private static final int CLIENTS = 8;
    private static final int MAX_ROUNDS = 20_000;
    private static ExecutorService threads;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        threads = Executors.newCachedThreadPool();
    }

    @AfterAll
    static void tearDown() {
        threads.shutdownNow();
    }

    /** A configuration file for the shared PostgreSQL with pool size {@code size}, plus {@code extra} YAML. */
    private static String yaml(int size, String users, String databases, String extra) {
        return """
                listen: 127.0.0.1:0
                admin_listen: 127.0.0.1:0
                io_threads: 2
                users:
                %s
                databases:
                %s
                pool:
                  size: %d
                  acquire_timeout: 60s
                %s
                """.formatted(users, databases, size, extra);
    }

    private static final String BOTH_USERS = """
              - name: app
                password: app-secret
              - name: md5user
                password: md5-secret
            """;
    private static final String APP_ONLY = """
              - name: app
                password: app-secret
            """;

    private static String database(String name) {
        return """
                  - name: %s
                    host: %s
                    port: %d
                    dbname: app
                """.formatted(name, TestPostgres.host(), TestPostgres.port());
    }

    private Path write(String text) throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Path tmp = dir.resolve(".sluice.yaml.tmp");
        Files.writeString(tmp, text);
        // as editors do: replace the file in one step, so no half-written file is ever read
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    private static Instance start(Path file) throws Exception {
        TestPostgres.shared();
        return Instance.start(Optional.of(file), Map.of(), Map.of());
    }

    private static Connection connect(ProxyServer proxy, String user, String password, String database)
            throws SQLException {
        Properties p = new Properties();
        // no setup query at connect: logging in must not need a server connection of the busy pool
        p.setProperty("assumeMinServerVersion", "10");
        return ProxyClients.connect(proxy, user, password, database, p);
    }

    private static Pool pool(ProxyServer proxy, String name) {
        return proxy.poolList().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }

    /** Waits for a reload reported by the file watcher that satisfies {@code what}. */
    private static ReloadReport awaitReload(Instance instance, String description, Predicate<ReloadReport> what) {
        Await.until(AWAIT, () -> instance.lastReload().filter(what).isPresent(),
                () -> description + " (last reload: " + instance.lastReload() + ")");
        return instance.lastReload().orElseThrow();
    }

    /**
     * Clients that keep running statements until stopped: half autocommit, half two-statement
     * transactions (which a shrinking pool must not cut).
     */
    private static final class Load {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicInteger statements = new AtomicInteger();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        final List<Future<?>> clients = new ArrayList<>();

        Load(ProxyServer proxy) {
            for (int i = 0; i < CLIENTS; i++) {
                boolean transactions = i % 2 == 0;
                clients.add(threads.submit(() -> {
                    try (Connection c = connect(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "app");
                         Statement s = c.createStatement()) {
                        for (int round = 0; round < MAX_ROUNDS && !stop.get(); round++) {
                            if (transactions) {
                                c.setAutoCommit(false);
                                s.execute("SELECT 1");
                                s.execute("SELECT pg_sleep(0.005)");
                                c.commit();
                                c.setAutoCommit(true);
                            } else {
                                s.execute("SELECT pg_sleep(0.005)");
                            }
                            statements.incrementAndGet();
                        }
                    } catch (SQLException e) {
                        errors.add(e.getSQLState() + ": " + e.getMessage());
                    }
                    return null;
                }));
            }
        }

        /** Lets {@code n} more statements complete, proof that clients are still served. */
        void progress(int n) {
            int target = statements.get() + n;
            Await.until(AWAIT, () -> statements.get() >= target || !errors.isEmpty(),
                    () -> n + " more statements (errors: " + errors + ")");
            assertThat(errors).isEmpty();
        }

        /** Stops the clients and waits for them to disconnect. */
        void stop() throws Exception {
            stop.set(true);
            for (Future<?> f : clients) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void poolSize_changedUnderLoad_byFileAndByRequest_growsAndShrinksWithoutClientErrors() throws Exception {
        Path file = write(yaml(2, BOTH_USERS, database("app"), ""));
        try (Instance instance = start(file)) {
            ProxyServer proxy = instance.proxy();
            Load load = new Load(proxy);
            try {
                Await.until(AWAIT, "clients wait for the pool of 2", () -> !proxy.poolList().isEmpty()
                        && pool(proxy, "app/app").snapshot().waiting() > 0);
                Pool pool = pool(proxy, "app/app");
                Await.until(AWAIT, () -> pool.snapshot().total() == 2 && pool.snapshot().waiting() > 0,
                        () -> "2 connections and clients waiting: " + pool.snapshot());

                // 1. the file grows the pool: waiting clients get the new connections
                write(yaml(6, BOTH_USERS, database("app"), ""));
                ReloadReport grown = awaitReload(instance, "the watcher reloads pool.size 6",
                        r -> r.applied().contains("pool.size"));
                assertThat(grown.ok()).isTrue();
                assertThat(grown.needRestart()).isEmpty();
                assertThat(proxy.config().pool().size()).isEqualTo(6);
                assertThat(pool.size()).isEqualTo(6);
                Await.until(AWAIT, () -> pool.snapshot().total() == 6, () -> "pool grows to 6: " + pool.snapshot());
                load.progress(100);

                // 2. the file shrinks it again, and turns the watcher off
                write(yaml(2, BOTH_USERS, database("app"), "reload:\n  watch: off\n"));
                ReloadReport shrunk = awaitReload(instance, "the watcher reloads pool.size 2",
                        r -> r.applied().contains("reload.watch"));
                assertThat(shrunk.applied()).containsExactly("pool.size", "reload.watch");
                Await.until(AWAIT, () -> pool.snapshot().total() <= 2, () -> "pool shrinks to 2: " + pool.snapshot());
                load.progress(100);
                assertThat(pool.snapshot().total()).isLessThanOrEqualTo(2);

                // 3. watching is off: a change waits for a reload request
                write(yaml(6, BOTH_USERS, database("app"), "reload:\n  watch: off\n"));
                assertThat(proxy.config().pool().size()).isEqualTo(2);
                ReloadReport requested = proxy.reload();
                assertThat(requested).isEqualTo(new ReloadReport(true, List.of("pool.size"), List.of(), null));
                Await.until(AWAIT, () -> pool.snapshot().total() == 6, () -> "pool grows to 6: " + pool.snapshot());
                load.progress(100);

                write(yaml(2, BOTH_USERS, database("app"), "reload:\n  watch: off\n"));
                assertThat(proxy.reload().applied()).containsExactly("pool.size");
                Await.until(AWAIT, () -> pool.snapshot().total() <= 2, () -> "pool shrinks to 2: " + pool.snapshot());
                load.progress(100);
            } finally {
                load.stop();
            }
            assertThat(load.errors).isEmpty();
            assertThat(load.statements.get()).isGreaterThan(400);
            Await.until(AWAIT, "every load client gone", () -> proxy.clientCount() == 0);
        }
    }

    @Test
    void invalidFile_isRefusedWithTheLoaderMessage_andTheRunningConfigurationStays() throws Exception {
        Path file = write(yaml(3, BOTH_USERS, database("app"), ""));
        try (Instance instance = start(file)) {
            ProxyServer proxy = instance.proxy();
            var before = proxy.config();
            // through the watcher
            write(yaml(3, BOTH_USERS, database("app"), "").replace("size: 3", "size: 0"));
            ReloadReport watched = awaitReload(instance, "the watcher refuses the file", r -> !r.ok());
            assertThat(watched).isEqualTo(new ReloadReport(false, List.of(), List.of(),
                    "pool.size: 0 is not allowed (expected an integer from 1 to 10000)"));
            // on request
            ReloadReport requested = proxy.reload();
            assertThat(requested.ok()).isFalse();
            assertThat(requested.error()).isEqualTo("pool.size: 0 is not allowed (expected an integer from 1 to 10000)");
            write("pool: [unclosed\n");
            assertThat(proxy.reload().error()).startsWith(file + ": invalid YAML at line");
            assertThat(proxy.config()).isSameAs(before);
            try (Connection c = connect(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "app");
                 ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void removedUser_cannotLogInAnyMore_butItsSessionContinues() throws Exception {
        Path file = write(yaml(4, BOTH_USERS, database("app"), "reload:\n  watch: off\n"));
        try (Instance instance = start(file)) {
            ProxyServer proxy = instance.proxy();
            try (Connection kept = connect(proxy, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD, "app");
                 Statement s = kept.createStatement()) {
                s.execute("SELECT 1");
                write(yaml(4, APP_ONLY, database("app"), "reload:\n  watch: off\n"));
                assertThat(proxy.reload()).isEqualTo(new ReloadReport(true, List.of("users[md5user]"), List.of(), null));

                assertThatThrownBy(() -> connect(proxy, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD, "app").close())
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
                // the session goes on, also on a server connection opened after the reload
                proxy.drainIdle("app");
                for (int i = 0; i < 3; i++) {
                    kept.setAutoCommit(false);
                    try (ResultSet rs = s.executeQuery("SELECT current_user")) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).isEqualTo(TestPostgres.MD5_USER);
                    }
                    kept.commit();
                    kept.setAutoCommit(true);
                }
                assertThat(pool(proxy, "app/md5user").snapshot().total()).isPositive();
            }
            // the others are not affected
            try (Connection c = connect(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "app")) {
                c.createStatement().execute("SELECT 1");
            }
        }
    }

    @Test
    void databases_addedServeNewLogins_removedRefuseThemWith3D000_butKeepTheirSessions() throws Exception {
        Path file = write(yaml(4, BOTH_USERS, database("app"), "reload:\n  watch: off\n"));
        try (Instance instance = start(file)) {
            ProxyServer proxy = instance.proxy();
            assertThatThrownBy(() -> connect(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "app2").close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("3D000"));

            write(yaml(4, BOTH_USERS, database("app") + database("app2"), "reload:\n  watch: off\n"));
            assertThat(proxy.reload().applied()).containsExactly("databases[app2]");
            try (Connection kept = connect(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "app2");
                 Statement s = kept.createStatement()) {
                s.execute("SELECT 1");

                write(yaml(4, BOTH_USERS, database("app"), "reload:\n  watch: off\n"));
                assertThat(proxy.reload().applied()).containsExactly("databases[app2]");
                assertThatThrownBy(() -> connect(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "app2").close())
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("3D000"));
                proxy.drainIdle("app2");
                try (ResultSet rs = s.executeQuery("SELECT current_database()")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("app");
                }
            }
        }
    }

    @Test
    void changedDatabase_connectionSettingsKeepServerConnections_loginSettingsReplaceThem() throws Exception {
        Path file = write(yaml(1, BOTH_USERS, database("app"), "reload:\n  watch: off\n"));
        try (Instance instance = start(file);
             Connection c = connect(instance.proxy(), TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "app");
             Statement s = c.createStatement()) {
            ProxyServer proxy = instance.proxy();
            int pid = backendPid(s);

            String poolSettings = "acquire_timeout: 60s\n  connect_timeout: 3s\n  prepared_statement_cache_size: 10";
            write(yaml(1, BOTH_USERS, database("app"), "reload:\n  watch: off\n")
                    .replace("acquire_timeout: 60s", poolSettings));
            assertThat(proxy.reload().applied()).containsExactly("pool.connect_timeout", "pool.prepared_statement_cache_size");
            assertThat(backendPid(s)).as("same server connection").isEqualTo(pid);

            write(yaml(1, BOTH_USERS, database("app").replace("dbname: app", "dbname: postgres"), "reload:\n  watch: off\n")
                    .replace("acquire_timeout: 60s", poolSettings));
            assertThat(proxy.reload().applied()).containsExactly("databases[app].dbname");
            try (ResultSet rs = s.executeQuery("SELECT current_database()")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("postgres");
            }
            assertThat(backendPid(s)).as("a new server connection").isNotEqualTo(pid);
            assertThat(pool(proxy, "app/app").snapshot().total()).isEqualTo(1);
        }
    }

    private static int backendPid(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            assertThat(rs.next()).isTrue();
            return rs.getInt(1);
        }
    }

    @Test
    void restartKeys_areReportedAndKeepTheirValues_liveAdmissionModeTakesEffect() throws Exception {
        Path file = write(yaml(4, BOTH_USERS, database("app"), "reload:\n  watch: off\n"));
        try (Instance instance = start(file)) {
            ProxyServer proxy = instance.proxy();
            try (Connection c = connect(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "app")) {
                c.createStatement().execute("SELECT 1");
            }
            int port = proxy.port();
            write(yaml(4, BOTH_USERS, database("app"), "reload:\n  watch: off\nadmission:\n  mode: degraded\n")
                    .replace("io_threads: 2", "io_threads: 3")
                    .replaceFirst("(?m)^listen: 127\\.0\\.0\\.1:0$", "listen: 127.0.0.1:1"));
            ReloadReport r = proxy.reload();
            assertThat(r).isEqualTo(new ReloadReport(true, List.of("admission.mode"), List.of("listen", "io_threads"), null));
            assertThat(proxy.config().listen().port()).isZero();
            assertThat(proxy.config().ioThreads()).isEqualTo(2);
            assertThat(proxy.upstreams()).singleElement()
                    .satisfies(u -> assertThat(u.mode().mode()).isEqualTo(OperatingMode.Mode.DEGRADED));
            assertThat(proxy.port()).isEqualTo(port);
            // reloading the same file again reports the restart keys again, and nothing applied
            assertThat(proxy.reload()).isEqualTo(new ReloadReport(true, List.of(), List.of("listen", "io_threads"), null));
        }
    }
}

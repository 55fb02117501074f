package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.admin.Console;
import dev.sluice.config.ReloadReport;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.ConsoleConfig;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Await;
import dev.sluice.it.support.Command;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import dev.sluice.pool.Pool;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The PgBouncer-compatible admin console driven by real clients: psql, and pgjdbc in simple
 * query mode (the console, like PgBouncer's, speaks only the simple protocol). Values are checked
 * against traffic the tests send through the same Sluice: a held transaction, a waiter, PAUSE and
 * RESUME, KILL and KILL_CLIENT, counted queries.
 *
 * <p>One Sluice for the class with a pool size of 1, so one open transaction makes the next
 * client of the same pool wait. {@code app} is an admin user, {@code md5user} a stats user,
 * {@code trustuser} neither. A second database entry {@code app2} (same PostgreSQL database) is
 * the one KILL hits, so the other tests' clients are not in its way.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConsoleIT {
    private static final Duration AWAIT = Duration.ofSeconds(20);
    private static final String APP2 = "app2";

    static final List<String> POOLS = List.of("database", "user", "cl_active", "cl_waiting", "cl_active_cancel_req",
            "cl_waiting_cancel_req", "sv_active", "sv_active_cancel", "sv_being_canceled", "sv_idle", "sv_used",
            "sv_tested", "sv_login", "maxwait", "maxwait_us", "pool_mode");
    static final List<String> CONNECTIONS = List.of("type", "user", "database", "replication", "state", "addr",
            "port", "local_addr", "local_port", "connect_time", "request_time", "wait", "wait_us", "close_needed",
            "ptr", "link", "remote_pid", "tls", "application_name", "prepared_statements", "id");
    static final List<String> STATS = List.of("database", "total_server_assignment_count", "total_xact_count",
            "total_query_count", "total_received", "total_sent", "total_xact_time", "total_query_time",
            "total_wait_time", "total_client_parse_count", "total_server_parse_count", "total_bind_count",
            "avg_server_assignment_count", "avg_xact_count", "avg_query_count", "avg_recv", "avg_sent",
            "avg_xact_time", "avg_query_time", "avg_wait_time", "avg_client_parse_count", "avg_server_parse_count",
            "avg_bind_count");
    static final List<String> STATS_PART = List.of("database", "server_assignment_count", "xact_count",
            "query_count", "bytes_received", "bytes_sent", "xact_time", "query_time", "wait_time",
            "client_parse_count", "server_parse_count", "bind_count");
    static final List<String> DATABASES = List.of("name", "host", "port", "database", "force_user", "pool_size",
            "min_pool_size", "reserve_pool_size", "server_lifetime", "pool_mode", "max_connections",
            "current_connections", "max_client_connections", "current_client_connections", "paused", "disabled");
    static final List<String> USERS = List.of("name", "pool_size", "reserve_pool_size", "pool_mode",
            "max_user_connections", "current_connections", "max_user_client_connections",
            "current_client_connections");
    static final List<String> QUERIES = List.of("queryid", "query", "calls", "errors", "rows", "total_time_us",
            "mean_time_us", "min_time_us", "max_time_us", "p50_us", "p95_us", "p99_us", "wait_time_us",
            "errors_by_sqlstate", "sources");
    static final Map<String, List<String>> SHOW_COLUMNS = new LinkedHashMap<>();

    static {
        SHOW_COLUMNS.put("POOLS", POOLS);
        SHOW_COLUMNS.put("CLIENTS", CONNECTIONS);
        SHOW_COLUMNS.put("SERVERS", CONNECTIONS);
        SHOW_COLUMNS.put("STATS", STATS);
        SHOW_COLUMNS.put("STATS_TOTALS", STATS_PART);
        SHOW_COLUMNS.put("STATS_AVERAGES", STATS_PART);
        SHOW_COLUMNS.put("TOTALS", List.of("name", "value"));
        SHOW_COLUMNS.put("DATABASES", DATABASES);
        SHOW_COLUMNS.put("USERS", USERS);
        SHOW_COLUMNS.put("CONFIG", List.of("key", "value", "default", "changeable"));
        SHOW_COLUMNS.put("LISTS", List.of("list", "items"));
        SHOW_COLUMNS.put("VERSION", List.of("version"));
        SHOW_COLUMNS.put("STATE", List.of("key", "value"));
        SHOW_COLUMNS.put("QUERIES", QUERIES);
    }

    private static ProxyServer proxy;
    private static Console console;
    private static ExecutorService threads;
    private static final AtomicReference<ReloadReport> nextReload = new AtomicReference<>();
    private static final AtomicReference<Thread> reloadThread = new AtomicReference<>();
    private final List<Connection> opened = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        SluiceConfig config = TestConfig.builder().poolSize(1).shutdownTimeout(Duration.ofSeconds(20))
                .database(TestConfig.database(APP2, TestPostgres.shared(), TestPostgres.DATABASE)).build()
                .withConsole(new ConsoleConfig(List.of(TestPostgres.APP_USER), List.of(TestPostgres.MD5_USER)));
        proxy = ProxyServer.start(config);
        console = Console.install(proxy, "test-version");
        proxy.reloader(() -> {
            reloadThread.set(Thread.currentThread());
            return nextReload.get();
        });
        threads = Executors.newCachedThreadPool();
    }

    @AfterAll
    static void stop() {
        if (threads != null) {
            threads.shutdownNow();
        }
        if (console != null) {
            console.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @AfterEach
    void closeConnections() {
        for (Connection c : opened) {
            try {
                c.close();
            } catch (SQLException e) {
                // killed connections may refuse a clean close
            }
        }
        proxy.resume(null);
    }

    // ------------------------------------------------------------------ helpers

    /** A console connection through pgjdbc in simple query mode. */
    private Connection console(String user, String password) throws SQLException {
        return track(ProxyClients.connect(proxy, user, password, "sluice", ProxyClients.props("preferQueryMode", "simple")));
    }

    private Connection admin() throws SQLException {
        return console(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD);
    }

    /** An ordinary client of {@code database} as {@code app}, named by its application_name. */
    private Connection client(String database, String applicationName) throws SQLException {
        return track(ProxyClients.connect(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, database,
                ProxyClients.props("preferQueryMode", "simple", "ApplicationName", applicationName)));
    }

    private Connection track(Connection c) {
        opened.add(c);
        return c;
    }

    /** One SHOW result: column names and type names, and the rows by column name. */
    record Table(List<String> columns, List<String> types, List<Map<String, String>> rows) {
        Map<String, String> row(String column, String value) {
            return rows.stream().filter(r -> value.equals(r.get(column))).findFirst()
                    .orElseThrow(() -> new AssertionError("no row with " + column + " = " + value + " in " + rows));
        }

        List<Map<String, String>> rowsWith(String column, String value) {
            return rows.stream().filter(r -> value.equals(r.get(column))).toList();
        }

        String type(String column) {
            return types.get(columns.indexOf(column));
        }
    }

    private static Table show(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            List<String> columns = new ArrayList<>();
            List<String> types = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                columns.add(md.getColumnLabel(i));
                types.add(md.getColumnTypeName(i));
            }
            List<Map<String, String>> rows = new ArrayList<>();
            while (rs.next()) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 1; i <= columns.size(); i++) {
                    row.put(columns.get(i - 1), rs.getString(i));
                }
                rows.add(row);
            }
            return new Table(columns, types, rows);
        }
    }

    private static void run(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static int selectOne(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String sqlState(Throwable t) {
        return t instanceof SQLException e ? e.getSQLState() : null;
    }

    private Pool pool(String database) {
        return proxy.poolList().stream()
                .filter(p -> p.database().equals(database) && p.user().equals(TestPostgres.APP_USER))
                .findFirst().orElseThrow();
    }

    private static int intOf(Map<String, String> row, String column) {
        return Integer.parseInt(row.get(column));
    }

    private static long longOf(Map<String, String> row, String column) {
        return Long.parseLong(row.get(column));
    }

    private Command.Result psql(String user, String password, String sql) {
        return Command.run(List.of("psql", "-X", "--csv", "-h", "127.0.0.1", "-p", String.valueOf(proxy.port()),
                "-U", user, "-d", "sluice", "-c", sql), Map.of("PGPASSWORD", password), null, Duration.ofSeconds(30));
    }

    // ------------------------------------------------------------------ psql

    @Test
    void psql_everyShowCommand_answersWithPgBouncerColumns() throws Exception {
        // traffic first, so pools, servers and statistics have rows
        selectOne(client(TestPostgres.DATABASE, "psql-test"));
        for (Map.Entry<String, List<String>> e : SHOW_COLUMNS.entrySet()) {
            Command.Result r = psql(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "SHOW " + e.getKey() + ";");
            assertThat(r.exitCode()).as("SHOW %s: %s", e.getKey(), r).isZero();
            List<String> lines = r.stdout().lines().toList();
            assertThat(Arrays.asList(lines.getFirst().split(","))).as("SHOW %s", e.getKey()).isEqualTo(e.getValue());
        }
        Command.Result pools = psql(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "show pools");
        assertThat(pools.stdout()).contains("\napp,app,");
        Command.Result help = psql(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "SHOW HELP");
        assertThat(help.exitCode()).isZero();
        assertThat(help.stderr()).contains("Console usage").contains("SHOW HELP|CONFIG").contains("KILL_CLIENT");
    }

    @Test
    void psql_actionsAndErrors() throws Exception {
        selectOne(client(APP2, "psql-actions")); // PAUSE acts on pools that exist
        Command.Result pause = psql(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "PAUSE " + APP2 + ";");
        assertThat(pause.exitCode()).as(pause.toString()).isZero();
        assertThat(pause.stdout().strip()).isEqualTo("PAUSE");
        Command.Result resume = psql(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "resume " + APP2);
        assertThat(resume.stdout().strip()).isEqualTo("RESUME");
        nextReload.set(new ReloadReport(true, List.of(), List.of(), null));
        Command.Result reload = psql(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "RELOAD");
        assertThat(reload.stdout().strip()).isEqualTo("RELOAD");
        assertThat(reload.stderr()).contains("configuration reloaded");
        Command.Result unknown = psql(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "FROBNICATE");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.stderr()).contains("unknown console command 'FROBNICATE'");
        Command.Result stats = psql(TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD, "SHOW STATS");
        assertThat(stats.exitCode()).as(stats.toString()).isZero();
        Command.Result denied = psql(TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD, "PAUSE");
        assertThat(denied.exitCode()).isEqualTo(1);
        assertThat(denied.stderr()).contains("permission denied").contains("admin_users");
        Command.Result refused = psql(TestPostgres.TRUST_USER, TestPostgres.TRUST_PASSWORD, "SHOW POOLS");
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.stderr()).contains("permission denied").contains("not an admin user");
    }

    // ------------------------------------------------------------------ pgjdbc: what traffic looks like

    @Test
    void showPoolsClientsServers_heldTransactionIsActive_andAWaiterWaits() throws Exception {
        Connection holder = client(TestPostgres.DATABASE, "holder");
        Connection waiter = client(TestPostgres.DATABASE, "waiter");
        Connection admin = admin();
        holder.setAutoCommit(false);
        int backendPid;
        try (Statement s = holder.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            backendPid = rs.getInt(1);
        }

        Table pools = show(admin, "SHOW POOLS");
        assertThat(pools.columns()).isEqualTo(POOLS);
        assertThat(pools.type("database")).isEqualTo("text");
        assertThat(pools.type("cl_active")).isEqualTo("int4");
        // the holder (linked) and the waiter (idle so far); clients of earlier tests may still be closing
        Await.until(AWAIT, "two active clients", () -> intOf(
                showQuietly(admin, "SHOW POOLS").row("database", TestPostgres.DATABASE), "cl_active") == 2);
        Map<String, String> app = show(admin, "SHOW POOLS").row("database", TestPostgres.DATABASE);
        assertThat(app.get("user")).isEqualTo(TestPostgres.APP_USER);
        assertThat(intOf(app, "cl_waiting")).isZero();
        assertThat(intOf(app, "sv_active")).isEqualTo(1);
        assertThat(intOf(app, "sv_idle")).isZero();
        assertThat(app.get("pool_mode")).isEqualTo("transaction");

        Table clients = show(admin, "SHOW CLIENTS");
        Map<String, String> h = clients.row("application_name", "holder");
        assertThat(h.get("type")).isEqualTo("C");
        assertThat(h.get("state")).isEqualTo("active");
        assertThat(h.get("database")).isEqualTo(TestPostgres.DATABASE);
        assertThat(h.get("addr")).isEqualTo("127.0.0.1");
        assertThat(intOf(h, "local_port")).isEqualTo(proxy.port());
        assertThat(h.get("link")).isNotEmpty();
        assertThat(h.get("connect_time")).isNotNull();
        assertThat(clients.type("connect_time")).isEqualTo("timestamptz");
        assertThat(clients.row("application_name", "waiter").get("state")).isEqualTo("idle");

        Table servers = show(admin, "SHOW SERVERS");
        Map<String, String> server = servers.row("state", "active");
        assertThat(server.get("type")).isEqualTo("S");
        assertThat(server.get("database")).isEqualTo(TestPostgres.DATABASE);
        assertThat(intOf(server, "remote_pid")).isEqualTo(backendPid);
        assertThat(server.get("link")).isEqualTo(h.get("id"));
        assertThat(server.get("id")).isEqualTo(h.get("link"));
        assertThat(server.get("application_name")).isEqualTo("holder");
        assertThat(intOf(server, "port")).isEqualTo(TestPostgres.port());

        Future<Integer> waiting = threads.submit(() -> selectOne(waiter));
        Await.until(AWAIT, "the waiter shows in cl_waiting", () -> {
            Map<String, String> row = showQuietly(admin, "SHOW POOLS").row("database", TestPostgres.DATABASE);
            return intOf(row, "cl_waiting") == 1;
        });
        Map<String, String> w = show(admin, "SHOW CLIENTS").row("application_name", "waiter");
        assertThat(w.get("state")).isEqualTo("waiting");
        assertThat(waiting).isNotDone();
        Await.until(AWAIT, "maxwait grows", () -> {
            Map<String, String> row = showQuietly(admin, "SHOW POOLS").row("database", TestPostgres.DATABASE);
            return intOf(row, "maxwait") > 0 || intOf(row, "maxwait_us") > 0;
        });

        holder.commit();
        assertThat(waiting.get(AWAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(1);
        Await.until(AWAIT, "the pool is idle again", () -> {
            Map<String, String> row = showQuietly(admin, "SHOW POOLS").row("database", TestPostgres.DATABASE);
            return intOf(row, "cl_waiting") == 0 && intOf(row, "sv_active") == 0 && intOf(row, "sv_idle") == 1;
        });
    }

    private static Table showQuietly(Connection c, String sql) {
        try {
            return show(c, sql);
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void showStats_countsTheQueriesSent() throws Exception {
        Connection c = client(TestPostgres.DATABASE, "stats");
        Connection admin = admin();
        selectOne(c); // a first query, so the pool exists
        Table before = show(admin, "SHOW STATS");
        assertThat(before.columns()).isEqualTo(STATS);
        assertThat(before.type("total_query_count")).isEqualTo("int8");
        Map<String, String> b = before.row("database", "*");
        for (int i = 0; i < 5; i++) {
            selectOne(c);
        }
        Await.until(AWAIT, "five more queries counted",
                () -> longOf(showQuietly(admin, "SHOW STATS").row("database", "*"), "total_query_count")
                        >= longOf(b, "total_query_count") + 5);
        Map<String, String> a = show(admin, "SHOW STATS").row("database", "*");
        assertThat(longOf(a, "total_query_count") - longOf(b, "total_query_count")).isEqualTo(5);
        assertThat(longOf(a, "total_xact_count") - longOf(b, "total_xact_count")).isEqualTo(5);
        assertThat(longOf(a, "total_server_assignment_count") - longOf(b, "total_server_assignment_count")).isEqualTo(5);
        assertThat(longOf(a, "total_received")).isGreaterThan(longOf(b, "total_received"));
        assertThat(longOf(a, "total_sent")).isGreaterThan(longOf(b, "total_sent"));
        assertThat(longOf(a, "total_query_time")).isGreaterThan(longOf(b, "total_query_time"));
        assertThat(longOf(a, "total_wait_time")).isGreaterThanOrEqualTo(longOf(b, "total_wait_time"));
        assertThat(longOf(a, "total_xact_time")).isZero(); // not measured, documented

        Table totals = show(admin, "SHOW STATS_TOTALS");
        assertThat(totals.columns()).isEqualTo(STATS_PART);
        assertThat(longOf(totals.row("database", "*"), "query_count")).isGreaterThanOrEqualTo(longOf(a, "total_query_count"));
        Table averages = show(admin, "SHOW STATS_AVERAGES");
        assertThat(averages.columns()).isEqualTo(STATS_PART);
        assertThat(longOf(averages.row("database", "*"), "query_count")).isNotNegative();
        Table sums = show(admin, "SHOW TOTALS");
        assertThat(sums.rows()).extracting(r -> r.get("name")).isEqualTo(STATS.subList(1, STATS.size()));
        assertThat(longOf(sums.row("name", "total_query_count"), "value"))
                .isGreaterThanOrEqualTo(longOf(a, "total_query_count"));
    }

    @Test
    void showDatabasesUsersConfigListsVersionStateHelp() throws Exception {
        Connection c = client(APP2, "databases");
        selectOne(c);
        Connection admin = admin();

        Table databases = show(admin, "SHOW DATABASES");
        assertThat(databases.columns()).isEqualTo(DATABASES);
        Map<String, String> app2 = databases.row("name", APP2);
        assertThat(app2.get("database")).isEqualTo(TestPostgres.DATABASE);
        assertThat(app2.get("host")).isEqualTo(TestPostgres.host());
        assertThat(intOf(app2, "port")).isEqualTo(TestPostgres.port());
        assertThat(intOf(app2, "pool_size")).isEqualTo(1);
        assertThat(intOf(app2, "current_connections")).isEqualTo(1);
        Await.until(AWAIT, "one client of app2", () -> intOf(
                showQuietly(admin, "SHOW DATABASES").row("name", APP2), "current_client_connections") == 1);
        assertThat(intOf(app2, "paused")).isZero();
        assertThat(app2.get("pool_mode")).isNull(); // not overridden for this database
        assertThat(databases.row("name", TestPostgres.DATABASE)).isNotNull();

        Table users = show(admin, "SHOW USERS");
        assertThat(users.columns()).isEqualTo(USERS);
        assertThat(users.rows()).extracting(r -> r.get("name"))
                .contains(TestPostgres.APP_USER, TestPostgres.MD5_USER, TestPostgres.TRUST_USER);
        assertThat(intOf(users.row("name", TestPostgres.APP_USER), "current_client_connections")).isGreaterThanOrEqualTo(2);

        Table config = show(admin, "SHOW CONFIG");
        assertThat(config.row("key", "admin_users").get("value")).isEqualTo(TestPostgres.APP_USER);
        assertThat(config.row("key", "stats_users").get("value")).isEqualTo(TestPostgres.MD5_USER);
        assertThat(config.row("key", "pool.size").get("value")).isEqualTo("1");
        assertThat(config.row("key", "pool.size").get("default")).isEqualTo("20");
        assertThat(config.row("key", "shutdown_timeout").get("value")).isEqualTo("20s");
        assertThat(config.rows()).allSatisfy(r -> assertThat(r.get("changeable")).isIn("yes", "no"));

        Table lists = show(admin, "SHOW LISTS");
        assertThat(intOf(lists.row("list", "databases"), "items")).isEqualTo(2);
        assertThat(intOf(lists.row("list", "pools"), "items")).isEqualTo(proxy.poolList().size());
        assertThat(intOf(lists.row("list", "used_clients"), "items")).isGreaterThanOrEqualTo(2);

        assertThat(show(admin, "SHOW VERSION").rows().getFirst().get("version"))
                .startsWith("Sluice test-version").contains("PgBouncer 1.23.0");
        Table state = show(admin, "show state;");
        assertThat(state.row("key", "paused").get("value")).isEqualTo("no");
        assertThat(show(admin, "SHOW client_encoding").rows().getFirst().get("client_encoding")).isEqualTo("UTF8");

        try (Statement s = admin.createStatement()) {
            s.execute("SHOW HELP");
            SQLWarning w = s.getWarnings();
            assertThat((Object) w).isNotNull();
            assertThat(w.getMessage()).contains("Console usage");
        }
    }

    @Test
    void showQueries_listsTheTopFingerprintsOfQueryStats() throws Exception {
        // QueryStats is fed by the data path once the lead wires it; record one entry through its
        // public API so the rendering is checked whatever the data path does
        long id = 0x5eed_c0ffeeL;
        proxy.queryStats().record(id, () -> "SELECT * FROM console_it WHERE id = $1", TestPostgres.DATABASE,
                TestPostgres.APP_USER, "console-it", 3_000_000, 1_000_000, 7, null);
        proxy.queryStats().record(id, () -> "unused", TestPostgres.DATABASE, TestPostgres.APP_USER, "console-it",
                5_000_000, 0, 3, "40001");
        Connection admin = admin();
        Table queries = show(admin, "SHOW QUERIES calls 1000");
        assertThat(queries.columns()).isEqualTo(QUERIES);
        Map<String, String> row = queries.row("queryid", String.valueOf(id));
        assertThat(row.get("query")).isEqualTo("SELECT * FROM console_it WHERE id = $1");
        assertThat(longOf(row, "calls")).isEqualTo(2);
        assertThat(longOf(row, "errors")).isEqualTo(1);
        assertThat(longOf(row, "rows")).isEqualTo(10);
        assertThat(longOf(row, "total_time_us")).isEqualTo(8000);
        assertThat(longOf(row, "mean_time_us")).isEqualTo(4000);
        assertThat(longOf(row, "min_time_us")).isEqualTo(3000);
        assertThat(longOf(row, "max_time_us")).isEqualTo(5000);
        assertThat(longOf(row, "wait_time_us")).isEqualTo(1000);
        assertThat(row.get("errors_by_sqlstate")).isEqualTo("40001:1");
        assertThat(row.get("sources")).isEqualTo("app/app/console-it:2");
        assertThat(show(admin, "SHOW QUERIES total_time 1").rows()).hasSize(1);
        assertThatThrownBy(() -> show(admin, "SHOW QUERIES fastest"))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("22023"));
    }

    // ------------------------------------------------------------------ pgjdbc: actions

    @Test
    void pause_waitsForTheTransactionInFlight_thenNewQueriesWaitUntilResume() throws Exception {
        Connection holder = client(TestPostgres.DATABASE, "pause-holder");
        Connection later = client(TestPostgres.DATABASE, "pause-later");
        Connection admin = admin();
        Connection observer = admin();
        holder.setAutoCommit(false);
        selectOne(holder);

        Future<Boolean> pause = threads.submit(() -> {
            try (Statement s = admin.createStatement()) {
                return s.execute("PAUSE " + TestPostgres.DATABASE);
            }
        });
        Await.until(AWAIT, "the pool is paused", () -> pool(TestPostgres.DATABASE).isPaused());
        assertThat(intOf(show(observer, "SHOW DATABASES").row("name", TestPostgres.DATABASE), "paused")).isEqualTo(1);
        assertThat(pause).as("PAUSE answers only once no server connection is in use").isNotDone();

        holder.commit();
        assertThat(pause.get(AWAIT.toSeconds(), TimeUnit.SECONDS)).isFalse(); // a command tag, no result set

        Future<Integer> query = threads.submit(() -> selectOne(later));
        Await.until(AWAIT, "the new query waits", () -> intOf(
                showQuietly(observer, "SHOW POOLS").row("database", TestPostgres.DATABASE), "cl_waiting") == 1);
        assertThat(query).isNotDone();
        assertThat(show(observer, "SHOW CLIENTS").row("application_name", "pause-later").get("state")).isEqualTo("waiting");

        run(admin, "RESUME " + TestPostgres.DATABASE);
        assertThat(query.get(AWAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(pool(TestPostgres.DATABASE).isPaused()).isFalse();
        assertThatThrownBy(() -> run(admin, "RESUME " + TestPostgres.DATABASE))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("55000"))
                .hasMessageContaining("not paused");
        assertThatThrownBy(() -> run(admin, "PAUSE nosuchdb"))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("3D000"));
        assertThatThrownBy(() -> run(admin, "PAUSE sluice"))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("55000"));
    }

    @Test
    void pause_ofADatabaseWithoutPoolYet_holdsItsFirstClientUntilResume() throws Exception {
        SluiceConfig config = TestConfig.builder().build()
                .withConsole(new ConsoleConfig(List.of(TestPostgres.APP_USER), List.of()));
        try (ProxyServer other = ProxyServer.start(config); Console otherConsole = Console.install(other, "test");
             Connection admin = ProxyClients.connect(other, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD,
                     "sluice", ProxyClients.props("preferQueryMode", "simple"))) {
            assertThat(other.console()).isSameAs(otherConsole);
            run(admin, "PAUSE " + TestPostgres.DATABASE);
            // the first client of a pool needs a server connection already to log in (Sluice learns
            // the server's parameters from it), so it waits in its login
            Future<Integer> query = threads.submit(() -> {
                try (Connection first = ProxyClients.connect(other, ProxyClients.props("preferQueryMode", "simple"))) {
                    return selectOne(first);
                }
            });
            Await.until(AWAIT, "the first client waits", () -> other.poolList().size() == 1
                    && other.poolList().getFirst().snapshot().waiting() == 1);
            run(admin, "RESUME " + TestPostgres.DATABASE);
            assertThat(query.get(AWAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(1);
        }
    }

    @Test
    void pause_ofADatabaseWithoutPoolYet_saysSoInANotice() throws Exception {
        SluiceConfig config = TestConfig.builder().build()
                .withConsole(new ConsoleConfig(List.of(TestPostgres.APP_USER), List.of()));
        try (ProxyServer other = ProxyServer.start(config); Console otherConsole = Console.install(other, "test");
             Connection admin = ProxyClients.connect(other, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD,
                     "sluice", ProxyClients.props("preferQueryMode", "simple"));
             Statement s = admin.createStatement()) {
            assertThat(other.console()).isSameAs(otherConsole);
            assertThat(s.execute("PAUSE " + TestPostgres.DATABASE)).isFalse();
            SQLWarning w = s.getWarnings();
            assertThat((Object) w).isNotNull();
            assertThat(w.getMessage()).contains("no pool of database app exists yet");
        }
    }

    @Test
    void pause_thatDoesNotCompleteWithinShutdownTimeout_answersAnError() throws Exception {
        SluiceConfig config = TestConfig.builder().poolSize(1).shutdownTimeout(Duration.ofMillis(300)).build()
                .withConsole(new ConsoleConfig(List.of(TestPostgres.APP_USER), List.of()));
        try (ProxyServer other = ProxyServer.start(config); Console otherConsole = Console.install(other, "test")) {
            assertThat(other.console()).isSameAs(otherConsole);
            try (Connection holder = ProxyClients.connect(other, ProxyClients.props("preferQueryMode", "simple"));
                 Connection admin = ProxyClients.connect(other, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD,
                         "sluice", ProxyClients.props("preferQueryMode", "simple"))) {
                holder.setAutoCommit(false);
                selectOne(holder);
                assertThatThrownBy(() -> run(admin, "PAUSE"))
                        .satisfies(e -> assertThat(sqlState(e)).isEqualTo("57014"))
                        .hasMessageContaining("shutdown_timeout")
                        .hasMessageContaining("1 server connection is still in use");
                assertThat(other.poolList().getFirst().isPaused()).isTrue();
                run(admin, "RESUME");
                holder.commit();
                assertThat(selectOne(holder)).isEqualTo(1);
            }
        }
    }

    @Test
    void killClient_disconnectsExactlyThatClient() throws Exception {
        Connection victim = client(TestPostgres.DATABASE, "victim");
        Connection bystander = client(TestPostgres.DATABASE, "bystander");
        selectOne(victim);
        selectOne(bystander);
        Connection admin = admin();
        String id = show(admin, "SHOW CLIENTS").row("application_name", "victim").get("id");

        run(admin, "KILL_CLIENT " + id);
        Await.until(AWAIT, "the victim is gone from SHOW CLIENTS",
                () -> showQuietly(admin, "SHOW CLIENTS").rowsWith("id", id).isEmpty());
        assertThatThrownBy(() -> selectOne(victim)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("57P01"));
        assertThat(selectOne(bystander)).isEqualTo(1);
        assertThat(show(admin, "SHOW CLIENTS").rowsWith("application_name", "bystander")).hasSize(1);

        assertThatThrownBy(() -> run(admin, "KILL_CLIENT " + id))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("42704"));
        assertThatThrownBy(() -> run(admin, "KILL_CLIENT abc"))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("22023"));
    }

    @Test
    void kill_disconnectsEveryClientOfThatDatabase_andPausesItUntilResume() throws Exception {
        Connection first = client(APP2, "kill-1");
        Connection second = client(APP2, "kill-2");
        Connection other = client(TestPostgres.DATABASE, "kill-other");
        selectOne(first);
        selectOne(other);
        Connection admin = admin();

        run(admin, "KILL " + APP2);
        Await.until(AWAIT, "no client of app2 is left",
                () -> showQuietly(admin, "SHOW CLIENTS").rowsWith("database", APP2).isEmpty());
        assertThatThrownBy(() -> selectOne(first)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("57P01"));
        assertThatThrownBy(() -> selectOne(second)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("57P01"));
        assertThat(selectOne(other)).isEqualTo(1);
        assertThat(intOf(show(admin, "SHOW DATABASES").row("name", APP2), "paused")).isEqualTo(1);

        run(admin, "RESUME " + APP2);
        assertThat(selectOne(client(APP2, "kill-after"))).isEqualTo(1);
        assertThatThrownBy(() -> run(admin, "KILL sluice"))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("55000"));
    }

    @Test
    void reload_runsTheReloaderOffTheEventLoops_andReportsItsOutcome() throws Exception {
        Connection admin = admin();
        nextReload.set(new ReloadReport(true, List.of("pool.size"), List.of("listen"), null));
        try (Statement s = admin.createStatement()) {
            assertThat(s.execute("RELOAD;")).isFalse();
            SQLWarning w = s.getWarnings();
            assertThat((Object) w).isNotNull();
            assertThat(w.getMessage()).contains("configuration reloaded");
        }
        assertThat(reloadThread.get().isVirtual()).isTrue();

        nextReload.set(new ReloadReport(false, List.of(), List.of(), "pool.size: 0 is not allowed"));
        assertThatThrownBy(() -> run(admin, "RELOAD"))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("F0000"))
                .hasMessageContaining("pool.size: 0 is not allowed");
    }

    // ------------------------------------------------------------------ pgjdbc: who may do what

    @Test
    void statsUser_mayShowButNotAct() throws Exception {
        Connection stats = console(TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD);
        assertThat(show(stats, "SHOW POOLS").columns()).isEqualTo(POOLS);
        assertThat(show(stats, "SHOW CLIENTS").rowsWith("user", TestPostgres.MD5_USER)).isNotEmpty();
        for (String command : List.of("PAUSE", "PAUSE app", "RESUME", "KILL app2", "KILL_CLIENT 1", "RELOAD",
                "SHUTDOWN", "SET pool.size = 3")) {
            assertThatThrownBy(() -> run(stats, command)).as(command)
                    .satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"))
                    .hasMessageContaining("admin_users");
        }
        assertThat(pool(TestPostgres.DATABASE).isPaused()).isFalse();
        run(stats, "SET application_name = 'fine'"); // session parameters are accepted and ignored
    }

    @Test
    void nonAdminUser_isRefusedWith42501() {
        assertThatThrownBy(() -> console(TestPostgres.TRUST_USER, TestPostgres.TRUST_PASSWORD))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"))
                .hasMessageContaining("admin_users");
        assertThatThrownBy(() -> track(ProxyClients.connect(proxy, TestPostgres.TRUST_USER, TestPostgres.TRUST_PASSWORD,
                "pgbouncer", new Properties())))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"));
    }

    @Test
    void commands_areCaseInsensitive_andBadOnesAreNamedErrors() throws Exception {
        Connection admin = admin();
        assertThat(show(admin, "  show Pools ;  ").columns()).isEqualTo(POOLS);
        assertThat(show(admin, "SHOW \"clients\"").columns()).isEqualTo(CONNECTIONS);
        assertThatThrownBy(() -> run(admin, "FROBNICATE"))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("42601")).hasMessageContaining("FROBNICATE");
        assertThatThrownBy(() -> run(admin, "SHOW FROBS"))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("42601")).hasMessageContaining("FROBS");
        assertThatThrownBy(() -> run(admin, "SHOW POOLS; SHOW STATS"))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("42601"));
        assertThatThrownBy(() -> run(admin, "SHOW"))
                .satisfies(e -> assertThat(sqlState(e)).isEqualTo("42601"));
        for (String unsupported : List.of("SUSPEND", "SHUTDOWN", "SHOW FDS", "SET pool.size = 3", "RECONNECT")) {
            assertThatThrownBy(() -> run(admin, unsupported)).as(unsupported)
                    .satisfies(e -> assertThat(sqlState(e)).isEqualTo("0A000"));
        }
        // the console still answers after the errors
        assertThat(show(admin, "SHOW VERSION").rows()).hasSize(1);
    }

    @Test
    void pgbouncerDatabaseName_reachesTheConsoleToo() throws Exception {
        Connection c = track(ProxyClients.connect(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "pgbouncer",
                ProxyClients.props("preferQueryMode", "simple")));
        assertThat(show(c, "SHOW LISTS").columns()).isEqualTo(List.of("list", "items"));
        assertThat(show(c, "SHOW CLIENTS").rowsWith("database", "pgbouncer")).isNotEmpty();
    }
}

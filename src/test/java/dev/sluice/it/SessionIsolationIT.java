package dev.sluice.it;

import static dev.sluice.it.support.ProxyClients.props;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Await;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.WireClient;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Transaction mode: what each kind of session state does when clients share server connections.
 * With one server connection, two clients run on the very same PostgreSQL backend; features that
 * pin a client are tested with two, so the other client still has one. The table in
 * {@code docs/session-features.md} states the same behaviour.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SessionIsolationIT {

    private static ProxyServer shared;
    private static ProxyServer two;
    /** Two connections on one event loop: a client that is not pinned meets the other's backend. */
    private static ProxyServer twoOneLoop;

    @BeforeAll
    static void startSluice() throws Exception {
        shared = ProxyServer.start(TestConfig.builder().poolSize(1).build());
        two = ProxyServer.start(TestConfig.builder().poolSize(2).build());
        twoOneLoop = ProxyServer.start(TestConfig.builder().poolSize(2).ioThreads(1).build());
    }

    @AfterAll
    static void stopSluice() {
        if (shared != null) {
            shared.close();
        }
        if (two != null) {
            two.close();
        }
        if (twoOneLoop != null) {
            twoOneLoop.close();
        }
    }

    @Test
    void sessionSet_isResetBeforeTheConnectionIsReused() throws Exception {
        try (Connection a = ProxyClients.connect(shared); Connection b = ProxyClients.connect(shared)) {
            int pid = scalarInt(a, "SELECT pg_backend_pid()");
            exec(a, "SET statement_timeout = '1234ms'");
            assertThat(scalarInt(b, "SELECT pg_backend_pid()")).as("same server connection").isEqualTo(pid);
            assertThat(scalar(b, "SHOW statement_timeout")).isEqualTo("0");
            // the reset is not per client: A's own SET outside a transaction is gone too
            assertThat(scalar(a, "SHOW statement_timeout")).isEqualTo("0");
            // inside a transaction the setting holds until its end
            a.setAutoCommit(false);
            exec(a, "SET statement_timeout = '1234ms'");
            assertThat(scalar(a, "SHOW statement_timeout")).isEqualTo("1234ms");
            a.commit();
            a.setAutoCommit(true);
            assertThat(scalar(b, "SHOW statement_timeout")).isEqualTo("0");
            // SET LOCAL never leaks either
            a.setAutoCommit(false);
            exec(a, "SET LOCAL work_mem = '7MB'");
            assertThat(scalar(a, "SHOW work_mem")).isEqualTo("7MB");
            a.commit();
            assertThat(scalar(b, "SHOW work_mem")).isEqualTo("4MB");
        }
    }

    @Test
    void setConfig_isResetLikeSet() throws Exception {
        try (Connection a = ProxyClients.connect(shared); Connection b = ProxyClients.connect(shared)) {
            int pid = scalarInt(a, "SELECT pg_backend_pid()");
            assertThat(scalar(a, "SELECT set_config('statement_timeout', '4321ms', false)")).isEqualTo("4321ms");
            assertThat(scalarInt(b, "SELECT pg_backend_pid()")).as("same server connection").isEqualTo(pid);
            assertThat(scalar(b, "SHOW statement_timeout")).isEqualTo("0");
        }
    }

    @Test
    void setConfig_inAnyCase_andRunAgainFromAPreparedStatement_isReset() throws Exception {
        try (Connection a = ProxyClients.connect(shared, props("prepareThreshold", "1"));
             Connection b = ProxyClients.connect(shared)) {
            int pid = scalarInt(a, "SELECT pg_backend_pid()");
            assertThat(scalar(a, "SELECT SET_CONFIG('statement_timeout', '3457ms', false)")).isEqualTo("3457ms");
            assertThat(scalarInt(b, "SELECT pg_backend_pid()")).as("same server connection").isEqualTo(pid);
            assertThat(scalar(b, "SHOW statement_timeout")).isEqualTo("0");
            // a server-prepared statement: its text is seen once, at Parse; later runs are Bind/Execute only
            try (PreparedStatement ps = a.prepareStatement("SELECT set_config('work_mem', ?, false)")) {
                for (String v : List.of("7777kB", "6666kB", "5555kB")) {
                    ps.setString(1, v);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).isEqualTo(v);
                    }
                    assertThat(scalar(b, "SHOW work_mem")).as("after " + v).isEqualTo("4MB");
                }
            }
        }
    }

    @Test
    void advisoryLock_inUpperCase_pinsTheClient() throws Exception {
        try (WireClient a = wireClient(twoOneLoop); WireClient b = wireClient(twoOneLoop)) {
            assertThat(WireClient.types(a.simpleQuery("SELECT PG_ADVISORY_LOCK(4343)"))).containsExactly('T', 'D', 'C', 'Z');
            for (int i = 0; i < 3; i++) {
                assertThat(WireClient.firstValue(b.simpleQuery("SELECT pg_try_advisory_xact_lock(4343)"))).isEqualTo("f");
            }
            assertThat(WireClient.firstValue(a.simpleQuery("SELECT Pg_Advisory_Unlock(4343)"))).isEqualTo("t");
            assertThat(WireClient.firstValue(b.simpleQuery("SELECT pg_try_advisory_xact_lock(4343)"))).isEqualTo("t");
        }
    }

    @Test
    void temporaryObjectsNamedThroughPgTemp_pinTheClient() throws Exception {
        try (WireClient a = wireClient(twoOneLoop); WireClient b = wireClient(twoOneLoop)) {
            // the tags are SELECT 1 and CREATE FUNCTION: only the schema name shows they are temporary
            assertThat(WireClient.types(a.simpleQuery("CREATE TABLE pg_temp.session_pgtemp AS SELECT 1 AS x"))).containsExactly('C', 'Z');
            assertThat(WireClient.types(a.simpleQuery("CREATE FUNCTION PG_TEMP.session_pgtemp_f() RETURNS int LANGUAGE sql AS 'SELECT 5'")))
                    .containsExactly('C', 'Z');
            for (int i = 0; i < 3; i++) {
                assertThat(WireClient.firstValue(b.simpleQuery("SELECT to_regclass('pg_temp.session_pgtemp')::text"))).isNull();
                assertThat(WireClient.firstValue(b.simpleQuery("SELECT count(*) FROM pg_proc WHERE proname = 'session_pgtemp_f'"
                        + " AND pronamespace = pg_my_temp_schema()"))).isEqualTo("0");
                assertThat(WireClient.firstValue(a.simpleQuery("SELECT x FROM pg_temp.session_pgtemp"))).isEqualTo("1");
                assertThat(WireClient.firstValue(a.simpleQuery("SELECT pg_temp.session_pgtemp_f()"))).isEqualTo("5");
            }
        }
    }

    private static WireClient wireClient(ProxyServer proxy) throws Exception {
        WireClient c = WireClient.connect("127.0.0.1", proxy.port(), java.time.Duration.ofSeconds(20));
        c.login(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, TestPostgres.DATABASE);
        return c;
    }



    @Test
    void startupParameters_trackedInAnyCase_othersAnsweredWithAWarning() throws Exception {
        // libpq sends timezone and datestyle (from PGTZ and PGDATESTYLE) in lower case
        try (WireClient a = WireClient.connect("127.0.0.1", shared.port(), java.time.Duration.ofSeconds(20));
             Connection b = ProxyClients.connect(shared)) {
            List<WireClient.Message> login = a.login(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, TestPostgres.DATABASE,
                    java.util.Map.of("timezone", "America/New_York", "datestyle", "SQL, DMY", "statement_timeout", "1234"));
            List<WireClient.Message> warnings = login.stream().filter(m -> m.type() == 'N').toList();
            assertThat(warnings).hasSize(1);
            assertThat(warnings.get(0).field('S')).isEqualTo("WARNING");
            assertThat(warnings.get(0).field('M')).contains("statement_timeout").doesNotContain("timezone")
                    .doesNotContain("datestyle");
            assertThat(WireClient.firstValue(a.simpleQuery("SHOW TimeZone"))).isEqualTo("America/New_York");
            assertThat(WireClient.firstValue(a.simpleQuery("SHOW DateStyle"))).isEqualTo("SQL, DMY");
            assertThat(WireClient.firstValue(a.simpleQuery("SHOW statement_timeout"))).isEqualTo("0");
            // on the same server connection, the other client keeps its own values
            assertThat(scalar(b, "SHOW TimeZone")).isNotEqualTo("America/New_York");
            assertThat(WireClient.firstValue(a.simpleQuery("SHOW TimeZone"))).isEqualTo("America/New_York");
        }
    }

    @Test
    void tempTableAs_andSelectIntoTemp_pinTheClient() throws Exception {
        try (Connection a = ProxyClients.connect(two); Connection b = ProxyClients.connect(two)) {
            // the command tag of these is SELECT n: only the statement text shows the temp table
            exec(a, "CREATE TEMP TABLE session_tmp_as AS SELECT 1 AS x");
            exec(a, "SELECT 2 AS y INTO TEMPORARY session_tmp_into");
            for (int i = 0; i < 5; i++) {
                assertThat(scalar(b, "SELECT to_regclass('session_tmp_as')::text")).isNull();
                assertThat(scalar(b, "SELECT to_regclass('session_tmp_into')::text")).isNull();
                assertThat(scalarInt(a, "SELECT x FROM session_tmp_as")).isEqualTo(1);
                assertThat(scalarInt(a, "SELECT y FROM session_tmp_into")).isEqualTo(2);
            }
        }
    }

    @Test
    void searchPathOfOneClient_isNotInheritedByAClientThatDidNotAskForOne() throws Exception {
        try (Connection su = TestPostgres.superuserConnection(TestPostgres.shared(), TestPostgres.DATABASE);
             Statement st = su.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS tenant_a AUTHORIZATION " + TestPostgres.APP_USER);
        }
        String plain;
        try (Connection b0 = ProxyClients.connect(shared)) {
            plain = scalar(b0, "SHOW search_path");
        }
        try (Connection a = ProxyClients.connect(shared, ProxyClients.props("currentSchema", "tenant_a"));
             Connection b = ProxyClients.connect(shared)) {
            int pid = scalarInt(a, "SELECT pg_backend_pid()");
            assertThat(scalar(a, "SHOW search_path")).isEqualTo("tenant_a");
            for (int i = 0; i < 3; i++) {
                assertThat(scalarInt(b, "SELECT pg_backend_pid()")).as("same server connection").isEqualTo(pid);
                assertThat(scalar(b, "SHOW search_path")).isEqualTo(plain);
                assertThat(scalar(a, "SHOW search_path")).isEqualTo("tenant_a");
            }
        }
    }

    @Test
    void cursorFetchedWithExecuteAndFlush_keepsItsServerConnectionUntilSync() throws Exception {
        // node-postgres' cursors: Parse/Bind/Execute(max rows)/Flush and no Sync between fetches.
        // The portal and its implicit transaction live on the backend: it must not be lent out.
        try (WireClient a = WireClient.connect("127.0.0.1", shared.port(), java.time.Duration.ofSeconds(20));
             Connection b = ProxyClients.connect(shared)) {
            a.login(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, TestPostgres.DATABASE);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            out.write(WireClient.frame('P', concat(WireClient.cstring(""),
                    WireClient.cstring("SELECT g FROM generate_series(1, 10) g"), new byte[] {0, 0})));
            out.write(WireClient.frame('B', concat(WireClient.cstring(""), WireClient.cstring(""),
                    new byte[] {0, 0, 0, 0, 0, 0})));
            out.write(WireClient.frame('E', concat(WireClient.cstring(""), new byte[] {0, 0, 0, 3})));
            out.write(WireClient.frame('H', new byte[0]));
            a.send(out.toByteArray());
            List<Character> seen = new ArrayList<>();
            WireClient.Message m;
            do {
                m = a.read();
                seen.add(m.type());
            } while (m.type() != 's');
            assertThat(seen).containsExactly('1', '2', 'D', 'D', 'D', 's');
            // B needs the pool's only connection: it waits while A's portal is open
            java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newSingleThreadExecutor();
            try {
                java.util.concurrent.Future<String> fb = ex.submit(() -> scalar(b, "SELECT 'b'"));
                Await.until(java.time.Duration.ofSeconds(10), "B waits for the connection",
                        () -> shared.poolList().get(0).snapshot().waiting() == 1);
                assertThat(fb.isDone()).isFalse();
                // A fetches the rest and closes the exchange with Sync
                a.send(concat(WireClient.frame('E', concat(WireClient.cstring(""), new byte[] {0, 0, 0, 0})),
                        WireClient.frame('S', new byte[0])));
                List<WireClient.Message> rest = a.readUntilReady();
                assertThat(rest.stream().filter(x -> x.type() == 'D').count()).isEqualTo(7);
                assertThat(fb.get(20, TimeUnit.SECONDS)).isEqualTo("b");
            } finally {
                ex.shutdownNow();
            }
        }
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void setRole_isResetBeforeTheConnectionIsReused() throws Exception {
        try (Connection su = TestPostgres.superuserConnection(); Statement s = su.createStatement()) {
            s.execute("DROP ROLE IF EXISTS sluice_isolation_role");
            s.execute("CREATE ROLE sluice_isolation_role");
            s.execute("GRANT sluice_isolation_role TO " + TestPostgres.APP_USER);
        }
        try (Connection a = ProxyClients.connect(shared); Connection b = ProxyClients.connect(shared)) {
            exec(a, "SET ROLE sluice_isolation_role");
            assertThat(scalar(b, "SELECT current_user")).isEqualTo(TestPostgres.APP_USER);
            assertThat(scalar(a, "SELECT current_user")).isEqualTo(TestPostgres.APP_USER);
        } finally {
            try (Connection su = TestPostgres.superuserConnection(); Statement s = su.createStatement()) {
                s.execute("DROP ROLE IF EXISTS sluice_isolation_role");
            }
        }
    }

    @Test
    void trackedParameters_eachClientKeepsItsOwn() throws Exception {
        try (Connection a = ProxyClients.connect(shared, props("ApplicationName", "client-alpha"));
                Connection b = ProxyClients.connect(shared, props("ApplicationName", "client-beta"))) {
            exec(a, "SET TimeZone = 'Asia/Tokyo'");
            exec(a, "SET DateStyle = 'ISO, DMY'");
            exec(b, "SET TimeZone = 'America/New_York'");
            exec(b, "SET DateStyle = 'ISO, MDY'");
            int pid = scalarInt(a, "SELECT pg_backend_pid()");
            for (int round = 0; round < 25; round++) {
                Connection first = round % 2 == 0 ? a : b;
                Connection second = first == a ? b : a;
                for (Connection c : List.of(first, second)) {
                    boolean alpha = c == a;
                    if (round % 5 == 4) {
                        c.setAutoCommit(false);
                    }
                    assertThat(scalar(c, "SHOW application_name")).isEqualTo(alpha ? "client-alpha" : "client-beta");
                    assertThat(scalar(c, "SHOW TimeZone")).isEqualTo(alpha ? "Asia/Tokyo" : "America/New_York");
                    assertThat(scalar(c, "SHOW DateStyle")).isEqualTo(alpha ? "ISO, DMY" : "ISO, MDY");
                    assertThat(scalar(c, "SELECT to_char(timestamptz '2024-01-01 00:00:00+00', 'HH24')"))
                            .isEqualTo(alpha ? "09" : "19");
                    assertThat(scalarInt(c, "SELECT pg_backend_pid()")).isEqualTo(pid);
                    if (!c.getAutoCommit()) {
                        c.commit();
                        c.setAutoCommit(true);
                    }
                }
            }
        }
    }

    @Test
    void sqlPrepare_pinsTheClient_otherClientsDoNotSeeIt() throws Exception {
        try (Connection a = ProxyClients.connect(two); Connection b = ProxyClients.connect(two)) {
            exec(a, "PREPARE p AS SELECT 41 + 1");
            int pinned = scalarInt(a, "SELECT pg_backend_pid()");
            for (int i = 0; i < 10; i++) {
                assertThat(scalarList(b, "SELECT name FROM pg_prepared_statements")).doesNotContain("p");
                assertThat(scalarInt(b, "SELECT pg_backend_pid()")).isNotEqualTo(pinned);
                assertThat(scalarInt(a, "EXECUTE p")).isEqualTo(42);
                assertThat(scalarInt(a, "SELECT pg_backend_pid()")).isEqualTo(pinned);
            }
        }
    }

    @Test
    void tempTable_pinsTheClient_invisibleToOthers() throws Exception {
        try (Connection a = ProxyClients.connect(two); Connection b = ProxyClients.connect(two)) {
            exec(a, "CREATE TEMP TABLE session_tmp (x int)");
            exec(a, "INSERT INTO session_tmp VALUES (1), (2), (3)");
            for (int i = 0; i < 5; i++) {
                assertThat(scalar(b, "SELECT to_regclass('session_tmp')::text")).isNull();
                assertThat(scalarInt(a, "SELECT count(*) FROM session_tmp")).isEqualTo(3);
            }
        }
        try (Connection c = ProxyClients.connect(two); Connection d = ProxyClients.connect(two)) {
            // the pinned connection was reset (DISCARD ALL) when A left
            assertThat(scalar(c, "SELECT to_regclass('session_tmp')::text")).isNull();
            assertThat(scalar(d, "SELECT to_regclass('session_tmp')::text")).isNull();
        }
    }

    @Test
    void listen_pinsTheClient_notificationsArrive() throws Exception {
        try (Connection a = ProxyClients.connect(two); Connection b = ProxyClients.connect(two)) {
            exec(a, "LISTEN session_channel");
            PGConnection pa = a.unwrap(PGConnection.class);
            for (int i = 0; i < 3; i++) {
                exec(b, "NOTIFY session_channel, 'payload " + i + "'");
                PGNotification[] got = pa.getNotifications(10_000);
                assertThat(got).isNotNull().extracting(PGNotification::getParameter).containsExactly("payload " + i);
                assertThat(scalarInt(a, "SELECT 1")).isEqualTo(1);
            }
        }
    }

    @Test
    void advisoryLock_pinsTheClient_othersCannotTakeIt() throws Exception {
        try (Connection a = ProxyClients.connect(two); Connection b = ProxyClients.connect(two)) {
            exec(a, "SELECT pg_advisory_lock(4242)");
            int pinned = scalarInt(a, "SELECT pg_backend_pid()");
            for (int i = 0; i < 3; i++) {
                assertThat(scalar(b, "SELECT pg_try_advisory_lock(4242)")).isEqualTo("f");
                assertThat(scalarInt(a, "SELECT pg_backend_pid()")).isEqualTo(pinned);
            }
            assertThat(scalar(a, "SELECT pg_advisory_unlock(4242)")).isEqualTo("t");
            assertThat(scalar(b, "SELECT pg_try_advisory_lock(4242)")).isEqualTo("t");
            assertThat(scalar(b, "SELECT pg_advisory_unlock(4242)")).isEqualTo("t");
        }
    }

    @Test
    void cursorWithHold_fetchInLaterTransactions() throws Exception {
        try (Connection a = ProxyClients.connect(two); Connection b = ProxyClients.connect(two)) {
            exec(a, "DECLARE held CURSOR WITH HOLD FOR SELECT i FROM generate_series(1, 10) i");
            List<String> fetched = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                fetched.addAll(scalarList(a, "FETCH 3 FROM held"));
                assertThat(scalarInt(b, "SELECT count(*) FROM pg_cursors WHERE name = 'held'")).isZero();
            }
            exec(a, "CLOSE held");
            assertThat(fetched).containsExactly("1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
        }
    }

    @Test
    void pgjdbcNamedStatements_areRenamedPerServer_othersSeeOnlyServerNames() throws Exception {
        try (Connection a = ProxyClients.connect(shared, props("prepareThreshold", "1"));
                Connection b = ProxyClients.connect(shared)) {
            try (PreparedStatement ps = a.prepareStatement("SELECT ?::int + 100")) {
                for (int i = 0; i < 5; i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(100 + i);
                    }
                }
            }
            try (PreparedStatement ps = a.prepareStatement("SELECT name FROM pg_prepared_statements ORDER BY name")) {
                List<String> seenByA = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        seenByA.add(rs.getString(1));
                    }
                }
                assertThat(seenByA).isNotEmpty().allMatch(n -> n.matches("sluice_\\d+"));
            }
            List<String> seenByB = scalarList(b, "SELECT name FROM pg_prepared_statements");
            // the one server connection holds A's statements under Sluice's names only
            assertThat(seenByB).isNotEmpty().allMatch(n -> n.matches("sluice_\\d+"));
            assertThat(seenByB).noneMatch(n -> n.startsWith("S_"));
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static String scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as("a row from " + sql).isTrue();
            return rs.getString(1);
        }
    }

    private static int scalarInt(Connection c, String sql) throws SQLException {
        return Integer.parseInt(scalar(c, sql));
    }

    private static List<String> scalarList(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}

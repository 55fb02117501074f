package dev.sluice.it;

import static dev.sluice.it.support.ProxyClients.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.config.SluiceConfig.PoolMode;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.TestConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;
import org.postgresql.util.PSQLException;

/**
 * pgjdbc through Sluice, every protocol feature a JDBC application uses, in both pool modes. One
 * Sluice per mode for the whole class, three server connections each.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JdbcProtocolIT {

    private static final int POOL_SIZE = 3;
    private static final Map<PoolMode, ProxyServer> proxies = new EnumMap<>(PoolMode.class);

    @BeforeAll
    static void startSluice() throws Exception {
        for (PoolMode mode : PoolMode.values()) {
            proxies.put(mode, ProxyServer.start(TestConfig.builder().poolMode(mode).poolSize(POOL_SIZE).build()));
        }
    }

    @AfterAll
    static void stopSluice() {
        proxies.values().forEach(ProxyServer::close);
        proxies.clear();
    }

    private static Connection connect(PoolMode mode, String... keyValues) throws SQLException {
        return ProxyClients.connect(proxies.get(mode), props(keyValues));
    }

    private static String table(PoolMode mode, String name) {
        return "jdbc_" + name + "_" + mode.configName();
    }

    @ParameterizedTest
    @EnumSource(PoolMode.class)
    void simpleQueryMode_runsQueriesWithParameters(PoolMode mode) throws Exception {
        try (Connection c = connect(mode, "preferQueryMode", "simple")) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1 AS one, 'two' AS two; ")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt("one")).isEqualTo(1);
                assertThat(rs.getString("two")).isEqualTo("two");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::int * 2, ?::text || '!'")) {
                for (int i = 0; i < 20; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "it's " + i);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getInt(1)).isEqualTo(i * 2);
                        assertThat(rs.getString(2)).isEqualTo("it's " + i + "!");
                    }
                }
            }
            try (Statement s = c.createStatement()) {
                // several statements in one Query message: one ReadyForQuery for all of them
                assertThat(s.execute("SELECT 1; SELECT 2; SELECT 3")).isTrue();
                int results = 0;
                do {
                    try (ResultSet rs = s.getResultSet()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getInt(1)).isEqualTo(++results);
                    }
                } while (s.getMoreResults());
                assertThat(results).isEqualTo(3);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(PoolMode.class)
    void extendedQueries_unnamedStatements(PoolMode mode) throws Exception {
        // prepareThreshold=0: every execution goes as unnamed Parse/Bind/Execute/Sync
        try (Connection c = connect(mode, "prepareThreshold", "0");
                PreparedStatement ps = c.prepareStatement("SELECT ?::bigint + 1, ?::text")) {
            for (int i = 0; i < 50; i++) {
                ps.setLong(1, i);
                ps.setString(2, "v" + i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).isEqualTo(i + 1L);
                    assertThat(rs.getString(2)).isEqualTo("v" + i);
                    assertThat(rs.next()).isFalse();
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(PoolMode.class)
    void serverPreparedStatements_reusedAcrossManyTransactionsFromManyClients(PoolMode mode) throws Exception {
        int threads = 20;
        int executions = 200;
        Set<Integer> allPids = ConcurrentHashMap.newKeySet();
        List<Set<Integer>> pidsPerClient = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int client = t;
                Set<Integer> mine = ConcurrentHashMap.newKeySet();
                pidsPerClient.add(mine);
                futures.add(pool.submit(() -> {
                    try (Connection c = connect(mode, "prepareThreshold", "1");
                            PreparedStatement ps = c.prepareStatement(
                                    "SELECT ?::int * 1000 + ?::int, pg_backend_pid(), ?::text")) {
                        for (int i = 0; i < executions; i++) {
                            ps.setInt(1, client);
                            ps.setInt(2, i);
                            ps.setString(3, "client " + client);
                            try (ResultSet rs = ps.executeQuery()) {
                                assertThat(rs.next()).isTrue();
                                assertThat(rs.getInt(1)).isEqualTo(client * 1000 + i);
                                assertThat(rs.getString(3)).isEqualTo("client " + client);
                                mine.add(rs.getInt(2));
                                assertThat(rs.next()).isFalse();
                            }
                        }
                        // pgjdbc really used a named server-side statement
                        assertThat(ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare()).isTrue();
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(100, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        pidsPerClient.forEach(allPids::addAll);
        assertThat(allPids).hasSizeBetween(1, POOL_SIZE);
        if (mode == PoolMode.TRANSACTION) {
            // clients moved between server connections and their statement followed them
            assertThat(allPids).hasSizeGreaterThan(1);
            assertThat(pidsPerClient).anySatisfy(pids -> assertThat(pids).hasSizeGreaterThan(1));
        } else {
            assertThat(pidsPerClient).allSatisfy(pids -> assertThat(pids).hasSize(1));
        }
    }

    @ParameterizedTest
    @EnumSource(PoolMode.class)
    void batches_statementAndPrepared(PoolMode mode) throws Exception {
        String t = table(mode, "batch");
        try (Connection c = connect(mode); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + t);
            s.execute("CREATE TABLE " + t + " (id int PRIMARY KEY, label text)");
            for (int i = 0; i < 10; i++) {
                s.addBatch("INSERT INTO " + t + " VALUES (" + i + ", 'plain " + i + "')");
            }
            assertThat(s.executeBatch()).hasSize(10).containsOnly(1);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " VALUES (?, ?)")) {
                for (int i = 10; i < 510; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "prepared " + i);
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                assertThat(counts).hasSize(500);
                assertThat(java.util.Arrays.stream(counts).boxed().toList())
                        .allSatisfy(n -> assertThat(n).isIn(1, Statement.SUCCESS_NO_INFO));
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*), sum(id), count(*) FILTER (WHERE label LIKE 'prepared %') FROM " + t)) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(510);
                assertThat(rs.getLong(2)).isEqualTo(509L * 510 / 2);
                assertThat(rs.getInt(3)).isEqualTo(500);
            }
            s.execute("DROP TABLE " + t);
        }
    }

    @ParameterizedTest
    @EnumSource(PoolMode.class)
    void explicitTransactions_commitKeepsRowsRollbackDropsThem(PoolMode mode) throws Exception {
        String t = table(mode, "tx");
        try (Connection c = connect(mode); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + t);
            s.execute("CREATE TABLE " + t + " (id int PRIMARY KEY)");
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " VALUES (?)")) {
                for (int round = 0; round < 10; round++) {
                    ps.setInt(1, round * 2);
                    ps.executeUpdate();
                    c.commit();
                    ps.setInt(1, round * 2 + 1);
                    ps.executeUpdate();
                    try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + t + " WHERE id = " + (round * 2 + 1))) {
                        rs.next();
                        assertThat(rs.getInt(1)).as("own uncommitted row visible inside the transaction").isEqualTo(1);
                    }
                    c.rollback();
                }
            }
            c.setAutoCommit(true);
            try (ResultSet rs = s.executeQuery("SELECT array_agg(id ORDER BY id)::text FROM " + t)) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("{0,2,4,6,8,10,12,14,16,18}");
            }
            s.execute("DROP TABLE " + t);
        }
    }

    @ParameterizedTest
    @EnumSource(PoolMode.class)
    void copyInAndOut_withCopyManager(PoolMode mode) throws Exception {
        String t = table(mode, "copy");
        try (Connection c = connect(mode); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + t);
            s.execute("CREATE TABLE " + t + " (id int, name text)");
            StringBuilder csv = new StringBuilder();
            for (int i = 0; i < 5000; i++) {
                csv.append(i).append(",name ").append(i).append('\n');
            }
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            long in = copy.copyIn("COPY " + t + " FROM STDIN (FORMAT csv)",
                    new ByteArrayInputStream(csv.toString().getBytes(StandardCharsets.UTF_8)));
            assertThat(in).isEqualTo(5000);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long outRows = copy.copyOut("COPY (SELECT * FROM " + t + " ORDER BY id) TO STDOUT (FORMAT csv)", out);
            assertThat(outRows).isEqualTo(5000);
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(csv.toString());
            // a failed COPY leaves the connection usable
            assertThatThrownBy(() -> copy.copyIn("COPY " + t + " FROM STDIN (FORMAT csv)",
                    new ByteArrayInputStream("1,ok\nnot-a-number,x\n".getBytes(StandardCharsets.UTF_8))))
                    .isInstanceOf(PSQLException.class).hasMessageContaining("invalid input syntax");
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + t)) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(5000);
            }
            s.execute("DROP TABLE " + t);
        }
    }

    @ParameterizedTest
    @EnumSource(PoolMode.class)
    void largeResult_streamedWithFetchSizeInATransaction(PoolMode mode) throws Exception {
        try (Connection c = connect(mode)) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT i, repeat('x', 50) || i FROM generate_series(1, ?) AS i ORDER BY i")) {
                ps.setFetchSize(1000);
                ps.setInt(1, 100_000);
                long n = 0;
                long sum = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        n++;
                        sum += rs.getInt(1);
                        if (n % 9973 == 0) {
                            assertThat(rs.getString(2)).isEqualTo("x".repeat(50) + n);
                        }
                    }
                }
                assertThat(n).isEqualTo(100_000);
                assertThat(sum).isEqualTo(100_000L * 100_001 / 2);
            }
            c.commit();
            // and without a cursor: the whole result at once
            c.setAutoCommit(true);
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT count(*) FROM (SELECT md5(i::text) FROM generate_series(1, 100000) i) x")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(100_000);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(PoolMode.class)
    void nullsByteaAndUnicode_roundTrip(PoolMode mode) throws Exception {
        byte[] bytes = new byte[70_000];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31 + 7);
        }
        String unicode = "Grüße, ½ € — 日本語テキスト — Ελληνικά — emoji 🐘🚀 — \u0627\u0644\u0639\u0631\u0628\u064a\u0629";
        try (Connection c = connect(mode);
                PreparedStatement ps = c.prepareStatement("SELECT ?::text, ?::bytea, ?::int, ?::text, length(?::text)")) {
            for (int i = 0; i < 6; i++) {
                ps.setNull(1, Types.VARCHAR);
                ps.setBytes(2, bytes);
                ps.setNull(3, Types.INTEGER);
                ps.setString(4, unicode);
                ps.setString(5, unicode);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isNull();
                    assertThat(rs.getBytes(2)).isEqualTo(bytes);
                    rs.getInt(3);
                    assertThat(rs.wasNull()).isTrue();
                    assertThat(rs.getString(4)).isEqualTo(unicode);
                    assertThat(rs.getInt(5)).isEqualTo(unicode.codePointCount(0, unicode.length()));
                }
            }
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT NULL::text, '" + unicode + "', '\\x00ff10'::bytea")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isNull();
                assertThat(rs.getString(2)).isEqualTo(unicode);
                assertThat(rs.getBytes(3)).containsExactly(0x00, 0xff, 0x10);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(PoolMode.class)
    void resultSetMetaData_describesColumns(PoolMode mode) throws Exception {
        try (Connection c = connect(mode, "prepareThreshold", "1");
                PreparedStatement ps = c.prepareStatement(
                        "SELECT ?::int AS num, ?::text AS label, now() AS at, true AS flag, 1.5::numeric(5,2) AS amount")) {
            for (int i = 0; i < 5; i++) {
                // metadata before execution: a Describe of the statement
                ResultSetMetaData md = ps.getMetaData();
                assertThat(md.getColumnCount()).isEqualTo(5);
                assertThat(md.getColumnLabel(1)).isEqualTo("num");
                assertThat(md.getColumnType(1)).isEqualTo(Types.INTEGER);
                assertThat(md.getColumnLabel(2)).isEqualTo("label");
                assertThat(md.getColumnType(2)).isEqualTo(Types.VARCHAR);
                assertThat(md.getColumnTypeName(3)).isEqualTo("timestamptz");
                assertThat(md.getColumnType(4)).isEqualTo(Types.BIT);
                assertThat(md.getColumnType(5)).isEqualTo(Types.NUMERIC);
                assertThat(ps.getParameterMetaData().getParameterCount()).isEqualTo(2);
                ps.setInt(1, i);
                ps.setString(2, "l" + i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.getMetaData().getColumnLabel(5)).isEqualTo("amount");
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt("num")).isEqualTo(i);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(PoolMode.class)
    void errorInsideExtendedPipeline_connectionStaysUsable(PoolMode mode) throws Exception {
        String t = table(mode, "pipeline");
        try (Connection c = connect(mode, "prepareThreshold", "1"); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + t);
            s.execute("CREATE TABLE " + t + " (id int PRIMARY KEY)");
            for (int round = 0; round < 5; round++) {
                // a batch is one pipeline: many Parse/Bind/Execute then one Sync; the duplicate
                // key fails in the middle, PostgreSQL skips the rest up to the Sync
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " VALUES (?)")) {
                    for (int i : new int[] {round * 10 + 1, round * 10 + 2, round * 10 + 1, round * 10 + 3}) {
                        ps.setInt(1, i);
                        ps.addBatch();
                    }
                    assertThatThrownBy(ps::executeBatch).isInstanceOf(SQLException.class)
                            .satisfies(e -> assertThat(rootState((SQLException) e)).isEqualTo("23505"));
                }
                // a failing statement with a bad parameter type in the extended protocol
                try (PreparedStatement bad = c.prepareStatement("SELECT ?::int")) {
                    bad.setString(1, "not a number");
                    assertThatThrownBy(bad::executeQuery).isInstanceOf(SQLException.class)
                            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("22P02"));
                }
                // a statement that fails at Parse
                assertThatThrownBy(() -> c.prepareStatement("SELEC broken").executeQuery())
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42601"));
                // and the same connection goes on normally, prepared statements included
                try (PreparedStatement ok = c.prepareStatement("SELECT count(*) FROM " + t + " WHERE id > ?")) {
                    ok.setInt(1, -1);
                    try (ResultSet rs = ok.executeQuery()) {
                        rs.next();
                        // the batch went as one pipeline ending in one Sync: one implicit transaction, all undone
                        assertThat(rs.getInt(1)).isZero();
                    }
                }
            }
            // the failed statement inside an explicit transaction aborts it; rollback recovers
            c.setAutoCommit(false);
            s.execute("INSERT INTO " + t + " VALUES (100)");
            assertThatThrownBy(() -> s.execute("INSERT INTO " + t + " VALUES (100)")).isInstanceOf(SQLException.class);
            assertThatThrownBy(() -> s.execute("SELECT 1")).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25P02"));
            c.rollback();
            c.setAutoCommit(true);
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + t)) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
            s.execute("DROP TABLE " + t);
        }
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = "SESSION")
    void listenNotify_notificationFromAnotherConnectionArrives(PoolMode mode) throws Exception {
        try (Connection listener = connect(mode); Connection sender = connect(mode);
                Statement ls = listener.createStatement(); Statement ss = sender.createStatement()) {
            ls.execute("LISTEN sluice_jdbc_channel");
            ss.execute("NOTIFY sluice_jdbc_channel, 'hello through sluice'");
            PGNotification[] got = listener.unwrap(PGConnection.class).getNotifications(10_000);
            assertThat(got).isNotNull().hasSize(1);
            assertThat(got[0].getName()).isEqualTo("sluice_jdbc_channel");
            assertThat(got[0].getParameter()).isEqualTo("hello through sluice");
            ss.execute("SELECT pg_notify('sluice_jdbc_channel', 'second')");
            got = listener.unwrap(PGConnection.class).getNotifications(10_000);
            assertThat(got).isNotNull().extracting(PGNotification::getParameter).containsExactly("second");
        }
    }

    private static String rootState(SQLException e) {
        SQLException next = e.getNextException();
        return next != null && next.getSQLState() != null ? next.getSQLState() : e.getSQLState();
    }
}

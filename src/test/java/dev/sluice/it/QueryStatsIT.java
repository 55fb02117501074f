package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.config.SluiceConfig.PoolMode;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import dev.sluice.stats.QueryStats;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Per-fingerprint statistics match the traffic real clients sent through Sluice: simple,
 * extended and server-prepared statements, batches, errors and row counts, in both pool modes.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class QueryStatsIT {
    private ProxyServer proxy;

    @BeforeAll
    static void table() throws SQLException {
        try (Connection su = TestPostgres.superuserConnection(TestPostgres.shared(), TestPostgres.DATABASE); Statement s = su.createStatement()) {
            s.execute("DROP TABLE IF EXISTS stats_items");
            s.execute("CREATE TABLE stats_items (id int PRIMARY KEY, name text)");
            s.execute("INSERT INTO stats_items SELECT g, 'item ' || g FROM generate_series(1, 100) g");
            s.execute("GRANT ALL ON stats_items TO " + TestPostgres.APP_USER);
        }
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private ProxyServer start(PoolMode mode) throws InterruptedException {
        proxy = ProxyServer.start(TestConfig.forPostgres(TestPostgres.shared()).poolMode(mode).poolSize(4).build());
        return proxy;
    }

    private QueryStats.Row row(String text) {
        return proxy.queryStats().snapshot(QueryStats.SortBy.CALLS, 1000).rows().stream()
                .filter(r -> r.text().equals(text)).findFirst()
                .orElseThrow(() -> new AssertionError("no fingerprint '" + text + "' in "
                        + proxy.queryStats().snapshot(QueryStats.SortBy.CALLS, 1000).rows().stream().map(QueryStats.Row::text).toList()));
    }

    @ParameterizedTest(name = "{0} mode, preferQueryMode={1}")
    @CsvSource({"TRANSACTION, simple", "TRANSACTION, extended", "SESSION, simple", "SESSION, extended"})
    void literalsFoldIntoOneFingerprintWithCallsAndRows(PoolMode mode, String queryMode) throws Exception {
        start(mode);
        try (Connection c = ProxyClients.connect(proxy, ProxyClients.props("preferQueryMode", queryMode,
                "ApplicationName", "stats-test")); Statement s = c.createStatement()) {
            for (int i = 1; i <= 7; i++) {
                try (ResultSet rs = s.executeQuery("select name from stats_items where id <= " + i)) {
                    int n = 0;
                    while (rs.next()) {
                        n++;
                    }
                    assertThat(n).isEqualTo(i);
                }
            }
        }
        QueryStats.Row r = row("SELECT name FROM stats_items WHERE id <= ?");
        assertThat(r.calls()).isEqualTo(7);
        assertThat(r.rows()).isEqualTo(1 + 2 + 3 + 4 + 5 + 6 + 7);
        assertThat(r.errors()).isZero();
        assertThat(r.totalNanos()).isPositive();
        assertThat(r.p99Nanos()).isPositive().isLessThanOrEqualTo(r.maxNanos());
        assertThat(r.sources()).singleElement().satisfies(src -> {
            assertThat(src.database()).isEqualTo(TestPostgres.DATABASE);
            assertThat(src.user()).isEqualTo(TestPostgres.APP_USER);
            assertThat(src.application()).isEqualTo("stats-test");
            assertThat(src.calls()).isEqualTo(7);
        });
        assertThat(proxy.traffic().queries()).isGreaterThanOrEqualTo(7);
    }

    @ParameterizedTest(name = "{0} mode")
    @CsvSource({"TRANSACTION", "SESSION"})
    void serverPreparedStatementsAndBatchesCountEveryExecution(PoolMode mode) throws Exception {
        start(mode);
        try (Connection c = ProxyClients.connect(proxy, ProxyClients.props("prepareThreshold", "1"))) {
            try (PreparedStatement ps = c.prepareStatement("SELECT name FROM stats_items WHERE id = ?")) {
                for (int i = 1; i <= 12; i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).isEqualTo("item " + i);
                    }
                }
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("UPDATE stats_items SET name = name WHERE id = ?")) {
                for (int i = 1; i <= 5; i++) {
                    ps.setInt(1, i);
                    ps.addBatch();
                }
                assertThat(ps.executeBatch()).containsOnly(1);
            }
            c.commit();
        }
        QueryStats.Row select = row("SELECT name FROM stats_items WHERE id = ?");
        assertThat(select.calls()).isEqualTo(12);
        assertThat(select.rows()).isEqualTo(12);
        QueryStats.Row update = row("UPDATE stats_items SET name = name WHERE id = ?");
        assertThat(update.calls()).isEqualTo(5);
        assertThat(update.rows()).isEqualTo(5);
    }

    @ParameterizedTest(name = "preferQueryMode={0}")
    @CsvSource({"simple", "extended"})
    void errorsAreCountedBySqlStateAndTheSessionGoesOn(String queryMode) throws Exception {
        start(PoolMode.TRANSACTION);
        try (Connection c = ProxyClients.connect(proxy, ProxyClients.props("preferQueryMode", queryMode));
             Statement s = c.createStatement()) {
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(() -> s.executeQuery("SELECT 1 / 0 FROM stats_items WHERE id = 1"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("22012"));
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM stats_items")) {
                assertThat(rs.next()).isTrue();
            }
        }
        QueryStats.Row failing = row("SELECT ? / ? FROM stats_items WHERE id = ?");
        assertThat(failing.calls()).isEqualTo(3);
        assertThat(failing.errors()).isEqualTo(3);
        assertThat(failing.errorsBySqlState()).containsEntry("22012", 3L);
        assertThat(row("SELECT count(*) FROM stats_items").calls()).isEqualTo(1);
        assertThat(proxy.traffic().errors()).containsEntry("22012", 3L);
    }

    @Test
    void waitingForAServerConnectionIsChargedToTheStatement() throws Exception {
        proxy = ProxyServer.start(TestConfig.forPostgres(TestPostgres.shared()).poolSize(1).build());
        try (Connection holder = ProxyClients.connect(proxy); Connection waiter = ProxyClients.connect(proxy)) {
            holder.setAutoCommit(false);
            try (Statement s = holder.createStatement()) {
                s.execute("SELECT 1 FROM stats_items WHERE id = 1");
            }
            var result = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try (Statement s = waiter.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM stats_items WHERE id = 42")) {
                    return rs.next() ? rs.getInt(1) : -1;
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            dev.sluice.it.support.Await.until(java.time.Duration.ofSeconds(30),
                    () -> proxy.poolList().stream().anyMatch(p -> p.snapshot().waiting() == 1));
            holder.commit();
            assertThat(result.get(30, TimeUnit.SECONDS)).isEqualTo(42);
        }
        QueryStats.Row r = row("SELECT id FROM stats_items WHERE id = ?");
        assertThat(r.calls()).isEqualTo(1);
        assertThat(r.waitNanos()).isPositive().isLessThanOrEqualTo(r.totalNanos());
    }

    @Test
    void statisticsOff_recordNothingPerFingerprint_whileTrafficIsStillCounted() throws Exception {
        proxy = ProxyServer.start(TestConfig.forPostgres(TestPostgres.shared()).build()
                .withStats(new dev.sluice.config.SluiceConfig.StatsConfig(false, 100)));
        try (Connection c = ProxyClients.connect(proxy); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM stats_items")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isEqualTo(100);
        }
        assertThat(proxy.queryStats().size()).isZero();
        assertThat(proxy.traffic().queries()).isPositive();
    }
}

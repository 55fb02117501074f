package dev.sluice.it.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.config.SluiceConfig;
import dev.sluice.demo.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class PostgresSupportIT {

    @Test
    void shared_hasRolesWithTheirAuthenticationMethods() throws Exception {
        EmbeddedPostgres pg = TestPostgres.shared();
        assertThat(TestPostgres.shared()).isSameAs(pg);
        try (Connection c = TestPostgres.superuserConnection(); Statement s = c.createStatement()) {
            assertThat(scalar(s, "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'app'"))
                    .isEqualTo("t");
            assertThat(scalar(s, "SELECT rolpassword LIKE 'md5%' FROM pg_authid WHERE rolname = 'md5user'"))
                    .isEqualTo("t");
            assertThat(scalar(s, "SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'trustuser'"))
                    .isEqualTo("t");
        }
        assertThatThrownBy(() -> TestPostgres.connect(pg, "app", "wrong", "app"))
                .isInstanceOf(SQLException.class).hasMessageContaining("password authentication failed");
        assertThatThrownBy(() -> TestPostgres.connect(pg, "md5user", "wrong", "app"))
                .isInstanceOf(SQLException.class).hasMessageContaining("password authentication failed");
    }

    @Test
    void shared_everyRoleCanUseDatabaseApp() throws Exception {
        EmbeddedPostgres pg = TestPostgres.shared();
        try (Connection app = TestPostgres.connect(pg, "app", "app-secret", "app");
                Statement s = app.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS support_check (id serial PRIMARY KEY, who text)");
            s.execute("INSERT INTO support_check (who) VALUES (current_user)");
        }
        try (Connection md5 = TestPostgres.connect(pg, "md5user", "md5-secret", "app");
                Statement s = md5.createStatement()) {
            s.execute("INSERT INTO support_check (who) VALUES (current_user)");
            s.execute("CREATE TEMP TABLE scratch (x int)");
        }
        try (Connection trust = TestPostgres.connect(pg, "trustuser", null, "app");
                Statement s = trust.createStatement()) {
            s.execute("INSERT INTO support_check (who) VALUES (current_user)");
            assertThat(scalar(s, "SELECT count(DISTINCT who) FROM support_check")).isEqualTo("3");
            s.execute("CREATE TABLE trust_owned (x int)");
            s.execute("DROP TABLE trust_owned");
        }
        try (Connection app = TestPostgres.connect(pg, "app", "app-secret", "app");
                Statement s = app.createStatement()) {
            s.execute("DROP TABLE support_check");
        }
    }

    @Test
    void startTls_servesVerifiedTlsWithTheGeneratedCertificate() throws Exception {
        try (TlsPostgres tls = TestPostgres.startTls()) {
            assertThat(tls.certFile()).isRegularFile();
            assertThat(tls.keyFile()).isRegularFile();
            Properties p = new Properties();
            p.setProperty("user", "app");
            p.setProperty("password", "app-secret");
            p.setProperty("sslmode", "verify-full");
            p.setProperty("sslrootcert", tls.certFile().toString());
            try (Connection c = DriverManager.getConnection(
                    TestPostgres.jdbcUrl(tls.postgres(), "app"), p); Statement s = c.createStatement()) {
                assertThat(scalar(s, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).isEqualTo("t");
            }
        }
    }

    @Test
    void testConfig_pointsAtTheSharedServer() {
        SluiceConfig config = TestConfig.builder().poolSize(3).build();
        assertThat(config.database("app")).hasValueSatisfying(d -> {
            assertThat(d.port()).isEqualTo(TestPostgres.port());
            assertThat(d.dbname()).isEqualTo("app");
        });
        assertThat(config.user("md5user")).hasValueSatisfying(u -> assertThat(u.password()).isEqualTo("md5-secret"));
        assertThat(config.pool().size()).isEqualTo(3);
        assertThat(config.pool().mode()).isEqualTo(SluiceConfig.PoolMode.TRANSACTION);
        assertThat(config.listen().port()).isZero();
    }

    private static String scalar(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }
}

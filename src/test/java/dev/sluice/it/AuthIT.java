package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.AuthType;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Command;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import dev.sluice.protocol.auth.Md5Password;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

/** Client authentication to Sluice with pgjdbc and psql: each method, and each refusal's SQLSTATE and message. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AuthIT {

    @Test
    void scram_pgjdbcAndPsql() throws Exception {
        try (ProxyServer proxy = ProxyServer.start(TestConfig.builder().build())) {
            assertThat(currentUser(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD)).isEqualTo("app");
            assertPsqlSelects(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD);
        }
    }

    @Test
    void md5_configuredMethod_pgjdbcAndPsql() throws Exception {
        try (ProxyServer proxy = ProxyServer.start(TestConfig.builder().authType(AuthType.MD5).build())) {
            assertThat(currentUser(proxy, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD)).isEqualTo("md5user");
            assertPsqlSelects(proxy, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD);
            // md5 to Sluice, SCRAM from Sluice to PostgreSQL
            assertThat(currentUser(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD)).isEqualTo("app");
            assertPsqlSelects(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD);
            assertRefused(proxy, TestPostgres.MD5_USER, "wrong", "app", "28P01",
                    "password authentication failed for user \"md5user\"");
        }
    }

    @Test
    void md5_storedHashUnderScramConfiguration_fallsBackToMd5() throws Exception {
        String hash = Md5Password.storedHash(TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD);
        assertThat(hash).startsWith("md5").hasSize(35);
        SluiceConfig config = TestConfig.builder().authType(AuthType.SCRAM_SHA_256)
                .user(TestPostgres.MD5_USER, hash).build();
        try (ProxyServer proxy = ProxyServer.start(config)) {
            assertThat(currentUser(proxy, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD)).isEqualTo("md5user");
            assertPsqlSelects(proxy, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD);
            assertRefused(proxy, TestPostgres.MD5_USER, "md5-wrong", "app", "28P01",
                    "password authentication failed for user \"md5user\"");
        }
    }

    @Test
    void trust_acceptsWithoutPassword() throws Exception {
        try (ProxyServer proxy = ProxyServer.start(TestConfig.builder().authType(AuthType.TRUST).build())) {
            assertThat(currentUser(proxy, TestPostgres.TRUST_USER, null)).isEqualTo("trustuser");
            // Sluice trusts the client; it still logs in to PostgreSQL with the configured password
            assertThat(currentUser(proxy, TestPostgres.APP_USER, null)).isEqualTo("app");
            Command.Result r = psql(proxy, TestPostgres.TRUST_USER, null, "app", "select current_user");
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.stdout().strip()).isEqualTo("trustuser");
        }
    }

    @Test
    void wrongPassword_unknownUser_sameRefusal() throws Exception {
        try (ProxyServer proxy = ProxyServer.start(TestConfig.builder().build())) {
            assertRefused(proxy, TestPostgres.APP_USER, "wrong", "app", "28P01",
                    "password authentication failed for user \"app\"");
            assertRefused(proxy, "nobody", "whatever", "app", "28P01",
                    "password authentication failed for user \"nobody\"");
            Command.Result wrong = psql(proxy, TestPostgres.APP_USER, "wrong", "app", "select 1");
            Command.Result unknown = psql(proxy, "nobody", "whatever", "app", "select 1");
            assertThat(wrong.exitCode()).as(wrong.toString()).isEqualTo(2);
            assertThat(unknown.exitCode()).as(unknown.toString()).isEqualTo(2);
            assertThat(wrong.stderr()).contains("FATAL:  password authentication failed for user \"app\"");
            assertThat(unknown.stderr()).contains("FATAL:  password authentication failed for user \"nobody\"");
            // the same shape: only the user name differs
            assertThat(unknown.stderr().replace("nobody", "app")).isEqualTo(wrong.stderr());
            assertThat(wrong.stdout()).isEmpty();
            // and the proxy still serves
            assertThat(currentUser(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD)).isEqualTo("app");
        }
    }

    @Test
    void unknownDatabase_3D000() throws Exception {
        try (ProxyServer proxy = ProxyServer.start(TestConfig.builder().build())) {
            assertRefused(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "nosuchdb", "3D000",
                    "database \"nosuchdb\" does not exist");
            Command.Result r = psql(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "nosuchdb", "select 1");
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
            assertThat(r.stderr()).contains("database \"nosuchdb\" does not exist");
        }
    }

    private static String currentUser(ProxyServer proxy, String user, String password) throws SQLException {
        try (Connection c = ProxyClients.connect(proxy, user, password, TestPostgres.DATABASE, new Properties());
                Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user")) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    private static void assertRefused(ProxyServer proxy, String user, String password, String database,
            String sqlState, String message) {
        assertThatThrownBy(() -> ProxyClients.connect(proxy, user, password, database, new Properties()).close())
                .isInstanceOfSatisfying(PSQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo(sqlState);
                    assertThat(e.getServerErrorMessage()).isNotNull();
                    assertThat(e.getServerErrorMessage().getMessage()).isEqualTo(message);
                    assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
                });
    }

    private static void assertPsqlSelects(ProxyServer proxy, String user, String password) {
        Command.Result r = psql(proxy, user, password, "app", "select 1");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout().strip()).isEqualTo("1");
    }

    static Command.Result psql(ProxyServer proxy, String user, String password, String database, String sql) {
        Map<String, String> env = new HashMap<>();
        env.put("PGCONNECT_TIMEOUT", "10");
        if (password != null) {
            env.put("PGPASSWORD", password);
        }
        List<String> cmd = new ArrayList<>(List.of("psql", "-X", "-w", "-At", "-h", "127.0.0.1",
                "-p", String.valueOf(proxy.port()), "-U", user, "-d", database, "-c", sql));
        return Command.run(cmd, env, null, Duration.ofSeconds(30));
    }
}

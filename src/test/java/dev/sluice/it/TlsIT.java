package dev.sluice.it;

import static dev.sluice.it.support.ProxyClients.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.config.SluiceConfig.ClientTls;
import dev.sluice.config.SluiceConfig.ClientTlsMode;
import dev.sluice.config.SluiceConfig.ServerTls;
import dev.sluice.config.SluiceConfig.ServerTlsMode;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Command;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.TestCertificates;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import dev.sluice.it.support.TlsPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

/** TLS on both sides of Sluice: clients to Sluice (allow, require) and Sluice to PostgreSQL (require, verify-full). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsIT {

    private static TestCertificates.SelfSigned cert;

    @BeforeAll
    static void certificate() throws Exception {
        cert = TestCertificates.selfSigned();
    }

    @AfterAll
    static void deleteCertificate() {
        if (cert != null) {
            cert.close();
        }
    }

    private static ClientTls clientTls(ClientTlsMode mode) {
        return new ClientTls(mode, Optional.of(cert.certFile().toString()), Optional.of(cert.keyFile().toString()));
    }

    @Test
    void clientTlsAllow_encryptedAndPlainClientsBothServed() throws Exception {
        try (ProxyServer proxy = ProxyServer.start(TestConfig.builder().clientTls(clientTls(ClientTlsMode.ALLOW)).build())) {
            assertThat(select(ProxyClients.connect(proxy, props("sslmode", "require")))).isEqualTo("1");
            // verify-full succeeds only over TLS with Sluice's certificate
            assertThat(select(ProxyClients.connect(proxy, props("sslmode", "verify-full",
                    "sslrootcert", cert.certFile().toString())))).isEqualTo("1");
            assertThat(select(ProxyClients.connect(proxy, props("sslmode", "disable")))).isEqualTo("1");

            Command.Result tls = psql(proxy, "require", "\\conninfo");
            assertThat(tls.exitCode()).as(tls.toString()).isZero();
            assertThat(tls.stdout()).contains("SSL connection (protocol: TLS");
            Command.Result plain = psql(proxy, "disable", "\\conninfo");
            assertThat(plain.exitCode()).as(plain.toString()).isZero();
            assertThat(plain.stdout()).doesNotContain("SSL connection");
            Command.Result query = psql(proxy, "verify-full", "select 40 + 2");
            assertThat(query.exitCode()).as(query.toString()).isZero();
            assertThat(query.stdout().strip()).isEqualTo("42");
        }
    }

    @Test
    void clientTlsRequire_plaintextClientRefused() throws Exception {
        try (ProxyServer proxy = ProxyServer.start(TestConfig.builder().clientTls(clientTls(ClientTlsMode.REQUIRE)).build())) {
            assertThat(select(ProxyClients.connect(proxy, props("sslmode", "require")))).isEqualTo("1");
            assertThatThrownBy(() -> ProxyClients.connect(proxy, props("sslmode", "disable")).close())
                    .isInstanceOfSatisfying(PSQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("28000");
                        assertThat(e.getMessage()).contains("requires TLS");
                    });
            Command.Result tls = psql(proxy, "require", "select 1");
            assertThat(tls.exitCode()).as(tls.toString()).isZero();
            Command.Result plain = psql(proxy, "disable", "select 1");
            assertThat(plain.exitCode()).as(plain.toString()).isEqualTo(2);
            assertThat(plain.stderr()).contains("requires TLS");
        }
    }

    @Test
    void serverTlsRequire_serverConnectionIsEncrypted() throws Exception {
        TlsPostgres pg = TestPostgres.sharedTls();
        ServerTls tls = new ServerTls(ServerTlsMode.REQUIRE, Optional.empty());
        try (ProxyServer proxy = ProxyServer.start(TestConfig.forPostgres(pg.postgres()).serverTls(tls).build())) {
            assertThat(serverSsl(proxy)).isEqualTo("t");
        }
    }

    @Test
    void serverTlsVerifyFull_withTheCa_isEncrypted() throws Exception {
        TlsPostgres pg = TestPostgres.sharedTls();
        ServerTls tls = new ServerTls(ServerTlsMode.VERIFY_FULL, Optional.of(pg.certFile().toString()));
        try (ProxyServer proxy = ProxyServer.start(TestConfig.forPostgres(pg.postgres()).serverTls(tls)
                .clientTls(clientTls(ClientTlsMode.REQUIRE)).build())) {
            assertThat(serverSsl(proxy)).isEqualTo("t");
            try (Connection c = ProxyClients.connect(proxy, props("sslmode", "require"))) {
                assertThat(select(c)).isEqualTo("1");
            }
        }
    }

    @Test
    void serverTlsVerifyFull_withAnotherCa_refusesTheServer() throws Exception {
        TlsPostgres pg = TestPostgres.sharedTls();
        // Sluice's client certificate is a different self-signed one: not the server's CA
        ServerTls tls = new ServerTls(ServerTlsMode.VERIFY_FULL, Optional.of(cert.certFile().toString()));
        try (ProxyServer proxy = ProxyServer.start(TestConfig.forPostgres(pg.postgres()).serverTls(tls)
                .connectTimeout(Duration.ofSeconds(3)).acquireTimeout(Duration.ofSeconds(5)).build())) {
            assertThatThrownBy(() -> serverSsl(proxy)).isInstanceOfSatisfying(PSQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("08006"));
        }
    }

    @Test
    void serverTlsDisable_serverConnectionIsPlain() throws Exception {
        TlsPostgres pg = TestPostgres.sharedTls();
        try (ProxyServer proxy = ProxyServer.start(TestConfig.forPostgres(pg.postgres()).build())) {
            assertThat(serverSsl(proxy)).isEqualTo("f");
        }
    }

    private static String serverSsl(ProxyServer proxy) throws SQLException {
        try (Connection c = ProxyClients.connect(proxy, new Properties()); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    private static String select(Connection c) throws SQLException {
        try (c; Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    private static Command.Result psql(ProxyServer proxy, String sslmode, String command) {
        return Command.run(List.of("psql", "-X", "-w", "-At", "-h", "127.0.0.1", "-p", String.valueOf(proxy.port()),
                        "-U", TestPostgres.APP_USER, "-d", TestPostgres.DATABASE, "-c", command),
                Map.of("PGPASSWORD", TestPostgres.APP_PASSWORD, "PGSSLMODE", sslmode,
                        "PGSSLROOTCERT", cert.certFile().toString(), "PGCONNECT_TIMEOUT", "10"),
                null, Duration.ofSeconds(30));
    }
}

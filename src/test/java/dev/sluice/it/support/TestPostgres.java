package dev.sluice.it.support;

import dev.sluice.demo.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * Real PostgreSQL servers for integration tests, all prepared the same way:
 * <ul>
 *   <li>superuser {@code postgres}, no password, trusted on 127.0.0.1 (setup and inspection only);</li>
 *   <li>{@value #APP_USER} / {@value #APP_PASSWORD}, authenticated with scram-sha-256;</li>
 *   <li>{@value #MD5_USER} / {@value #MD5_PASSWORD}, stored as an md5 hash and authenticated with md5;</li>
 *   <li>{@value #TRUST_USER}, trusted (no password);</li>
 *   <li>database {@value #DATABASE} owned by {@value #APP_USER}; all three roles may connect and
 *       create objects in its {@code public} schema, and get all rights on the tables and
 *       sequences {@value #APP_USER} creates there.</li>
 * </ul>
 * {@link #shared()} is one lazily started server per test JVM, closed by a shutdown hook: do not
 * stop it, and leave it as you found it. Tests that stop, restart or break PostgreSQL take their
 * own with {@link #startSeparate()} and close it. {@link #startTls()} adds TLS.
 */
public final class TestPostgres {

    public static final String SUPERUSER = "postgres";
    public static final String APP_USER = "app";
    public static final String APP_PASSWORD = "app-secret";
    public static final String MD5_USER = "md5user";
    public static final String MD5_PASSWORD = "md5-secret";
    public static final String TRUST_USER = "trustuser";
    /** PostgreSQL trusts {@value #TRUST_USER} and ignores passwords; this one is for Sluice's own client auth. */
    public static final String TRUST_PASSWORD = "trust-secret";
    public static final String DATABASE = "app";

    private static EmbeddedPostgres shared;
    private static TlsPostgres sharedTls;

    private TestPostgres() {
    }

    /** The shared server, started on first use. */
    public static synchronized EmbeddedPostgres shared() {
        if (shared == null) {
            try {
                shared = startSeparate();
            } catch (IOException e) {
                throw new UncheckedIOException("could not start the shared test PostgreSQL", e);
            }
        }
        return shared;
    }

    /** The shared TLS-enabled server (a different instance from {@link #shared()}), started on first use. */
    public static synchronized TlsPostgres sharedTls() {
        if (sharedTls == null) {
            try {
                sharedTls = startTls();
                // the server itself is closed by EmbeddedPostgres's hook; its certificate files by this one
                TestCertificates.SelfSigned cert = sharedTls.certificate();
                Runtime.getRuntime().addShutdownHook(new Thread(cert::close, "test-postgres-tls-cleanup"));
            } catch (IOException e) {
                throw new UncheckedIOException("could not start the shared TLS test PostgreSQL", e);
            }
        }
        return sharedTls;
    }

    /** Port of the shared server. */
    public static int port() {
        return shared().port();
    }

    /** Host of every test server: 127.0.0.1. */
    public static String host() {
        return shared().host();
    }

    /** A new server, prepared like the shared one, owned by the caller (close it). */
    public static EmbeddedPostgres startSeparate() throws IOException {
        return prepare(builder());
    }

    /**
     * A new TLS-enabled server ({@code ssl = on}; plain connections are still accepted), with a
     * fresh self-signed certificate for {@code localhost} and {@code 127.0.0.1}, owned by the
     * caller (close it).
     */
    public static TlsPostgres startTls() throws IOException {
        TestCertificates.SelfSigned cert = TestCertificates.selfSigned();
        try {
            EmbeddedPostgres pg = prepare(builder().tls(cert.certFile(), cert.keyFile()));
            return new TlsPostgres(pg, cert);
        } catch (IOException | RuntimeException e) {
            cert.close();
            throw e;
        }
    }

    /** A superuser connection to database {@code postgres} of the shared server. */
    public static Connection superuserConnection() throws SQLException {
        return superuserConnection(shared(), "postgres");
    }

    /** A superuser connection to {@code database} of {@code pg}. */
    public static Connection superuserConnection(EmbeddedPostgres pg, String database) throws SQLException {
        return connect(pg, SUPERUSER, null, database);
    }

    /** A direct (not through Sluice) connection to {@code pg}. */
    public static Connection connect(EmbeddedPostgres pg, String user, String password, String database)
            throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null) {
            props.setProperty("password", password);
        }
        return DriverManager.getConnection(jdbcUrl(pg, database), props);
    }

    /** {@code jdbc:postgresql://127.0.0.1:PORT/DATABASE} */
    public static String jdbcUrl(EmbeddedPostgres pg, String database) {
        return "jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/" + database;
    }

    private static EmbeddedPostgres.Builder builder() {
        return EmbeddedPostgres.builder()
                .hbaLine("local all all trust")
                .hbaLine("host all " + SUPERUSER + " 127.0.0.1/32 trust")
                .hbaLine("host all " + APP_USER + " 127.0.0.1/32 scram-sha-256")
                .hbaLine("host all " + MD5_USER + " 127.0.0.1/32 md5")
                .hbaLine("host all " + TRUST_USER + " 127.0.0.1/32 trust")
                .hbaLine("host all all 127.0.0.1/32 scram-sha-256")
                .initSql("CREATE ROLE " + APP_USER + " LOGIN PASSWORD '" + APP_PASSWORD + "'")
                .initSql("SET password_encryption = 'md5'; CREATE ROLE " + MD5_USER + " LOGIN PASSWORD '"
                        + MD5_PASSWORD + "'")
                .initSql("CREATE ROLE " + TRUST_USER + " LOGIN")
                .initSql("CREATE DATABASE " + DATABASE + " OWNER " + APP_USER)
                .initSql("GRANT ALL ON DATABASE " + DATABASE + " TO " + MD5_USER + ", " + TRUST_USER);
    }

    private static EmbeddedPostgres prepare(EmbeddedPostgres.Builder builder) throws IOException {
        EmbeddedPostgres pg = builder.start();
        try (Connection c = superuserConnection(pg, DATABASE); Statement s = c.createStatement()) {
            String others = MD5_USER + ", " + TRUST_USER;
            s.execute("GRANT ALL ON SCHEMA public TO " + others);
            s.execute("ALTER DEFAULT PRIVILEGES FOR ROLE " + APP_USER + " IN SCHEMA public GRANT ALL ON TABLES TO " + others);
            s.execute("ALTER DEFAULT PRIVILEGES FOR ROLE " + APP_USER + " IN SCHEMA public GRANT ALL ON SEQUENCES TO " + others);
        } catch (SQLException | RuntimeException e) {
            pg.close();
            throw new IOException("could not prepare database " + DATABASE + ": " + e.getMessage(), e);
        }
        return pg;
    }
}

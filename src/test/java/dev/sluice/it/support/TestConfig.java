package dev.sluice.it.support;

import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.AuthType;
import dev.sluice.config.SluiceConfig.ClientTls;
import dev.sluice.config.SluiceConfig.ClientTlsMode;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.HostPort;
import dev.sluice.config.SluiceConfig.IoTransport;
import dev.sluice.config.SluiceConfig.PoolConfig;
import dev.sluice.config.SluiceConfig.PoolMode;
import dev.sluice.config.SluiceConfig.ServerTls;
import dev.sluice.config.SluiceConfig.ServerTlsMode;
import dev.sluice.config.SluiceConfig.UserConfig;
import dev.sluice.demo.EmbeddedPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Builds a {@link SluiceConfig} for tests directly (no YAML). Defaults: listen and admin on
 * 127.0.0.1:0, scram-sha-256 client auth, one database {@code app} pointing at a
 * {@link TestPostgres} server, the three {@link TestPostgres} users with their passwords, pool mode
 * transaction, size 10, minIdle 0, maxClientConn 5000, acquireTimeout 10 s, connectTimeout 5 s,
 * serverLifetime 1 h, serverIdleTimeout 10 min, serverCheckDelay 30 s, idleInTransactionTimeout 0,
 * reset query {@code DISCARD ALL}, prepared-statement cache 1024, TLS disabled both ways,
 * maxMessageLength 64 MiB, shutdownTimeout 10 s, 2 I/O threads, io_transport auto.
 */
public final class TestConfig {

    private HostPort listen = new HostPort("127.0.0.1", 0);
    private HostPort adminListen = new HostPort("127.0.0.1", 0);
    private AuthType authType = AuthType.SCRAM_SHA_256;
    private final List<UserConfig> users = new ArrayList<>(List.of(
            new UserConfig(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD),
            new UserConfig(TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD),
            new UserConfig(TestPostgres.TRUST_USER, TestPostgres.TRUST_PASSWORD)));
    private final List<DatabaseConfig> databases = new ArrayList<>();
    private PoolMode poolMode = PoolMode.TRANSACTION;
    private int poolSize = 10;
    private int minIdle = 0;
    private int maxClientConn = 5000;
    private Duration acquireTimeout = Duration.ofSeconds(10);
    private Duration connectTimeout = Duration.ofSeconds(5);
    private Duration serverLifetime = Duration.ofHours(1);
    private Duration serverIdleTimeout = Duration.ofMinutes(10);
    private Duration serverCheckDelay = Duration.ofSeconds(30);
    private Duration idleInTransactionTimeout = Duration.ZERO;
    private String serverResetQuery = "DISCARD ALL";
    private int preparedStatementCacheSize = 1024;
    private ClientTls clientTls = new ClientTls(ClientTlsMode.DISABLE, Optional.empty(), Optional.empty());
    private ServerTls serverTls = new ServerTls(ServerTlsMode.DISABLE, Optional.empty());
    private int maxMessageLength = 64 * 1024 * 1024;
    private Duration shutdownTimeout = Duration.ofSeconds(10);
    private int ioThreads = 2;
    private IoTransport ioTransport = transportFromProperty();

    private TestConfig(EmbeddedPostgres postgres) {
        databases.add(database(TestPostgres.DATABASE, postgres, TestPostgres.DATABASE));
    }

    /** Defaults, database {@code app} on the shared {@link TestPostgres#shared()} server. */
    public static TestConfig builder() {
        return new TestConfig(TestPostgres.shared());
    }

    /** Defaults, database {@code app} on {@code postgres}. */
    public static TestConfig forPostgres(EmbeddedPostgres postgres) {
        return new TestConfig(postgres);
    }

    /** A database entry named {@code name} for {@code dbname} on {@code postgres}, no overrides. */
    public static DatabaseConfig database(String name, EmbeddedPostgres postgres, String dbname) {
        return new DatabaseConfig(name, postgres.host(), postgres.port(), dbname,
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    public TestConfig listen(String host, int port) {
        this.listen = new HostPort(host, port);
        return this;
    }

    public TestConfig adminListen(String host, int port) {
        this.adminListen = new HostPort(host, port);
        return this;
    }

    public TestConfig authType(AuthType authType) {
        this.authType = authType;
        return this;
    }

    /** Replaces all users. */
    public TestConfig users(List<UserConfig> users) {
        this.users.clear();
        this.users.addAll(users);
        return this;
    }

    /** Adds a user, replacing one of the same name. */
    public TestConfig user(String name, String password) {
        users.removeIf(u -> u.name().equals(name));
        users.add(new UserConfig(name, password));
        return this;
    }

    /** Replaces all databases. */
    public TestConfig databases(List<DatabaseConfig> databases) {
        this.databases.clear();
        this.databases.addAll(databases);
        return this;
    }

    /** Adds a database entry, replacing one of the same name. */
    public TestConfig database(DatabaseConfig database) {
        databases.removeIf(d -> d.name().equals(database.name()));
        databases.add(database);
        return this;
    }

    public TestConfig poolMode(PoolMode poolMode) {
        this.poolMode = poolMode;
        return this;
    }

    public TestConfig poolSize(int poolSize) {
        this.poolSize = poolSize;
        return this;
    }

    public TestConfig minIdle(int minIdle) {
        this.minIdle = minIdle;
        return this;
    }

    public TestConfig maxClientConn(int maxClientConn) {
        this.maxClientConn = maxClientConn;
        return this;
    }

    public TestConfig acquireTimeout(Duration acquireTimeout) {
        this.acquireTimeout = acquireTimeout;
        return this;
    }

    public TestConfig connectTimeout(Duration connectTimeout) {
        this.connectTimeout = connectTimeout;
        return this;
    }

    public TestConfig serverLifetime(Duration serverLifetime) {
        this.serverLifetime = serverLifetime;
        return this;
    }

    public TestConfig serverIdleTimeout(Duration serverIdleTimeout) {
        this.serverIdleTimeout = serverIdleTimeout;
        return this;
    }

    public TestConfig serverCheckDelay(Duration serverCheckDelay) {
        this.serverCheckDelay = serverCheckDelay;
        return this;
    }

    public TestConfig idleInTransactionTimeout(Duration idleInTransactionTimeout) {
        this.idleInTransactionTimeout = idleInTransactionTimeout;
        return this;
    }

    public TestConfig serverResetQuery(String serverResetQuery) {
        this.serverResetQuery = serverResetQuery;
        return this;
    }

    public TestConfig preparedStatementCacheSize(int preparedStatementCacheSize) {
        this.preparedStatementCacheSize = preparedStatementCacheSize;
        return this;
    }

    public TestConfig clientTls(ClientTls clientTls) {
        this.clientTls = clientTls;
        return this;
    }

    public TestConfig serverTls(ServerTls serverTls) {
        this.serverTls = serverTls;
        return this;
    }

    public TestConfig maxMessageLength(int maxMessageLength) {
        this.maxMessageLength = maxMessageLength;
        return this;
    }

    public TestConfig shutdownTimeout(Duration shutdownTimeout) {
        this.shutdownTimeout = shutdownTimeout;
        return this;
    }

    public TestConfig ioThreads(int ioThreads) {
        this.ioThreads = ioThreads;
        return this;
    }

    /** The pool settings as they stand. */
    public PoolConfig pool() {
        return new PoolConfig(poolMode, poolSize, minIdle, maxClientConn, acquireTimeout, connectTimeout,
                serverLifetime, serverIdleTimeout, serverCheckDelay, idleInTransactionTimeout, serverResetQuery,
                preparedStatementCacheSize);
    }

    /** The network transport; {@code auto} unless set here or by {@code -Dsluice.test.io_transport=NAME}. */
    public TestConfig ioTransport(IoTransport ioTransport) {
        this.ioTransport = ioTransport;
        return this;
    }

    public SluiceConfig build() {
        return new SluiceConfig(listen, adminListen, authType, users, databases, pool(), clientTls, serverTls,
                maxMessageLength, shutdownTimeout, ioThreads).withIoTransport(ioTransport);
    }

    private static IoTransport transportFromProperty() {
        String name = System.getProperty("sluice.test.io_transport", "auto");
        for (IoTransport t : IoTransport.values()) {
            if (t.configName().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("sluice.test.io_transport: " + name);
    }
}

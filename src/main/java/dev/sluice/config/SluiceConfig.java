package dev.sluice.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The whole, validated configuration of one Sluice process. Immutable; built once by
 * {@link ConfigLoader} from defaults, the YAML file, {@code SLUICE_*} environment variables and
 * command-line flags (later sources win), then validated.
 *
 * @param listen           where clients connect (default 127.0.0.1:6432)
 * @param adminListen      admin HTTP API (default 127.0.0.1:6480)
 * @param authType         how clients authenticate to Sluice
 * @param users            users clients may log in as; with {@link AuthType#TRUST} any name is accepted
 * @param databases        databases clients may connect to; empty means "embedded demo"
 * @param pool             pool defaults, per database overridable
 * @param clientTls        TLS towards clients
 * @param serverTls        TLS towards PostgreSQL
 * @param maxMessageLength largest protocol message accepted after authentication, in bytes
 * @param shutdownTimeout  how long SIGTERM lets transactions in flight finish
 * @param ioThreads        Netty event-loop threads; 0 means one per two cores (at least one)
 * @param admission        who gets a server connection when there are not enough
 * @param console          who may use the admin console ({@code admin_users}, {@code stats_users})
 * @param admin            admin API settings besides its address (the bearer token)
 * @param logFormat        how log lines are written: text or one JSON object per line
 * @param reloadWatch      whether a change of the configuration file reloads it
 * @param alerts           alert rules and webhooks
 * @param ioTransport      which kernel interface the network threads use
 */
public record SluiceConfig(
        HostPort listen,
        HostPort adminListen,
        AuthType authType,
        List<UserConfig> users,
        List<DatabaseConfig> databases,
        PoolConfig pool,
        ClientTls clientTls,
        ServerTls serverTls,
        int maxMessageLength,
        Duration shutdownTimeout,
        int ioThreads,
        AdmissionConfig admission,
        StatsConfig stats,
        ConsoleConfig console,
        AdminConfig admin,
        LogFormat logFormat,
        boolean reloadWatch,
        AlertConfig alerts,
        IoTransport ioTransport) {

    public SluiceConfig {
        users = List.copyOf(users);
        databases = List.copyOf(databases);
    }

    /** Per-query statistics: whether statements are fingerprinted and timed, and how many fingerprints are kept. */
    public record StatsConfig(boolean enabled, int maxFingerprints) {
        public static StatsConfig defaults() {
            return new StatsConfig(true, 5000);
        }
    }

    /**
     * A configuration with the given admission settings and defaults for the rest: statistics
     * on, an admin console that admits nobody, no admin token, text logs, the file watched for
     * changes, the default alert rules.
     */
    public SluiceConfig(HostPort listen, HostPort adminListen, AuthType authType, List<UserConfig> users,
                        List<DatabaseConfig> databases, PoolConfig pool, ClientTls clientTls, ServerTls serverTls,
                        int maxMessageLength, Duration shutdownTimeout, int ioThreads, AdmissionConfig admission) {
        this(listen, adminListen, authType, users, databases, pool, clientTls, serverTls, maxMessageLength,
                shutdownTimeout, ioThreads, admission, StatsConfig.defaults(), ConsoleConfig.NONE, AdminConfig.none(),
                LogFormat.TEXT, true, AlertConfig.defaults(), IoTransport.AUTO);
    }

    /** A configuration with the default admission settings (every class waits {@code pool.acquire_timeout}). */
    public SluiceConfig(HostPort listen, HostPort adminListen, AuthType authType, List<UserConfig> users,
                        List<DatabaseConfig> databases, PoolConfig pool, ClientTls clientTls, ServerTls serverTls,
                        int maxMessageLength, Duration shutdownTimeout, int ioThreads) {
        this(listen, adminListen, authType, users, databases, pool, clientTls, serverTls, maxMessageLength,
                shutdownTimeout, ioThreads, AdmissionConfig.defaults(pool.acquireTimeout(), pool.maxClientConn()));
    }

    /** The same configuration with other admission settings. */
    public SluiceConfig withAdmission(AdmissionConfig a) {
        return new SluiceConfig(listen, adminListen, authType, users, databases, pool, clientTls, serverTls,
                maxMessageLength, shutdownTimeout, ioThreads, a, stats, console, admin, logFormat, reloadWatch, alerts, ioTransport);
    }

    /** The same configuration with other statistics settings. */
    public SluiceConfig withStats(StatsConfig s) {
        return new SluiceConfig(listen, adminListen, authType, users, databases, pool, clientTls, serverTls,
                maxMessageLength, shutdownTimeout, ioThreads, admission, s, console, admin, logFormat, reloadWatch, alerts, ioTransport);
    }

    /** The same configuration with other admin console users. */
    public SluiceConfig withConsole(ConsoleConfig c) {
        return new SluiceConfig(listen, adminListen, authType, users, databases, pool, clientTls, serverTls,
                maxMessageLength, shutdownTimeout, ioThreads, admission, stats, c, admin, logFormat, reloadWatch, alerts, ioTransport);
    }

    /** The same configuration with other admin API settings. */
    public SluiceConfig withAdmin(AdminConfig a) {
        return new SluiceConfig(listen, adminListen, authType, users, databases, pool, clientTls, serverTls,
                maxMessageLength, shutdownTimeout, ioThreads, admission, stats, console, a, logFormat, reloadWatch, alerts, ioTransport);
    }

    /** The same configuration on another network transport. */
    public SluiceConfig withIoTransport(IoTransport t) {
        return new SluiceConfig(listen, adminListen, authType, users, databases, pool, clientTls, serverTls,
                maxMessageLength, shutdownTimeout, ioThreads, admission, stats, console, admin, logFormat, reloadWatch, alerts, t);
    }

    /** The same configuration with other alert settings. */
    public SluiceConfig withAlerts(AlertConfig a) {
        return new SluiceConfig(listen, adminListen, authType, users, databases, pool, clientTls, serverTls,
                maxMessageLength, shutdownTimeout, ioThreads, admission, stats, console, admin, logFormat, reloadWatch, a, ioTransport);
    }

    /** The user entry with this name, if configured. */
    public Optional<UserConfig> user(String name) {
        for (UserConfig u : users) {
            if (u.name().equals(name)) {
                return Optional.of(u);
            }
        }
        return Optional.empty();
    }

    /** The database entry clients address by this name, if configured. */
    public Optional<DatabaseConfig> database(String name) {
        for (DatabaseConfig d : databases) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /** A host and port to listen on or connect to. */
    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
        }
    }

    /** Client authentication method, as in pg_hba.conf. */
    public enum AuthType {
        SCRAM_SHA_256("scram-sha-256"), MD5("md5"), TRUST("trust");

        private final String configName;

        AuthType(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }

    /** Pooling mode: a server connection per client session, or per transaction. */
    public enum PoolMode {
        SESSION("session"), TRANSACTION("transaction");

        private final String configName;

        PoolMode(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }

    /**
     * A user clients may log in as.
     *
     * @param name     the user name
     * @param password a plain password, an md5 hash ({@code md5...}) or a SCRAM verifier
     *                 ({@code SCRAM-SHA-256$...}); Sluice can log in to PostgreSQL for this user only
     *                 with a plain password (or when PostgreSQL trusts it)
     */
    public record UserConfig(String name, String password) {
        @Override
        public String toString() {
            return "UserConfig[name=" + name + ", password=***]";
        }
    }

    /**
     * One upstream database as clients see it.
     *
     * @param name     the name clients use in their connection string
     * @param host     PostgreSQL host
     * @param port     PostgreSQL port
     * @param dbname   the database name on PostgreSQL (defaults to {@code name})
     * @param user     if set, every client of this database logs in to PostgreSQL as this user
     * @param password password for {@code user}
     * @param poolMode overrides {@link PoolConfig#mode()} when set
     * @param poolSize overrides {@link PoolConfig#size()} when set
     */
    public record DatabaseConfig(
            String name, String host, int port, String dbname,
            Optional<String> user, Optional<String> password,
            Optional<PoolMode> poolMode, Optional<Integer> poolSize) {
        @Override
        public String toString() {
            return "DatabaseConfig[name=" + name + ", host=" + host + ", port=" + port + ", dbname=" + dbname
                    + ", user=" + user.orElse("-") + ", poolMode=" + poolMode.map(PoolMode::configName).orElse("-")
                    + ", poolSize=" + poolSize.map(String::valueOf).orElse("-") + "]";
        }
    }

    /**
     * Pool settings.
     *
     * @param mode                     session or transaction pooling (default transaction)
     * @param size                     server connections per (database, user) (default 20)
     * @param minIdle                  idle server connections kept open per pool (default 0)
     * @param maxClientConn            client connections accepted in total (default 5000)
     * @param acquireTimeout           longest wait for a server connection (default 30 s)
     * @param connectTimeout           longest TCP connect plus login to PostgreSQL (default 5 s)
     * @param serverLifetime           a server connection older than this is closed when released (default 1 h; 0 = never)
     * @param serverIdleTimeout        an idle server connection is closed after this (default 10 min; 0 = never)
     * @param serverCheckDelay         a server idle for longer is health-checked before reuse (default 30 s; 0 = always)
     * @param idleInTransactionTimeout a client idle inside a transaction for longer is disconnected (default 0 = off)
     * @param serverResetQuery         run when a session-mode client releases its server (default DISCARD ALL)
     * @param preparedStatementCacheSize prepared statements kept per server connection in transaction mode (default 1024)
     */
    public record PoolConfig(
            PoolMode mode, int size, int minIdle, int maxClientConn,
            Duration acquireTimeout, Duration connectTimeout, Duration serverLifetime,
            Duration serverIdleTimeout, Duration serverCheckDelay, Duration idleInTransactionTimeout,
            String serverResetQuery, int preparedStatementCacheSize) {
    }

    /**
     * Who may use the admin console (database {@code sluice} or {@code pgbouncer}), as PgBouncer's
     * settings of the same names. Both log in like any user (they must be in {@code users}).
     *
     * @param adminUsers may run every console command
     * @param statsUsers may run the SHOW commands only
     */
    public record ConsoleConfig(List<String> adminUsers, List<String> statsUsers) {
        /** Nobody may use the console. */
        public static final ConsoleConfig NONE = new ConsoleConfig(List.of(), List.of());

        public ConsoleConfig {
            adminUsers = List.copyOf(adminUsers);
            statsUsers = List.copyOf(statsUsers);
        }

        /** Whether {@code user} may log in to the console at all. */
        public boolean allows(String user) {
            return adminUsers.contains(user) || statsUsers.contains(user);
        }

        /** Whether {@code user} may run every command (not only SHOW). */
        public boolean isAdmin(String user) {
            return adminUsers.contains(user);
        }
    }

    /** TLS towards clients: {@code disable}, {@code allow} (client chooses) or {@code require}. */
    public record ClientTls(ClientTlsMode mode, Optional<String> certFile, Optional<String> keyFile) {
    }

    public enum ClientTlsMode { DISABLE, ALLOW, REQUIRE }

    /** TLS towards PostgreSQL, with libpq's sslmode names. */
    public record ServerTls(ServerTlsMode mode, Optional<String> caFile) {
    }

    public enum ServerTlsMode { DISABLE, PREFER, REQUIRE, VERIFY_FULL }

    /**
     * The kernel interface of the network threads: {@code io_uring} submits a whole round of
     * socket reads and writes in one system call; {@code epoll} is the classic readiness loop;
     * {@code nio} is the JDK's portable selector. {@code auto} takes io_uring, else epoll,
     * else NIO.
     */
    public enum IoTransport {
        AUTO("auto"), IO_URING("io_uring"), EPOLL("epoll"), NIO("nio");

        private final String configName;

        IoTransport(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }

    /** Log output: human-readable lines, or one JSON object per line for log shippers. */
    public enum LogFormat {
        TEXT("text"), JSON("json");

        private final String configName;

        LogFormat(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }
}

package dev.sluice.config;

import dev.sluice.admission.Priority;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.PoolConfig;
import dev.sluice.config.SluiceConfig.UserConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a reload changes: the keys whose new values take effect while Sluice runs, the keys that
 * changed but take effect only after a restart, and the configuration to run with meanwhile
 * ({@link #effective()}: the new values of the first kind, the running values of the second), so
 * that {@code ProxyServer.config()} always tells what is in force and the next reload names the
 * restart keys again until the process restarts.
 *
 * <p>Which keys are live is decided here, per key; {@code docs/configuration.md} (section
 * "Reloading") lists the same decisions. Keys are named as in the file: {@code pool.size},
 * {@code admission.wait_timeout.high}, {@code users[NAME]} (added, removed or password changed),
 * {@code databases[NAME]} (added or removed), {@code databases[NAME].FIELD}.
 *
 * <p>Restart only: {@code listen}, {@code admin_listen}, {@code io_threads} (bound sockets and
 * threads), {@code tls.*} (TLS contexts are built at start), {@code pool.mode} and a database's
 * {@code pool_mode} (a pool's connections are handled by one mode for their life),
 * a database's {@code host} and {@code port} (its pools share an upstream's breaker and limit),
 * {@code admission.adaptive_limit}, {@code admission.min_limit}, {@code admission.breaker_failures},
 * {@code admission.breaker_cool_down} and {@code admission.shares} (state of each upstream built
 * at its first use), {@code stats.max_fingerprints} (the store is sized at start) and
 * {@code admin_token} (the admin server checks the token it started with).
 * Everything else is live.
 *
 * @param effective   the configuration to run with after the reload
 * @param applied     keys whose new values take effect now
 * @param needRestart keys that changed but keep their running values until a restart
 */
public record ConfigChange(SluiceConfig effective, List<String> applied, List<String> needRestart) {

    public ConfigChange {
        applied = List.copyOf(applied);
        needRestart = List.copyOf(needRestart);
    }

    /** Compares the running configuration with a newly loaded one. */
    public static ConfigChange between(SluiceConfig running, SluiceConfig loaded) {
        Diff d = new Diff();
        d.restart(Setting.LISTEN, running.listen(), loaded.listen());
        d.restart(Setting.ADMIN_LISTEN, running.adminListen(), loaded.adminListen());
        d.live(Setting.AUTH_TYPE, running.authType(), loaded.authType());
        d.live(Setting.MAX_MESSAGE_LENGTH, running.maxMessageLength(), loaded.maxMessageLength());
        d.live(Setting.SHUTDOWN_TIMEOUT, running.shutdownTimeout(), loaded.shutdownTimeout());
        d.restart(Setting.IO_THREADS, running.ioThreads(), loaded.ioThreads());
        d.restart(Setting.IO_TRANSPORT, running.ioTransport(), loaded.ioTransport());

        PoolConfig rp = running.pool();
        PoolConfig lp = loaded.pool();
        d.restart(Setting.POOL_MODE, rp.mode(), lp.mode());
        d.live(Setting.POOL_SIZE, rp.size(), lp.size());
        d.live(Setting.POOL_MIN_IDLE, rp.minIdle(), lp.minIdle());
        d.live(Setting.POOL_MAX_CLIENT_CONN, rp.maxClientConn(), lp.maxClientConn());
        d.live(Setting.POOL_ACQUIRE_TIMEOUT, rp.acquireTimeout(), lp.acquireTimeout());
        d.live(Setting.POOL_CONNECT_TIMEOUT, rp.connectTimeout(), lp.connectTimeout());
        d.live(Setting.POOL_SERVER_LIFETIME, rp.serverLifetime(), lp.serverLifetime());
        d.live(Setting.POOL_SERVER_IDLE_TIMEOUT, rp.serverIdleTimeout(), lp.serverIdleTimeout());
        d.live(Setting.POOL_SERVER_CHECK_DELAY, rp.serverCheckDelay(), lp.serverCheckDelay());
        d.live(Setting.POOL_IDLE_IN_TRANSACTION_TIMEOUT, rp.idleInTransactionTimeout(), lp.idleInTransactionTimeout());
        d.live(Setting.POOL_SERVER_RESET_QUERY, rp.serverResetQuery(), lp.serverResetQuery());
        d.live(Setting.POOL_PREPARED_STATEMENT_CACHE_SIZE, rp.preparedStatementCacheSize(),
                lp.preparedStatementCacheSize());

        d.restart(Setting.TLS_CLIENT_MODE, running.clientTls().mode(), loaded.clientTls().mode());
        d.restart(Setting.TLS_CLIENT_CERT_FILE, running.clientTls().certFile(), loaded.clientTls().certFile());
        d.restart(Setting.TLS_CLIENT_KEY_FILE, running.clientTls().keyFile(), loaded.clientTls().keyFile());
        d.restart(Setting.TLS_SERVER_MODE, running.serverTls().mode(), loaded.serverTls().mode());
        d.restart(Setting.TLS_SERVER_CA_FILE, running.serverTls().caFile(), loaded.serverTls().caFile());

        AdmissionConfig ra = running.admission();
        AdmissionConfig la = loaded.admission();
        d.live(Setting.ADMISSION_QUEUE_SIZE, ra.queueSize(), la.queueSize());
        for (Priority p : Priority.values()) {
            d.live("admission.wait_timeout." + p.configName(), ra.waitTimeouts().get(p), la.waitTimeouts().get(p));
        }
        d.live(Setting.ADMISSION_AGING_STEP, ra.agingStep(), la.agingStep());
        d.live(Setting.ADMISSION_PRIORITY_RULES, ra.rules(), la.rules());
        d.live(Setting.ADMISSION_DEFAULT_PRIORITY, ra.defaultPriority(), la.defaultPriority());
        d.restart(Setting.ADMISSION_ADAPTIVE_LIMIT, ra.adaptiveLimit(), la.adaptiveLimit());
        d.restart(Setting.ADMISSION_MIN_LIMIT, ra.minLimit(), la.minLimit());
        d.restart(Setting.ADMISSION_BREAKER_FAILURES, ra.breakerFailures(), la.breakerFailures());
        d.restart(Setting.ADMISSION_BREAKER_COOL_DOWN, ra.breakerCoolDown(), la.breakerCoolDown());
        d.live(Setting.ADMISSION_RATE_LIMIT, ra.rateLimit(), la.rateLimit());
        d.live(Setting.ADMISSION_RATE_BURST, ra.rateBurst(), la.rateBurst());
        d.live(Setting.ADMISSION_MODE, ra.forcedMode(), la.forcedMode());
        d.live(Setting.ADMISSION_RETRY_ATTEMPTS, ra.retryAttempts(), la.retryAttempts());
        d.restart(Setting.ADMISSION_SHARES, ra.shares(), la.shares());
        d.live(Setting.ADMISSION_RESERVED_CONNECTIONS, ra.reservedConnections(), la.reservedConnections());
        d.live(Setting.ADMISSION_DEGRADED_WAIT, ra.degradedWait(), la.degradedWait());
        d.live(Setting.ADMISSION_EMERGENCY_WAIT, ra.emergencyWait(), la.emergencyWait());

        d.live(Setting.STATS_ENABLED, running.stats().enabled(), loaded.stats().enabled());
        d.restart(Setting.STATS_MAX_FINGERPRINTS, running.stats().maxFingerprints(), loaded.stats().maxFingerprints());
        d.live(Setting.ADMIN_USERS, running.console().adminUsers(), loaded.console().adminUsers());
        d.live(Setting.STATS_USERS, running.console().statsUsers(), loaded.console().statsUsers());
        d.restart(Setting.ADMIN_TOKEN, running.admin(), loaded.admin());
        // the alert engine keeps the rules and webhooks it started with
        d.restart("alerts", running.alerts(), loaded.alerts());

        d.live(Setting.LOG_FORMAT, running.logFormat(), loaded.logFormat());
        d.live(Setting.RELOAD_WATCH, running.reloadWatch(), loaded.reloadWatch());

        users(d, running.users(), loaded.users());
        List<DatabaseConfig> databases = databases(d, running.databases(), loaded.databases());

        PoolConfig pool = new PoolConfig(rp.mode(), lp.size(), lp.minIdle(), lp.maxClientConn(), lp.acquireTimeout(),
                lp.connectTimeout(), lp.serverLifetime(), lp.serverIdleTimeout(), lp.serverCheckDelay(),
                lp.idleInTransactionTimeout(), lp.serverResetQuery(), lp.preparedStatementCacheSize());
        AdmissionConfig admission = new AdmissionConfig(la.queueSize(), la.waitTimeouts(), la.agingStep(), la.rules(),
                la.defaultPriority(), ra.adaptiveLimit(), ra.minLimit(), ra.breakerFailures(), ra.breakerCoolDown(),
                la.rateLimit(), la.rateBurst(), la.forcedMode(), la.retryAttempts(), ra.shares(),
                la.reservedConnections(), la.degradedWait(), la.emergencyWait());
        SluiceConfig effective = new SluiceConfig(running.listen(), running.adminListen(), loaded.authType(),
                loaded.users(), databases, pool, running.clientTls(), running.serverTls(), loaded.maxMessageLength(),
                loaded.shutdownTimeout(), running.ioThreads(), admission,
                new SluiceConfig.StatsConfig(loaded.stats().enabled(), running.stats().maxFingerprints()),
                loaded.console(), running.admin(), loaded.logFormat(), loaded.reloadWatch(), running.alerts(),
                running.ioTransport());
        return new ConfigChange(effective, d.applied, d.needRestart);
    }

    /** Whether nothing changed at all. */
    public boolean isEmpty() {
        return applied.isEmpty() && needRestart.isEmpty();
    }

    /** The report of a successful reload that made this change. */
    public ReloadReport report() {
        return new ReloadReport(true, applied, needRestart, null);
    }

    private static void users(Diff d, List<UserConfig> running, List<UserConfig> loaded) {
        Map<String, String> before = new LinkedHashMap<>();
        for (UserConfig u : running) {
            before.put(u.name(), u.password());
        }
        Map<String, String> after = new LinkedHashMap<>();
        for (UserConfig u : loaded) {
            after.put(u.name(), u.password());
        }
        for (Map.Entry<String, String> e : before.entrySet()) {
            if (!Objects.equals(e.getValue(), after.get(e.getKey()))) {
                d.applied.add("users[" + e.getKey() + "]");
            }
        }
        for (String name : after.keySet()) {
            if (!before.containsKey(name)) {
                d.applied.add("users[" + name + "]");
            }
        }
    }

    /** The databases to run with: the loaded entries, with the running values of restart-only fields. */
    private static List<DatabaseConfig> databases(Diff d, List<DatabaseConfig> running, List<DatabaseConfig> loaded) {
        Map<String, DatabaseConfig> before = new LinkedHashMap<>();
        for (DatabaseConfig db : running) {
            before.put(db.name(), db);
        }
        List<DatabaseConfig> out = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (DatabaseConfig l : loaded) {
            names.add(l.name());
            DatabaseConfig r = before.get(l.name());
            if (r == null) {
                d.applied.add("databases[" + l.name() + "]");
                out.add(l);
                continue;
            }
            String key = "databases[" + l.name() + "].";
            d.restart(key + "host", r.host(), l.host());
            d.restart(key + "port", r.port(), l.port());
            d.live(key + "dbname", r.dbname(), l.dbname());
            d.live(key + "user", r.user(), l.user());
            d.live(key + "password", r.password(), l.password());
            d.restart(key + "pool_mode", r.poolMode(), l.poolMode());
            d.live(key + "pool_size", r.poolSize(), l.poolSize());
            out.add(new DatabaseConfig(l.name(), r.host(), r.port(), l.dbname(), l.user(), l.password(),
                    r.poolMode(), l.poolSize()));
        }
        for (String name : before.keySet()) {
            if (!names.contains(name)) {
                d.applied.add("databases[" + name + "]");
            }
        }
        return out;
    }

    /** Collects changed keys in the order they are compared. */
    private static final class Diff {
        final List<String> applied = new ArrayList<>();
        final List<String> needRestart = new ArrayList<>();

        void live(Setting s, Object before, Object after) {
            live(s.path(), before, after);
        }

        void live(String key, Object before, Object after) {
            if (!Objects.equals(before, after)) {
                applied.add(key);
            }
        }

        void restart(Setting s, Object before, Object after) {
            restart(s.path(), before, after);
        }

        void restart(String key, Object before, Object after) {
            if (!Objects.equals(before, after)) {
                needRestart.add(key);
            }
        }
    }
}

package dev.sluice.config;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Every scalar key of the configuration, with its built-in default in the same text form a user
 * would write. Lists ({@code users}, {@code databases}) are not settings: they have their own
 * entry fields.
 */
enum Setting {
    LISTEN("listen", "127.0.0.1:6432"),
    ADMIN_LISTEN("admin_listen", "127.0.0.1:6480"),
    ADMIN_TOKEN("admin_token", null),
    AUTH_TYPE("auth_type", "scram-sha-256"),
    MAX_MESSAGE_LENGTH("max_message_length", "64MB"),
    SHUTDOWN_TIMEOUT("shutdown_timeout", "30s"),
    IO_THREADS("io_threads", "0"),
    IO_TRANSPORT("io_transport", "auto"),
    ADMIN_USERS("admin_users", null),
    STATS_USERS("stats_users", null),
    POOL_MODE("pool.mode", "transaction"),
    POOL_SIZE("pool.size", "20"),
    POOL_MIN_IDLE("pool.min_idle", "0"),
    POOL_MAX_CLIENT_CONN("pool.max_client_conn", "5000"),
    POOL_ACQUIRE_TIMEOUT("pool.acquire_timeout", "30s"),
    POOL_CONNECT_TIMEOUT("pool.connect_timeout", "5s"),
    POOL_SERVER_LIFETIME("pool.server_lifetime", "1h"),
    POOL_SERVER_IDLE_TIMEOUT("pool.server_idle_timeout", "10m"),
    POOL_SERVER_CHECK_DELAY("pool.server_check_delay", "30s"),
    POOL_IDLE_IN_TRANSACTION_TIMEOUT("pool.idle_in_transaction_timeout", "0"),
    POOL_SERVER_RESET_QUERY("pool.server_reset_query", "DISCARD ALL"),
    POOL_PREPARED_STATEMENT_CACHE_SIZE("pool.prepared_statement_cache_size", "1024"),
    TLS_CLIENT_MODE("tls.client.mode", "disable"),
    TLS_CLIENT_CERT_FILE("tls.client.cert_file", null),
    TLS_CLIENT_KEY_FILE("tls.client.key_file", null),
    TLS_SERVER_MODE("tls.server.mode", "prefer"),
    TLS_SERVER_CA_FILE("tls.server.ca_file", null),
    ADMISSION_QUEUE_SIZE("admission.queue_size", null),
    ADMISSION_WAIT_TIMEOUT_CRITICAL("admission.wait_timeout.critical", null),
    ADMISSION_WAIT_TIMEOUT_HIGH("admission.wait_timeout.high", null),
    ADMISSION_WAIT_TIMEOUT_NORMAL("admission.wait_timeout.normal", null),
    ADMISSION_WAIT_TIMEOUT_LOW("admission.wait_timeout.low", null),
    ADMISSION_WAIT_TIMEOUT_BACKGROUND("admission.wait_timeout.background", null),
    ADMISSION_AGING_STEP("admission.aging_step", "1s"),
    ADMISSION_PRIORITY_RULES("admission.priority_rules", null),
    ADMISSION_DEFAULT_PRIORITY("admission.default_priority", "normal"),
    ADMISSION_ADAPTIVE_LIMIT("admission.adaptive_limit", "off"),
    ADMISSION_MIN_LIMIT("admission.min_limit", "1"),
    ADMISSION_BREAKER_FAILURES("admission.breaker_failures", "5"),
    ADMISSION_BREAKER_COOL_DOWN("admission.breaker_cool_down", "5s"),
    ADMISSION_RATE_LIMIT("admission.rate_limit", "0"),
    ADMISSION_RATE_BURST("admission.rate_burst", "10"),
    ADMISSION_MODE("admission.mode", "auto"),
    ADMISSION_RETRY_ATTEMPTS("admission.retry_attempts", "3"),
    ADMISSION_SHARES("admission.shares", null),
    ADMISSION_RESERVED_CONNECTIONS("admission.reserved_connections", "0"),
    ADMISSION_DEGRADED_WAIT("admission.degraded_wait", "1s"),
    ADMISSION_EMERGENCY_WAIT("admission.emergency_wait", "5s"),
    STATS_ENABLED("stats.enabled", "on"),
    STATS_MAX_FINGERPRINTS("stats.max_fingerprints", "5000"),
    LOG_FORMAT("log_format", "text"),
    RELOAD_WATCH("reload.watch", "on"),
    ALERTS_ENABLED("alerts.enabled", "on"),
    ALERTS_FOR("alerts.for", "10s"),
    ALERTS_WINDOW("alerts.window", "60s"),
    ALERTS_MIN_QUERIES("alerts.min_queries", "10"),
    ALERTS_POOL_UTILIZATION_WARNING("alerts.pool_utilization.warning", "80"),
    ALERTS_POOL_UTILIZATION_CRITICAL("alerts.pool_utilization.critical", "95"),
    ALERTS_QUERY_LATENCY_P95_WARNING("alerts.query_latency_p95.warning", "1s"),
    ALERTS_QUERY_LATENCY_P95_CRITICAL("alerts.query_latency_p95.critical", "5s"),
    ALERTS_ERROR_RATE_WARNING("alerts.error_rate.warning", "1"),
    ALERTS_ERROR_RATE_CRITICAL("alerts.error_rate.critical", "5"),
    ALERTS_QUEUE_WAIT_WARNING("alerts.queue_wait.warning", "1s"),
    ALERTS_QUEUE_WAIT_CRITICAL("alerts.queue_wait.critical", "5s"),
    ALERTS_CIRCUIT_OPEN("alerts.circuit_open", "on"),
    ALERTS_OPERATING_MODE("alerts.operating_mode", "on"),
    ALERTS_WEBHOOK_TIMEOUT("alerts.webhook_timeout", "5s"),
    ALERTS_WEBHOOK_RETRIES("alerts.webhook_retries", "3"),
    ALERTS_WEBHOOK_BACKOFF("alerts.webhook_backoff", "1s"),
    ALERTS_WEBHOOK_QUEUE_SIZE("alerts.webhook_queue_size", "1000");

    /** Settings that hold a list of names: a YAML list, or one comma-separated value. */
    static final Set<Setting> LISTS = EnumSet.of(ADMIN_USERS, STATS_USERS);

    /** Mappings that group settings; a scalar in their place is an error. */
    static final Set<String> SECTIONS = Set.of("pool", "tls", "tls.client", "tls.server", "admission",
            "admission.wait_timeout", "stats", "reload", "alerts", "alerts.pool_utilization", "alerts.query_latency_p95",
            "alerts.error_rate", "alerts.queue_wait");

    private final String path;
    private final String defaultText;

    Setting(String path, String defaultText) {
        this.path = path;
        this.defaultText = defaultText;
    }

    /** The dotted key, as in YAML nesting and in flag maps: {@code pool.max_client_conn}. */
    String path() {
        return path;
    }

    /** The built-in default in text form; empty when the key has no default (unset). */
    Optional<String> defaultText() {
        return Optional.ofNullable(defaultText);
    }

    /** {@code SLUICE_} plus the path upper-cased, dots and dashes as underscores. */
    String envName() {
        return envName(path);
    }

    static String envName(String path) {
        return "SLUICE_" + path.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    static Optional<Setting> byPath(String path) {
        for (Setting s : values()) {
            if (s.path.equals(path)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    static Optional<Setting> byEnvName(String name) {
        for (Setting s : values()) {
            if (s.envName().equals(name)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}

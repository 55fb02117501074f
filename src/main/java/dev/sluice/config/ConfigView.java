package dev.sluice.config;

import dev.sluice.admission.Classifier;
import dev.sluice.admission.Priority;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The scalar settings of a running configuration in the text form a user would write them, next
 * to their built-in defaults (the console's SHOW CONFIG). Lists of entries ({@code users},
 * {@code databases}) are not settings and are not shown; passwords never are.
 */
public final class ConfigView {

    /**
     * One setting.
     *
     * @param key          the dotted key ({@code pool.size})
     * @param value        the value in effect; empty when unset
     * @param defaultValue the built-in default; empty when the key has none
     * @param changeable   whether a reload applies a new value without a restart
     */
    public record Entry(String key, String value, String defaultValue, boolean changeable) {
    }

    /** Keys a reload applies at once; the rest need a restart (see {@link ReloadReport}). */
    private static final Set<Setting> CHANGEABLE = Set.of();

    private ConfigView() {
    }

    /** Every scalar setting of {@code c}, in the order of {@code docs/configuration.md}. */
    public static List<Entry> entries(SluiceConfig c) {
        List<Entry> out = new ArrayList<>(Setting.values().length);
        for (Setting s : Setting.values()) {
            out.add(new Entry(s.path(), value(c, s), s.defaultText().orElse(""), CHANGEABLE.contains(s)));
        }
        return out;
    }

    private static String value(SluiceConfig c, Setting s) {
        SluiceConfig.PoolConfig p = c.pool();
        AdmissionConfig a = c.admission();
        return switch (s) {
            case LISTEN -> c.listen().toString();
            case ADMIN_LISTEN -> c.adminListen().toString();
            case AUTH_TYPE -> c.authType().configName();
            case MAX_MESSAGE_LENGTH -> Values.formatSize(c.maxMessageLength());
            case SHUTDOWN_TIMEOUT -> Values.format(c.shutdownTimeout());
            case IO_THREADS -> String.valueOf(c.ioThreads());
            case IO_TRANSPORT -> c.ioTransport().configName();
            case ADMIN_USERS -> String.join(",", c.console().adminUsers());
            case STATS_USERS -> String.join(",", c.console().statsUsers());
            case POOL_MODE -> p.mode().configName();
            case POOL_SIZE -> String.valueOf(p.size());
            case POOL_MIN_IDLE -> String.valueOf(p.minIdle());
            case POOL_MAX_CLIENT_CONN -> String.valueOf(p.maxClientConn());
            case POOL_ACQUIRE_TIMEOUT -> Values.format(p.acquireTimeout());
            case POOL_CONNECT_TIMEOUT -> Values.format(p.connectTimeout());
            case POOL_SERVER_LIFETIME -> Values.format(p.serverLifetime());
            case POOL_SERVER_IDLE_TIMEOUT -> Values.format(p.serverIdleTimeout());
            case POOL_SERVER_CHECK_DELAY -> Values.format(p.serverCheckDelay());
            case POOL_IDLE_IN_TRANSACTION_TIMEOUT -> Values.format(p.idleInTransactionTimeout());
            case POOL_SERVER_RESET_QUERY -> p.serverResetQuery();
            case POOL_PREPARED_STATEMENT_CACHE_SIZE -> String.valueOf(p.preparedStatementCacheSize());
            case TLS_CLIENT_MODE -> c.clientTls().mode().name().toLowerCase(Locale.ROOT);
            case TLS_CLIENT_CERT_FILE -> text(c.clientTls().certFile());
            case TLS_CLIENT_KEY_FILE -> text(c.clientTls().keyFile());
            case TLS_SERVER_MODE -> c.serverTls().mode().name().toLowerCase(Locale.ROOT).replace('_', '-');
            case TLS_SERVER_CA_FILE -> text(c.serverTls().caFile());
            case ADMISSION_QUEUE_SIZE -> String.valueOf(a.queueSize());
            case ADMISSION_WAIT_TIMEOUT_CRITICAL -> Values.format(a.waitTimeouts().get(Priority.CRITICAL));
            case ADMISSION_WAIT_TIMEOUT_HIGH -> Values.format(a.waitTimeouts().get(Priority.HIGH));
            case ADMISSION_WAIT_TIMEOUT_NORMAL -> Values.format(a.waitTimeouts().get(Priority.NORMAL));
            case ADMISSION_WAIT_TIMEOUT_LOW -> Values.format(a.waitTimeouts().get(Priority.LOW));
            case ADMISSION_WAIT_TIMEOUT_BACKGROUND -> Values.format(a.waitTimeouts().get(Priority.BACKGROUND));
            case ADMISSION_AGING_STEP -> Values.format(a.agingStep());
            case ADMISSION_PRIORITY_RULES -> rules(a.rules());
            case ADMISSION_DEFAULT_PRIORITY -> a.defaultPriority().configName();
            case ADMISSION_ADAPTIVE_LIMIT -> a.adaptiveLimit() ? "on" : "off";
            case ADMISSION_MIN_LIMIT -> String.valueOf(a.minLimit());
            case ADMISSION_BREAKER_FAILURES -> String.valueOf(a.breakerFailures());
            case ADMISSION_BREAKER_COOL_DOWN -> Values.format(a.breakerCoolDown());
            case ADMISSION_RATE_LIMIT -> number(a.rateLimit());
            case ADMISSION_RATE_BURST -> String.valueOf(a.rateBurst());
            case ADMISSION_MODE -> a.forcedMode().map(m -> m.configName()).orElse("auto");
            case ADMISSION_RETRY_ATTEMPTS -> String.valueOf(a.retryAttempts());
            case ADMISSION_SHARES -> String.join(";", a.shares().stream()
                    .map(r -> r.key() + ":" + r.share().min() + ":" + r.share().max()).toList());
            case ADMISSION_RESERVED_CONNECTIONS -> String.valueOf(a.reservedConnections());
            case ADMISSION_DEGRADED_WAIT -> Values.format(a.degradedWait());
            case ADMISSION_EMERGENCY_WAIT -> Values.format(a.emergencyWait());
            case STATS_ENABLED -> c.stats().enabled() ? "on" : "off";
            case STATS_MAX_FINGERPRINTS -> String.valueOf(c.stats().maxFingerprints());
            case ADMIN_TOKEN -> c.admin().token().isPresent() ? "(set)" : "";
            case LOG_FORMAT -> c.logFormat().name().toLowerCase(java.util.Locale.ROOT);
            case RELOAD_WATCH -> c.reloadWatch() ? "on" : "off";
            case ALERTS_ENABLED -> c.alerts().enabled() ? "on" : "off";
            case ALERTS_FOR -> Values.format(c.alerts().holdFor());
            case ALERTS_WINDOW -> Values.format(c.alerts().window());
            case ALERTS_MIN_QUERIES -> String.valueOf(c.alerts().minQueries());
            case ALERTS_POOL_UTILIZATION_WARNING -> number(c.alerts().poolUtilization().warning());
            case ALERTS_POOL_UTILIZATION_CRITICAL -> number(c.alerts().poolUtilization().critical());
            case ALERTS_QUERY_LATENCY_P95_WARNING -> number(c.alerts().queryLatencyP95().warning()) + "s";
            case ALERTS_QUERY_LATENCY_P95_CRITICAL -> number(c.alerts().queryLatencyP95().critical()) + "s";
            case ALERTS_ERROR_RATE_WARNING -> number(c.alerts().errorRate().warning());
            case ALERTS_ERROR_RATE_CRITICAL -> number(c.alerts().errorRate().critical());
            case ALERTS_QUEUE_WAIT_WARNING -> number(c.alerts().queueWait().warning()) + "s";
            case ALERTS_QUEUE_WAIT_CRITICAL -> number(c.alerts().queueWait().critical()) + "s";
            case ALERTS_CIRCUIT_OPEN -> c.alerts().circuitOpen() ? "on" : "off";
            case ALERTS_OPERATING_MODE -> c.alerts().operatingMode() ? "on" : "off";
            case ALERTS_WEBHOOK_TIMEOUT -> Values.format(c.alerts().webhookTimeout());
            case ALERTS_WEBHOOK_RETRIES -> String.valueOf(c.alerts().webhookRetries());
            case ALERTS_WEBHOOK_BACKOFF -> Values.format(c.alerts().webhookBackoff());
            case ALERTS_WEBHOOK_QUEUE_SIZE -> String.valueOf(c.alerts().webhookQueueSize());
        };
    }

    private static String text(Optional<String> o) {
        return o.orElse("");
    }

    private static String number(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf((long) d) : String.valueOf(d);
    }

    private static String rules(List<Classifier.Rule> rules) {
        List<String> out = new ArrayList<>(rules.size());
        for (Classifier.Rule r : rules) {
            out.add(r.attribute().configName() + "=" + r.value() + ":" + r.priority().configName()
                    + (r.hintMayRaise() ? ":raise" : ""));
        }
        return String.join(";", out);
    }
}

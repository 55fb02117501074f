package dev.sluice.config;

import dev.sluice.admission.Classifier;
import dev.sluice.admission.FairShare;
import dev.sluice.admission.OperatingMode;
import dev.sluice.admission.Priority;
import java.util.EnumMap;

import dev.sluice.config.RawConfig.Entry;
import dev.sluice.config.RawConfig.Raw;
import dev.sluice.config.SluiceConfig.AuthType;
import dev.sluice.config.SluiceConfig.ClientTls;
import dev.sluice.config.SluiceConfig.ClientTlsMode;
import dev.sluice.config.SluiceConfig.ConsoleConfig;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.HostPort;
import dev.sluice.config.SluiceConfig.LogFormat;
import dev.sluice.config.SluiceConfig.PoolConfig;
import dev.sluice.config.SluiceConfig.PoolMode;
import dev.sluice.config.SluiceConfig.ServerTls;
import dev.sluice.config.SluiceConfig.ServerTlsMode;
import dev.sluice.config.SluiceConfig.UserConfig;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns gathered text into a {@link SluiceConfig}, in two grades: an impossible value throws a
 * {@link ConfigException}, a doubtful one is reported to the warning sink and, where a safe value
 * exists, replaced by it.
 */
final class ConfigBuilder {

    static final int MAX_POOL_SIZE = 10_000;
    static final int MAX_CLIENT_CONN = 1_000_000;
    static final int MAX_IO_THREADS = 1024;
    static final int MAX_STATEMENT_CACHE = 1_000_000;
    static final long MIN_MESSAGE_LENGTH = 1L << 10;
    static final long MAX_MESSAGE_LENGTH = 1L << 30;
    static final int MIN_TOKEN_LENGTH = 16;
    private static final Duration SHORT_LIFETIME = Duration.ofSeconds(30);
    private static final Pattern MD5_HASH = Pattern.compile("md5[0-9a-f]{32}");
    private static final Pattern SCRAM_VERIFIER =
            Pattern.compile("SCRAM-SHA-256\\$(\\d+):([A-Za-z0-9+/=]+)\\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)");
    private static final List<String> AUTH_NAMES = List.of("scram-sha-256", "md5", "trust");
    private static final List<AuthType> AUTH_TYPES = List.of(AuthType.SCRAM_SHA_256, AuthType.MD5, AuthType.TRUST);
    private static final List<String> POOL_MODE_NAMES = List.of("session", "transaction");
    private static final List<PoolMode> POOL_MODES = List.of(PoolMode.SESSION, PoolMode.TRANSACTION);
    private static final List<String> CLIENT_TLS_NAMES = List.of("disable", "allow", "require");
    private static final List<ClientTlsMode> CLIENT_TLS_MODES =
            List.of(ClientTlsMode.DISABLE, ClientTlsMode.ALLOW, ClientTlsMode.REQUIRE);
    private static final List<String> SERVER_TLS_NAMES = List.of("disable", "prefer", "require", "verify-full");
    private static final List<ServerTlsMode> SERVER_TLS_MODES =
            List.of(ServerTlsMode.DISABLE, ServerTlsMode.PREFER, ServerTlsMode.REQUIRE, ServerTlsMode.VERIFY_FULL);

    private final RawConfig raw;
    private final Consumer<String> warnings;

    ConfigBuilder(RawConfig raw, Consumer<String> warnings) {
        this.raw = raw;
        this.warnings = warnings;
    }

    SluiceConfig build() throws ConfigException {
        HostPort listen = Values.hostPort(label(Setting.LISTEN), text(Setting.LISTEN), 0);
        HostPort adminListen = Values.hostPort(label(Setting.ADMIN_LISTEN), text(Setting.ADMIN_LISTEN), 0);
        AuthType authType = Values.choice(label(Setting.AUTH_TYPE), text(Setting.AUTH_TYPE), AUTH_NAMES, AUTH_TYPES);
        int maxMessageLength = (int) Values.size(label(Setting.MAX_MESSAGE_LENGTH), text(Setting.MAX_MESSAGE_LENGTH),
                MIN_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH);
        Duration shutdownTimeout = duration(Setting.SHUTDOWN_TIMEOUT, Duration.ZERO);
        int ioThreads = integer(Setting.IO_THREADS, 0, MAX_IO_THREADS);
        PoolConfig pool = pool();
        List<UserConfig> users = users();
        List<DatabaseConfig> databases = databases();
        upstream(users, databases);
        checkPasswords(users, authType);
        ClientTls clientTls = clientTls();
        ServerTls serverTls = serverTls();
        LogFormat logFormat = Values.choice(label(Setting.LOG_FORMAT), text(Setting.LOG_FORMAT), LOG_FORMAT_NAMES,
                LOG_FORMATS);
        boolean reloadWatch = Values.choice(label(Setting.RELOAD_WATCH), text(Setting.RELOAD_WATCH), SWITCH_NAMES,
                SWITCHES);
        return new SluiceConfig(listen, adminListen, authType, users, databases, pool, clientTls, serverTls,
                maxMessageLength, shutdownTimeout, ioThreads, admission(pool),
                new SluiceConfig.StatsConfig(Values.choice(label(Setting.STATS_ENABLED), text(Setting.STATS_ENABLED),
                        SWITCH_NAMES, SWITCHES), integer(Setting.STATS_MAX_FINGERPRINTS, 1, 1_000_000)),
                console(users, authType), admin(adminListen), logFormat, reloadWatch, alerts(),
                Values.choice(label(Setting.IO_TRANSPORT), text(Setting.IO_TRANSPORT), IO_TRANSPORT_NAMES, IO_TRANSPORTS));
    }

    private ConsoleConfig console(List<UserConfig> users, AuthType authType) throws ConfigException {
        List<String> admins = names(Setting.ADMIN_USERS);
        List<String> stats = names(Setting.STATS_USERS);
        if (authType != AuthType.TRUST) {
            for (Setting s : List.of(Setting.ADMIN_USERS, Setting.STATS_USERS)) {
                for (String name : s == Setting.ADMIN_USERS ? admins : stats) {
                    if (users.stream().noneMatch(u -> u.name().equals(name))) {
                        warnings.accept(label(s) + ": user " + Values.show(name)
                                + " is not in users, so it cannot log in to the console");
                    }
                }
            }
        }
        return new ConsoleConfig(admins, stats);
    }

    /** A comma-separated list of user names; repeats are dropped. */
    private List<String> names(Setting s) throws ConfigException {
        Optional<String> text = optional(s);
        if (text.isEmpty()) {
            return List.of();
        }
        Set<String> names = new LinkedHashSet<>();
        for (String name : text.get().split(",", -1)) {
            if (name.isBlank()) {
                throw new ConfigException(label(s) + ": " + Values.show(text.get())
                        + " is not allowed (expected user names separated by commas, e.g. admin,ops)");
            }
            names.add(name.strip());
        }
        return List.copyOf(names);
    }

    /** The admin token; refused when missing while the admin API listens beyond loopback. */
    private AdminConfig admin(HostPort adminListen) throws ConfigException {
        Optional<String> token = optional(Setting.ADMIN_TOKEN);
        if (token.isEmpty() && !AdminConfig.isLoopback(adminListen.host())) {
            throw new ConfigException(label(Setting.ADMIN_TOKEN) + ": not set (expected a secret token, required because "
                    + label(Setting.ADMIN_LISTEN) + " " + Values.show(adminListen.toString())
                    + " is not a loopback address; or listen on 127.0.0.1)");
        }
        if (token.isPresent() && token.get().length() < MIN_TOKEN_LENGTH) {
            warnings.accept(label(Setting.ADMIN_TOKEN) + " is shorter than " + MIN_TOKEN_LENGTH
                    + " characters; use a long random secret (e.g. openssl rand -hex 32)");
        }
        return new AdminConfig(token);
    }

    private static final List<String> LOG_FORMAT_NAMES = List.of("text", "json");
    private static final List<SluiceConfig.IoTransport> IO_TRANSPORTS = List.of(SluiceConfig.IoTransport.values());
    private static final List<String> IO_TRANSPORT_NAMES = IO_TRANSPORTS.stream().map(SluiceConfig.IoTransport::configName).toList();
    private static final List<LogFormat> LOG_FORMATS = List.of(LogFormat.TEXT, LogFormat.JSON);

    private static final Map<Priority, Setting> WAIT_TIMEOUTS = Map.of(
            Priority.CRITICAL, Setting.ADMISSION_WAIT_TIMEOUT_CRITICAL,
            Priority.HIGH, Setting.ADMISSION_WAIT_TIMEOUT_HIGH,
            Priority.NORMAL, Setting.ADMISSION_WAIT_TIMEOUT_NORMAL,
            Priority.LOW, Setting.ADMISSION_WAIT_TIMEOUT_LOW,
            Priority.BACKGROUND, Setting.ADMISSION_WAIT_TIMEOUT_BACKGROUND);
    private static final List<String> PRIORITY_NAMES = List.of("critical", "high", "normal", "low", "background");
    private static final List<Priority> PRIORITIES = List.of(Priority.CRITICAL, Priority.HIGH, Priority.NORMAL,
            Priority.LOW, Priority.BACKGROUND);
    private static final List<String> SWITCH_NAMES = List.of("on", "off", "true", "false");
    private static final List<Boolean> SWITCHES = List.of(true, false, true, false);
    private static final List<String> MODE_NAMES = List.of("auto", "normal", "degraded", "emergency");
    private static final List<Optional<OperatingMode.Mode>> MODES = List.of(Optional.empty(),
            Optional.of(OperatingMode.Mode.NORMAL), Optional.of(OperatingMode.Mode.DEGRADED),
            Optional.of(OperatingMode.Mode.EMERGENCY));

    private AdmissionConfig admission(PoolConfig pool) throws ConfigException {
        int queueSize = optional(Setting.ADMISSION_QUEUE_SIZE).isPresent()
                ? integer(Setting.ADMISSION_QUEUE_SIZE, 0, MAX_CLIENT_CONN) : pool.maxClientConn();
        Map<Priority, Duration> timeouts = new EnumMap<>(Priority.class);
        for (Map.Entry<Priority, Setting> e : WAIT_TIMEOUTS.entrySet()) {
            timeouts.put(e.getKey(), optional(e.getValue()).isPresent()
                    ? duration(e.getValue(), Duration.ofMillis(1)) : pool.acquireTimeout());
        }
        Duration agingStep = duration(Setting.ADMISSION_AGING_STEP, Duration.ZERO);
        List<Classifier.Rule> rules = ruleList(Setting.ADMISSION_PRIORITY_RULES, Classifier.Rule::parse);
        List<FairShare.Rule> shares = ruleList(Setting.ADMISSION_SHARES, FairShare.Rule::parse);
        Priority defaultPriority = Values.choice(label(Setting.ADMISSION_DEFAULT_PRIORITY),
                text(Setting.ADMISSION_DEFAULT_PRIORITY), PRIORITY_NAMES, PRIORITIES);
        boolean adaptive = Values.choice(label(Setting.ADMISSION_ADAPTIVE_LIMIT),
                text(Setting.ADMISSION_ADAPTIVE_LIMIT), SWITCH_NAMES, SWITCHES);
        int minLimit = integer(Setting.ADMISSION_MIN_LIMIT, 1, MAX_POOL_SIZE);
        int breakerFailures = integer(Setting.ADMISSION_BREAKER_FAILURES, 1, 1000);
        Duration coolDown = duration(Setting.ADMISSION_BREAKER_COOL_DOWN, Duration.ofMillis(1));
        double rate;
        try {
            rate = Double.parseDouble(text(Setting.ADMISSION_RATE_LIMIT).strip());
        } catch (NumberFormatException e) {
            rate = -1;
        }
        if (!(rate >= 0 && rate <= 1_000_000)) {
            throw new ConfigException(label(Setting.ADMISSION_RATE_LIMIT) + ": "
                    + Values.show(text(Setting.ADMISSION_RATE_LIMIT))
                    + " is not allowed (expected a number from 0 (off) to 1000000 per second)");
        }
        int burst = integer(Setting.ADMISSION_RATE_BURST, 1, 1_000_000);
        Optional<OperatingMode.Mode> mode = Values.choice(label(Setting.ADMISSION_MODE), text(Setting.ADMISSION_MODE),
                MODE_NAMES, MODES);
        int retryAttempts = integer(Setting.ADMISSION_RETRY_ATTEMPTS, 1, 10);
        Duration degradedWait = duration(Setting.ADMISSION_DEGRADED_WAIT, Duration.ofMillis(1));
        Duration emergencyWait = duration(Setting.ADMISSION_EMERGENCY_WAIT, Duration.ofMillis(1));
        if (emergencyWait.compareTo(degradedWait) < 0) {
            throw new ConfigException(label(Setting.ADMISSION_EMERGENCY_WAIT) + ": "
                    + Values.show(text(Setting.ADMISSION_EMERGENCY_WAIT)) + " is not allowed (expected at least "
                    + label(Setting.ADMISSION_DEGRADED_WAIT) + ", " + Values.format(degradedWait) + ")");
        }
        return new AdmissionConfig(queueSize, timeouts, agingStep, rules, defaultPriority, adaptive, minLimit,
                breakerFailures, coolDown, rate, burst, mode, retryAttempts, shares,
                integer(Setting.ADMISSION_RESERVED_CONNECTIONS, 0, MAX_POOL_SIZE), degradedWait, emergencyWait);
    }

    /** A {@code ;}-separated list of rules, each read by {@code parse} (which throws IllegalArgumentException). */
    private <T> List<T> ruleList(Setting setting, java.util.function.Function<String, T> parse) throws ConfigException {
        List<T> out = new ArrayList<>();
        Optional<String> text = optional(setting);
        if (text.isPresent()) {
            for (String r : text.get().split(";")) {
                if (r.isBlank()) {
                    continue;
                }
                try {
                    out.add(parse.apply(r.strip()));
                } catch (IllegalArgumentException ex) {
                    throw new ConfigException(label(setting) + ": " + ex.getMessage());
                }
            }
        }
        return out;
    }

    private static final List<String> WEBHOOK_FORMAT_NAMES = List.of("json", "slack");
    private static final List<AlertConfig.Format> WEBHOOK_FORMATS = List.of(AlertConfig.Format.JSON,
            AlertConfig.Format.SLACK);

    private AlertConfig alerts() throws ConfigException {
        boolean enabled = Values.choice(label(Setting.ALERTS_ENABLED), text(Setting.ALERTS_ENABLED), SWITCH_NAMES,
                SWITCHES);
        Duration holdFor = duration(Setting.ALERTS_FOR, Duration.ZERO);
        Duration window = duration(Setting.ALERTS_WINDOW, Duration.ofSeconds(1));
        if (window.compareTo(Duration.ofHours(1)) > 0) {
            throw new ConfigException(label(Setting.ALERTS_WINDOW) + ": " + Values.show(text(Setting.ALERTS_WINDOW))
                    + " is not allowed (expected a duration from 1s to 1h)");
        }
        int minQueries = integer(Setting.ALERTS_MIN_QUERIES, 0, 1_000_000);
        AlertConfig.Thresholds utilization = thresholds(Setting.ALERTS_POOL_UTILIZATION_WARNING,
                Setting.ALERTS_POOL_UTILIZATION_CRITICAL, false);
        AlertConfig.Thresholds latency = thresholds(Setting.ALERTS_QUERY_LATENCY_P95_WARNING,
                Setting.ALERTS_QUERY_LATENCY_P95_CRITICAL, true);
        AlertConfig.Thresholds errorRate = thresholds(Setting.ALERTS_ERROR_RATE_WARNING,
                Setting.ALERTS_ERROR_RATE_CRITICAL, false);
        AlertConfig.Thresholds queueWait = thresholds(Setting.ALERTS_QUEUE_WAIT_WARNING,
                Setting.ALERTS_QUEUE_WAIT_CRITICAL, true);
        boolean circuit = Values.choice(label(Setting.ALERTS_CIRCUIT_OPEN), text(Setting.ALERTS_CIRCUIT_OPEN),
                SWITCH_NAMES, SWITCHES);
        boolean mode = Values.choice(label(Setting.ALERTS_OPERATING_MODE), text(Setting.ALERTS_OPERATING_MODE),
                SWITCH_NAMES, SWITCHES);
        List<AlertConfig.Webhook> webhooks = new ArrayList<>();
        for (Entry e : raw.webhooks) {
            String url = required(e, "url", "an http:// or https:// URL");
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException ex) {
                uri = null;
            }
            if (uri == null || uri.getScheme() == null || uri.getHost() == null
                    || !List.of("http", "https").contains(uri.getScheme().toLowerCase(Locale.ROOT))) {
                throw new ConfigException(e.label() + ".url: " + Values.show(url)
                        + " is not allowed (expected an http:// or https:// URL with a host)");
            }
            Optional<Raw> format = e.field("format");
            AlertConfig.Format f = format.isEmpty() ? AlertConfig.Format.JSON
                    : Values.choice(format.get().label(), format.get().text(), WEBHOOK_FORMAT_NAMES, WEBHOOK_FORMATS);
            webhooks.add(new AlertConfig.Webhook(uri, f));
        }
        if (!enabled && !webhooks.isEmpty()) {
            warnings.accept("alerts.webhooks are not used while alerts.enabled is off");
        }
        Duration timeout = duration(Setting.ALERTS_WEBHOOK_TIMEOUT, Duration.ofMillis(1));
        int retries = integer(Setting.ALERTS_WEBHOOK_RETRIES, 0, 10);
        Duration backoff = duration(Setting.ALERTS_WEBHOOK_BACKOFF, Duration.ofMillis(1));
        int queueSize = integer(Setting.ALERTS_WEBHOOK_QUEUE_SIZE, 1, 100_000);
        return new AlertConfig(enabled, holdFor, window, minQueries, utilization, latency, errorRate, queueWait,
                circuit, mode, webhooks, timeout, retries, backoff, queueSize);
    }

    /** A warning/critical pair: percentages, or durations kept in seconds; 0 turns a level off. */
    private AlertConfig.Thresholds thresholds(Setting warning, Setting critical, boolean durations)
            throws ConfigException {
        double w = durations ? seconds(warning) : percent(warning);
        double c = durations ? seconds(critical) : percent(critical);
        if (w > 0 && c > 0 && c < w) {
            throw new ConfigException(label(critical) + ": " + Values.show(text(critical)) + " is not allowed (expected "
                    + "0 (off) or at least " + warning.path() + " " + text(warning).strip() + ")");
        }
        return new AlertConfig.Thresholds(w, c);
    }

    private double seconds(Setting s) throws ConfigException {
        return duration(s, Duration.ZERO).toNanos() / 1e9;
    }

    /** A percentage from 0 to 100, with or without a trailing {@code %}, decimals allowed. */
    private double percent(Setting s) throws ConfigException {
        String t = text(s).strip();
        if (t.endsWith("%")) {
            t = t.substring(0, t.length() - 1).strip();
        }
        double v;
        try {
            v = t.matches("[0-9]+(\\.[0-9]+)?") ? Double.parseDouble(t) : -1;
        } catch (NumberFormatException e) {
            v = -1;
        }
        if (!(v >= 0 && v <= 100)) {
            throw new ConfigException(label(s) + ": " + Values.show(text(s))
                    + " is not allowed (expected a percentage from 0 (off) to 100, e.g. 80 or 2.5%)");
        }
        return v;
    }

    private PoolConfig pool() throws ConfigException {
        PoolMode mode = Values.choice(label(Setting.POOL_MODE), text(Setting.POOL_MODE), POOL_MODE_NAMES, POOL_MODES);
        int size = integer(Setting.POOL_SIZE, 1, MAX_POOL_SIZE);
        int minIdle = integer(Setting.POOL_MIN_IDLE, 0, MAX_POOL_SIZE);
        if (minIdle > size) {
            warnings.accept(label(Setting.POOL_MIN_IDLE) + ": " + minIdle + " is more than pool.size " + size
                    + "; using " + size);
            minIdle = size;
        }
        int maxClientConn = integer(Setting.POOL_MAX_CLIENT_CONN, 1, MAX_CLIENT_CONN);
        Duration acquireTimeout = duration(Setting.POOL_ACQUIRE_TIMEOUT, Duration.ofMillis(1));
        Duration connectTimeout = duration(Setting.POOL_CONNECT_TIMEOUT, Duration.ofMillis(1));
        if (connectTimeout.compareTo(acquireTimeout) > 0) {
            warnings.accept(label(Setting.POOL_CONNECT_TIMEOUT) + ": " + Values.format(connectTimeout)
                    + " is longer than pool.acquire_timeout " + Values.format(acquireTimeout)
                    + "; clients may give up while a server connection is still being opened");
        }
        Duration serverLifetime = duration(Setting.POOL_SERVER_LIFETIME, Duration.ZERO);
        if (!serverLifetime.isZero() && serverLifetime.compareTo(SHORT_LIFETIME) < 0) {
            warnings.accept(label(Setting.POOL_SERVER_LIFETIME) + ": " + Values.format(serverLifetime)
                    + " is very short; server connections will be reopened constantly");
        }
        Duration serverIdleTimeout = duration(Setting.POOL_SERVER_IDLE_TIMEOUT, Duration.ZERO);
        Duration serverCheckDelay = duration(Setting.POOL_SERVER_CHECK_DELAY, Duration.ZERO);
        Duration idleInTransaction = duration(Setting.POOL_IDLE_IN_TRANSACTION_TIMEOUT, Duration.ZERO);
        String resetQuery = text(Setting.POOL_SERVER_RESET_QUERY).strip();
        int statementCache = integer(Setting.POOL_PREPARED_STATEMENT_CACHE_SIZE, 0, MAX_STATEMENT_CACHE);
        return new PoolConfig(mode, size, minIdle, maxClientConn, acquireTimeout, connectTimeout, serverLifetime,
                serverIdleTimeout, serverCheckDelay, idleInTransaction, resetQuery, statementCache);
    }

    private List<UserConfig> users() throws ConfigException {
        Map<String, UserConfig> byName = new LinkedHashMap<>();
        Map<String, String> labels = new LinkedHashMap<>();
        for (Entry e : raw.users) {
            String name = required(e, "name", "a user name");
            String password = e.field("password").map(Raw::text).orElse("");
            String previous = labels.putIfAbsent(name, e.label());
            if (previous != null) {
                throw new ConfigException(e.label() + ".name: " + Values.show(name)
                        + " is a duplicate (expected unique user names; " + previous + " has it too)");
            }
            byName.put(name, new UserConfig(name, password));
        }
        // command-line users replace file users of the same name: later sources win
        Map<String, Raw> fromFlags = new LinkedHashMap<>();
        for (Raw r : raw.flagUsers) {
            int colon = r.text().indexOf(':');
            if (colon <= 0) {
                String shown = colon < 0 ? Values.show(r.text()) : "an entry without a name";
                throw new ConfigException(r.label() + ": " + shown + " is not allowed (expected NAME:PASSWORD)");
            }
            String name = r.text().substring(0, colon);
            if (fromFlags.putIfAbsent(name, r) != null) {
                throw new ConfigException(r.label() + ": " + Values.show(name)
                        + " is given twice (expected each user once)");
            }
            byName.put(name, new UserConfig(name, r.text().substring(colon + 1)));
        }
        return new ArrayList<>(byName.values());
    }

    private List<DatabaseConfig> databases() throws ConfigException {
        List<DatabaseConfig> result = new ArrayList<>();
        Map<String, String> labels = new LinkedHashMap<>();
        for (Entry e : raw.databases) {
            String name = required(e, "name", "the database name clients use");
            String previous = labels.putIfAbsent(name, e.label());
            if (previous != null) {
                throw new ConfigException(e.label() + ".name: " + Values.show(name)
                        + " is a duplicate (expected unique database names; " + previous + " has it too)");
            }
            String host = required(e, "host", "the PostgreSQL host name or address");
            int port = 5432;
            if (e.field("port").isPresent()) {
                Raw p = e.field("port").get();
                port = (int) Values.integer(p.label(), p.text(), 1, 65535);
            }
            String dbname = e.field("dbname").map(Raw::text).orElse(name);
            if (dbname.isEmpty()) {
                throw new ConfigException(e.label() + ".dbname: '' is not allowed (expected a database name on PostgreSQL; "
                        + "leave it out to use the entry's name)");
            }
            Optional<String> user = e.field("user").map(Raw::text).filter(s -> !s.isEmpty());
            Optional<String> password = e.field("password").map(Raw::text);
            if (password.isPresent() && user.isEmpty()) {
                warnings.accept(e.label() + ".password is set without " + e.label() + ".user; it is ignored");
                password = Optional.empty();
            }
            Optional<PoolMode> poolMode = Optional.empty();
            if (e.field("pool_mode").isPresent()) {
                Raw m = e.field("pool_mode").get();
                poolMode = Optional.of(Values.choice(m.label(), m.text(), POOL_MODE_NAMES, POOL_MODES));
            }
            Optional<Integer> poolSize = Optional.empty();
            if (e.field("pool_size").isPresent()) {
                Raw s = e.field("pool_size").get();
                poolSize = Optional.of((int) Values.integer(s.label(), s.text(), 1, MAX_POOL_SIZE));
            }
            result.add(new DatabaseConfig(name, host, port, dbname, user, password, poolMode, poolSize));
        }
        return result;
    }

    /** Adds the database (replacing a file entry of that name) and, if new, the user of the URL. */
    private void upstream(List<UserConfig> users, List<DatabaseConfig> databases) throws ConfigException {
        if (raw.upstream.isEmpty()) {
            return;
        }
        Raw r = raw.upstream.get();
        UpstreamUrl url = UpstreamUrl.parse(r.label(), r.text());
        DatabaseConfig db = new DatabaseConfig(url.database(), url.host(), url.port(), url.database(),
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
        databases.removeIf(d -> d.name().equals(db.name()));
        databases.add(db);
        if (users.stream().noneMatch(u -> u.name().equals(url.user()))) {
            users.add(new UserConfig(url.user(), url.password().orElse("")));
        }
    }

    private void checkPasswords(List<UserConfig> users, AuthType authType) throws ConfigException {
        for (UserConfig u : users) {
            String key = "user " + Values.show(u.name());
            String password = u.password();
            if (password.startsWith("SCRAM-SHA-256$") && !validScramVerifier(password)) {
                throw new ConfigException(key + ": the password looks like a SCRAM-SHA-256 verifier but is malformed "
                        + "(expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, as in pg_authid)");
            }
            if (authType == AuthType.TRUST) {
                continue;
            }
            if (password.isEmpty()) {
                warnings.accept(key + " has an empty password: only auth_type trust lets it log in (auth_type is "
                        + authType.configName() + ")");
            } else if (authType == AuthType.SCRAM_SHA_256 && MD5_HASH.matcher(password).matches()) {
                warnings.accept(key + " has an md5 hash as password, which auth_type scram-sha-256 cannot check; "
                        + "it cannot log in (give a plain password or a SCRAM-SHA-256 verifier)");
            } else if (authType == AuthType.MD5 && password.startsWith("SCRAM-SHA-256$")) {
                warnings.accept(key + " has a SCRAM-SHA-256 verifier as password, which auth_type md5 cannot check; "
                        + "it cannot log in (give a plain password or an md5 hash)");
            }
        }
    }

    private static boolean validScramVerifier(String s) {
        Matcher m = SCRAM_VERIFIER.matcher(s);
        if (!m.matches()) {
            return false;
        }
        try {
            return Long.parseLong(m.group(1)) > 0
                    && Base64.getDecoder().decode(m.group(2)).length > 0
                    && Base64.getDecoder().decode(m.group(3)).length == 32
                    && Base64.getDecoder().decode(m.group(4)).length == 32;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private ClientTls clientTls() throws ConfigException {
        ClientTlsMode mode = Values.choice(label(Setting.TLS_CLIENT_MODE), text(Setting.TLS_CLIENT_MODE),
                CLIENT_TLS_NAMES, CLIENT_TLS_MODES);
        Optional<String> cert = optional(Setting.TLS_CLIENT_CERT_FILE);
        Optional<String> key = optional(Setting.TLS_CLIENT_KEY_FILE);
        if (mode == ClientTlsMode.DISABLE) {
            if (cert.isPresent() || key.isPresent()) {
                warnings.accept("tls.client.cert_file and tls.client.key_file are ignored while tls.client.mode is disable");
            }
        } else {
            String because = "needed because tls.client.mode is " + CLIENT_TLS_NAMES.get(mode.ordinal());
            requireFile(Setting.TLS_CLIENT_CERT_FILE, cert, "a readable PEM certificate file, " + because);
            requireFile(Setting.TLS_CLIENT_KEY_FILE, key, "a readable PEM private key file, " + because);
        }
        return new ClientTls(mode, cert, key);
    }

    private ServerTls serverTls() throws ConfigException {
        ServerTlsMode mode = Values.choice(label(Setting.TLS_SERVER_MODE), text(Setting.TLS_SERVER_MODE),
                SERVER_TLS_NAMES, SERVER_TLS_MODES);
        Optional<String> ca = optional(Setting.TLS_SERVER_CA_FILE);
        if (mode == ServerTlsMode.VERIFY_FULL) {
            requireFile(Setting.TLS_SERVER_CA_FILE, ca,
                    "a readable PEM file of trusted CA certificates, needed because tls.server.mode is verify-full");
        } else if (ca.isPresent()) {
            requireFile(Setting.TLS_SERVER_CA_FILE, ca, "a readable PEM file of trusted CA certificates");
            warnings.accept("tls.server.ca_file is only used when tls.server.mode is verify-full (it is "
                    + SERVER_TLS_NAMES.get(mode.ordinal()) + ")");
        }
        return new ServerTls(mode, ca);
    }

    private void requireFile(Setting s, Optional<String> file, String expected) throws ConfigException {
        if (file.isEmpty()) {
            throw new ConfigException(s.path() + ": not set (expected " + expected + ")");
        }
        Path path;
        try {
            path = Path.of(file.get());
        } catch (InvalidPathException e) {
            throw new ConfigException(label(s) + ": " + Values.show(file.get()) + " is not a valid path (expected " + expected + ")");
        }
        if (!Files.exists(path)) {
            throw new ConfigException(label(s) + ": " + Values.show(file.get()) + " does not exist (expected " + expected + ")");
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new ConfigException(label(s) + ": " + Values.show(file.get())
                    + " is not a readable file (expected " + expected + ")");
        }
    }

    private String required(Entry e, String field, String expected) throws ConfigException {
        Optional<Raw> r = e.field(field);
        if (r.isEmpty()) {
            throw new ConfigException(e.label() + "." + field + ": not set (expected " + expected + ")");
        }
        if (r.get().text().isBlank()) {
            throw new ConfigException(r.get().label() + ": " + Values.show(r.get().text())
                    + " is not allowed (expected " + expected + ")");
        }
        return r.get().text().strip();
    }

    private Optional<String> optional(Setting s) {
        return raw.setting(s).map(Raw::text).map(String::strip).filter(t -> !t.isEmpty());
    }

    private String text(Setting s) {
        return raw.setting(s).orElseThrow(() -> new IllegalStateException("no default for " + s.path())).text();
    }

    private String label(Setting s) {
        return raw.setting(s).map(Raw::label).orElse(s.path());
    }

    private int integer(Setting s, int min, int max) throws ConfigException {
        return (int) Values.integer(label(s), text(s), min, max);
    }

    private Duration duration(Setting s, Duration min) throws ConfigException {
        return Values.duration(label(s), text(s), min);
    }
}

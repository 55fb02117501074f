package dev.sluice.cli;

import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.ConsoleConfig;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.HostPort;
import dev.sluice.config.SluiceConfig.UserConfig;
import dev.sluice.frontend.ProxyServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice run}: loads the configuration (defaults &lt; file &lt; {@code SLUICE_*} &lt; flags),
 * starts the embedded demo database when no database is configured, starts the proxy, prints one
 * "ready" line to stdout and blocks until SIGTERM or SIGINT, which shut it down gracefully.
 * Everything but the process concerns (exit code, pidfile, shutdown hook, ready line) is
 * {@link Instance}, which also reloads the configuration on SIGHUP, file change and request.
 *
 * <p>Every flag that is a setting is handed to {@link ConfigLoader} as text under its dotted key,
 * so all values are validated, with the same messages, in one place.
 */
@Command(name = "run", description = "Runs the proxy (with an embedded demo database when no database is configured).",
        sortOptions = false)
final class RunCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);
    private static final List<String> LOG_LEVELS = List.of("error", "warn", "info", "debug", "trace");
    /** Exit status when an event loop ended unexpectedly (EX_SOFTWARE). */
    static final int LOOP_FAILURE_EXIT = 70;

    private final Map<String, String> env;

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file.")
    Path config;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Client address (listen).")
    String listen;

    @Option(names = "--admin-listen", paramLabel = "HOST:PORT", description = "Admin HTTP address (admin_listen).")
    String adminListen;

    @Option(names = "--admin-token", paramLabel = "TOKEN",
            description = "Bearer token of the admin HTTP API (admin_token); prefer SLUICE_ADMIN_TOKEN, which ps does not show.")
    String adminToken;

    @Option(names = "--upstream", paramLabel = "URL",
            description = "postgresql://USER[:PASSWORD]@HOST[:PORT]/DB: adds that database and user.")
    String upstream;

    @Option(names = "--pool-mode", paramLabel = "session|transaction", description = "pool.mode")
    String poolMode;

    @Option(names = "--pool-size", paramLabel = "N", description = "pool.size")
    String poolSize;

    @Option(names = "--max-client-conn", paramLabel = "N", description = "pool.max_client_conn")
    String maxClientConn;

    @Option(names = "--auth-type", paramLabel = "scram-sha-256|md5|trust", description = "auth_type")
    String authType;

    @Option(names = "--user", paramLabel = "NAME:PASSWORD", description = "A user (repeatable); replaces a file user of that name.")
    List<String> users = new ArrayList<>();

    @Option(names = "--admin-users", paramLabel = "NAME[,NAME...]",
            description = "admin_users: users who may run every admin console command (psql ... sluice).")
    String adminUsers;

    @Option(names = "--stats-users", paramLabel = "NAME[,NAME...]",
            description = "stats_users: users who may run the console's SHOW commands only.")
    String statsUsers;

    @Option(names = "--tls-mode", paramLabel = "disable|allow|require", description = "tls.client.mode")
    String tlsMode;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "tls.client.cert_file")
    String tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "tls.client.key_file")
    String tlsKey;

    @Option(names = "--server-tls-mode", paramLabel = "disable|prefer|require|verify-full", description = "tls.server.mode")
    String serverTlsMode;

    @Option(names = "--server-tls-ca", paramLabel = "FILE", description = "tls.server.ca_file")
    String serverTlsCa;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Any setting by its dotted key, e.g. pool.min_idle=5 (repeatable; the specific flags win).")
    List<String> settings = new ArrayList<>();

    @Option(names = "--priority-rule", paramLabel = "ATTR=VALUE:CLASS[:raise]",
            description = "A classification rule (repeatable), e.g. application_name=checkout:high; "
                    + "adds to admission.priority_rules.")
    private List<String> priorityRules = new ArrayList<>();

    @Option(names = "--pidfile", paramLabel = "FILE", description = "Write the process id here; deleted on exit.")
    Path pidfile;

    @Option(names = "--log-level", paramLabel = "LEVEL", description = "Log level of Sluice: error, warn, info, debug or trace.")
    String logLevel;

    @Option(names = "--log-format", paramLabel = "text|json", description = "log_format: text, or one JSON object per line.")
    String logFormat;

    RunCommand(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        Instance instance;
        try {
            applyLogLevel();
            instance = Instance.start(Optional.ofNullable(config), env, flags());
        } catch (ConfigException e) {
            err.println("sluice: " + e.getMessage());
            err.flush();
            return 2;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } catch (IllegalStateException e) {
            err.println("sluice: " + e.getMessage());
            err.flush();
            return 1;
        }
        return serve(instance);
    }

    /** The command-line values under the loader's keys. */
    Map<String, String> flags() throws ConfigException {
        Map<String, String> flags = new LinkedHashMap<>();
        for (String kv : settings) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException("--set: '" + kv + "' is not allowed (expected KEY=VALUE, e.g. pool.min_idle=5)");
            }
            flags.put(kv.substring(0, eq).strip(), kv.substring(eq + 1));
        }
        put(flags, "listen", listen);
        put(flags, "admin_listen", adminListen);
        put(flags, "admin_token", adminToken);
        put(flags, "upstream", upstream);
        put(flags, "pool.mode", poolMode);
        put(flags, "pool.size", poolSize);
        put(flags, "pool.max_client_conn", maxClientConn);
        put(flags, "auth_type", authType);
        put(flags, "admin_users", adminUsers);
        put(flags, "stats_users", statsUsers);
        put(flags, "tls.client.mode", tlsMode);
        put(flags, "tls.client.cert_file", tlsCert);
        put(flags, "tls.client.key_file", tlsKey);
        put(flags, "tls.server.mode", serverTlsMode);
        put(flags, "tls.server.ca_file", serverTlsCa);
        put(flags, "log_format", logFormat);
        if (!priorityRules.isEmpty()) {
            String fromSet = flags.get("admission.priority_rules");
            String joined = String.join(";", priorityRules);
            flags.put("admission.priority_rules", fromSet == null || fromSet.isBlank() ? joined : fromSet + ";" + joined);
        }
        for (int i = 0; i < users.size(); i++) {
            flags.put("users[" + i + "]", users.get(i));
        }
        return flags;
    }

    private static void put(Map<String, String> flags, String key, String value) {
        if (value != null) {
            flags.put(key, value);
        }
    }

    private void applyLogLevel() throws ConfigException {
        if (logLevel == null) {
            return;
        }
        String level = logLevel.strip().toLowerCase(Locale.ROOT);
        if (!LOG_LEVELS.contains(level)) {
            throw new ConfigException("--log-level: '" + logLevel + "' is not allowed (expected one of "
                    + String.join(", ", LOG_LEVELS) + ")");
        }
        if (LoggerFactory.getLogger("dev.sluice") instanceof ch.qos.logback.classic.Logger logback) {
            logback.setLevel(ch.qos.logback.classic.Level.toLevel(level));
        }
    }

    private int serve(Instance instance) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ProxyServer server = instance.proxy();
        if (pidfile != null) {
            try {
                Files.writeString(pidfile, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
            } catch (IOException e) {
                instance.close();
                err.println("sluice: cannot write the pidfile " + pidfile + ": " + e.getMessage());
                err.flush();
                return 1;
            }
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                // the latest reloaded value: shutdown_timeout is live
                Duration timeout = server.config().shutdownTimeout();
                LOG.info("Shutting down (waiting at most {} ms for transactions in flight)", timeout.toMillis());
                instance.shutdown(timeout);
            } finally {
                deletePidfile();
                stopped.countDown();
            }
        }, "sluice-shutdown"));

        server.loopFailure().thenAccept(reason -> {
            // exit from a thread of its own: the shutdown hook waits for the event loops
            Thread exit = new Thread(() -> {
                LOG.error("{}: exiting with status {} so that Sluice can be restarted", reason, LOOP_FAILURE_EXIT);
                System.exit(LOOP_FAILURE_EXIT);
            }, "sluice-loop-failure");
            exit.start();
        });
        out.println(readyLine(server.config(), server.port(), instance.demoUser()));
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private void deletePidfile() {
        if (pidfile != null) {
            try {
                Files.deleteIfExists(pidfile);
            } catch (IOException e) {
                LOG.warn("Cannot delete the pidfile {}: {}", pidfile, e.getMessage());
            }
        }
    }

    /** The line printed once the port is bound: a ready-to-paste psql command in demo mode. */
    static String readyLine(SluiceConfig c, int port, Optional<UserConfig> demoUser) {
        HostPort at = new HostPort(connectableHost(c.listen().host()), port);
        if (demoUser.isPresent()) {
            DatabaseConfig db = c.databases().getFirst();
            UserConfig user = demoUser.get();
            String credentials = Uris.encode(user.name())
                    + (user.password().isEmpty() ? "" : ":" + Uris.encode(user.password()));
            return "Sluice is ready: psql \"postgresql://" + credentials + "@" + at + "/" + Uris.encode(db.name()) + "\"";
        }
        String names = c.databases().stream().map(DatabaseConfig::name).collect(Collectors.joining(", "));
        return "Sluice is ready: listening on " + at + " for database" + (c.databases().size() == 1 ? " " : "s ") + names;
    }

    /** A wildcard listen address is not something to connect to: point at loopback instead. */
    private static String connectableHost(String host) {
        return switch (host) {
            case "0.0.0.0", "*", "" -> "127.0.0.1";
            case "::", "::0" -> "::1";
            default -> host;
        };
    }
}

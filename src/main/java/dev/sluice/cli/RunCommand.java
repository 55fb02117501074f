package dev.sluice.cli;

import dev.sluice.admin.AdminServer;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.HostPort;
import dev.sluice.config.SluiceConfig.UserConfig;
import dev.sluice.demo.DemoDatabase;
import dev.sluice.frontend.ProxyServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
 *
 * <p>Every flag that is a setting is handed to {@link ConfigLoader} as text under its dotted key,
 * so all values are validated, with the same messages, in one place.
 */
@Command(name = "run", description = "Runs the proxy (with an embedded demo database when no database is configured).",
        sortOptions = false)
final class RunCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);
    private static final List<String> LOG_LEVELS = List.of("error", "warn", "info", "debug", "trace");

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

    RunCommand(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        SluiceConfig loaded;
        try {
            applyLogLevel();
            loaded = ConfigLoader.load(Optional.ofNullable(config), env, flags());
        } catch (ConfigException e) {
            err.println("sluice: " + e.getMessage());
            err.flush();
            return 2;
        }
        return serve(loaded);
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
        put(flags, "upstream", upstream);
        put(flags, "pool.mode", poolMode);
        put(flags, "pool.size", poolSize);
        put(flags, "pool.max_client_conn", maxClientConn);
        put(flags, "auth_type", authType);
        put(flags, "tls.client.mode", tlsMode);
        put(flags, "tls.client.cert_file", tlsCert);
        put(flags, "tls.client.key_file", tlsKey);
        put(flags, "tls.server.mode", serverTlsMode);
        put(flags, "tls.server.ca_file", serverTlsCa);
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

    private int serve(SluiceConfig loaded) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        DemoDatabase demo = null;
        SluiceConfig config = loaded;
        if (config.databases().isEmpty()) {
            LOG.info("No database configured: starting the embedded demo PostgreSQL");
            try {
                demo = DemoDatabase.start();
            } catch (IOException | RuntimeException e) {
                err.println("sluice: cannot start the demo database: " + e.getMessage());
                err.flush();
                return 1;
            }
            config = withDemo(config, demo);
        }
        ProxyServer server;
        try {
            server = ProxyServer.start(config);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(demo);
            return 1;
        } catch (RuntimeException e) {
            closeQuietly(demo);
            err.println("sluice: cannot start: " + e.getMessage());
            err.flush();
            return 1;
        }
        AdminServer admin;
        try {
            admin = AdminServer.start(server, config.adminListen());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.close();
            closeQuietly(demo);
            return 1;
        } catch (RuntimeException e) {
            server.close();
            closeQuietly(demo);
            err.println("sluice: cannot start: " + e.getMessage());
            err.flush();
            return 1;
        }
        if (pidfile != null) {
            try {
                Files.writeString(pidfile, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
            } catch (IOException e) {
                admin.close();
                server.close();
                closeQuietly(demo);
                err.println("sluice: cannot write the pidfile " + pidfile + ": " + e.getMessage());
                err.flush();
                return 1;
            }
        }

        CountDownLatch stopped = new CountDownLatch(1);
        DemoDatabase demoToClose = demo;
        SluiceConfig running = config;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                LOG.info("Shutting down (waiting at most {} ms for transactions in flight)", running.shutdownTimeout().toMillis());
                server.shutdownGracefully(running.shutdownTimeout());
                admin.close();
            } finally {
                closeQuietly(demoToClose);
                deletePidfile();
                stopped.countDown();
            }
        }, "sluice-shutdown"));

        out.println(readyLine(config, server.port(), demo == null ? Optional.empty() : Optional.of(demo.user())));
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

    private static void closeQuietly(DemoDatabase demo) {
        if (demo != null) {
            try {
                demo.close();
            } catch (RuntimeException e) {
                LOG.warn("Stopping the demo database failed: {}", e.getMessage());
            }
        }
    }

    /** The configuration plus the demo database and its user (replacing a user of that name). */
    static SluiceConfig withDemo(SluiceConfig c, DemoDatabase demo) {
        UserConfig demoUser = demo.user();
        List<UserConfig> users = new ArrayList<>();
        for (UserConfig u : c.users()) {
            if (!u.name().equals(demoUser.name())) {
                users.add(u);
            }
        }
        users.add(demoUser);
        return new SluiceConfig(c.listen(), c.adminListen(), c.authType(), users, List.of(demo.database()),
                c.pool(), c.clientTls(), c.serverTls(), c.maxMessageLength(), c.shutdownTimeout(), c.ioThreads(),
                c.admission(), c.alerts());
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

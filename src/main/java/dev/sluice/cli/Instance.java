package dev.sluice.cli;

import dev.sluice.admin.AdminServer;
import dev.sluice.admin.Console;
import dev.sluice.config.ConfigChange;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.ReloadReport;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.ConsoleConfig;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.UserConfig;
import dev.sluice.demo.DemoDatabase;
import dev.sluice.frontend.ProxyServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Sluice as {@code sluice run} starts it, minus the process concerns (exit codes,
 * pidfile, shutdown hook): the configuration loaded from its sources (defaults &lt; file &lt;
 * {@code SLUICE_*} &lt; flags), the log format, the embedded demo database when no database is
 * configured, the proxy, the admin HTTP server, and configuration reload.
 *
 * <p>Reload re-runs the same loading with the same file, environment and flags as the start, so
 * flags still win over the file, and applies the result without dropping clients
 * ({@link ProxyServer#reconfigure}). It is triggered by {@link ProxyServer#reload()} (admin API,
 * console), by SIGHUP where the JVM lets Sluice handle it, and by a change of the file's content
 * while {@code reload.watch} is on. An invalid configuration is refused with the loader's one-line
 * message (a warning in the log and {@link ReloadReport#error()}) and the running one stays.
 * Reloads run one at a time; each is logged with what changed.
 */
public final class Instance implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Instance.class);

    private final Optional<Path> file;
    private final Map<String, String> env;
    private final Map<String, String> flags;
    private final DemoDatabase demo;
    private final ProxyServer proxy;
    private final AdminServer admin;
    private final Console console;
    private final ReentrantLock reloadLock = new ReentrantLock();
    /** Guarded by reloadLock. */
    private ConfigWatcher watcher;
    /** Guarded by reloadLock. */
    private boolean closed;
    private Optional<HangupSignal> hangup = Optional.empty();
    private volatile ReloadReport lastReload;

    private Instance(Optional<Path> file, Map<String, String> env, Map<String, String> flags, DemoDatabase demo,
                     ProxyServer proxy, AdminServer admin, Console console) {
        this.console = console;
        this.file = file;
        this.env = Map.copyOf(env);
        this.flags = Map.copyOf(flags);
        this.demo = demo;
        this.proxy = proxy;
        this.admin = admin;
    }

    /**
     * Loads the configuration and starts everything; returns once the client and admin ports are
     * bound.
     *
     * @param file  the YAML file, if any
     * @param env   the environment ({@code SLUICE_*} entries are read)
     * @param flags command-line values by dotted key, as {@link ConfigLoader#load} takes them
     * @throws ConfigException       the configuration is invalid (nothing was started)
     * @throws IllegalStateException something could not start (message: "cannot start...: why");
     *                               whatever had started is stopped again
     */
    public static Instance start(Optional<Path> file, Map<String, String> env, Map<String, String> flags)
            throws ConfigException, InterruptedException {
        List<String> warnings = new ArrayList<>();
        SluiceConfig config = ConfigLoader.load(file, env, flags, warnings::add);
        LogOutput.format(config.logFormat());
        warnings.forEach(log::warn);
        DemoDatabase demo = null;
        if (config.databases().isEmpty()) {
            log.info("No database configured: starting the embedded demo PostgreSQL");
            try {
                demo = DemoDatabase.start();
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException("cannot start the demo database: " + e.getMessage(), e);
            }
            config = withDemo(config, demo);
        }
        ProxyServer proxy;
        try {
            proxy = ProxyServer.start(config);
        } catch (InterruptedException e) {
            closeQuietly(demo);
            throw e;
        } catch (RuntimeException e) {
            closeQuietly(demo);
            throw new IllegalStateException("cannot start: " + e.getMessage(), e);
        }
        Console console = Console.install(proxy, VersionCommand.version());
        AdminServer admin;
        try {
            admin = AdminServer.start(proxy, config.adminListen());
        } catch (InterruptedException e) {
            console.close();
            proxy.close();
            closeQuietly(demo);
            throw e;
        } catch (RuntimeException e) {
            console.close();
            proxy.close();
            closeQuietly(demo);
            throw new IllegalStateException("cannot start: " + e.getMessage(), e);
        }
        Instance instance = new Instance(file, env, flags, demo, proxy, admin, console);
        proxy.reloader(() -> instance.reload("request"));
        instance.hangup = HangupSignal.install(() -> instance.reload("SIGHUP"));
        instance.reloadLock.lock();
        try {
            instance.watch(config.reloadWatch());
        } finally {
            instance.reloadLock.unlock();
        }
        return instance;
    }

    /** The proxy. */
    public ProxyServer proxy() {
        return proxy;
    }

    /** The admin HTTP server. */
    public AdminServer admin() {
        return admin;
    }

    /** The user of the embedded demo database, when Sluice started one. */
    public Optional<UserConfig> demoUser() {
        return demo == null ? Optional.empty() : Optional.of(demo.user());
    }

    /** Reloads now, as {@link ProxyServer#reload()} does. Blocking. */
    public ReloadReport reload() {
        return reload("request");
    }

    /** The outcome of the latest reload, whatever triggered it; empty before the first. */
    public Optional<ReloadReport> lastReload() {
        return Optional.ofNullable(lastReload);
    }

    private ReloadReport reload(String trigger) {
        reloadLock.lock();
        try {
            if (closed) {
                return new ReloadReport(false, List.of(), List.of(), "Sluice is shutting down");
            }
            List<String> warnings = new ArrayList<>();
            SluiceConfig loaded;
            try {
                loaded = ConfigLoader.load(file, env, flags, warnings::add);
            } catch (ConfigException e) {
                log.atWarn().addKeyValue("trigger", trigger).log(
                        "configuration reload ({}) refused, the running configuration stays: {}", trigger, e.getMessage());
                return remember(new ReloadReport(false, List.of(), List.of(), e.getMessage()));
            }
            for (String w : warnings) {
                log.warn(w);
            }
            if (demo != null && loaded.databases().isEmpty()) {
                loaded = withDemo(loaded, demo);
            }
            ConfigChange change = proxy.reconfigure(loaded);
            SluiceConfig now = proxy.config();
            if (change.applied().contains("log_format")) {
                LogOutput.format(now.logFormat());
            }
            if (change.applied().contains("reload.watch")) {
                watch(now.reloadWatch());
            }
            if (change.isEmpty()) {
                log.atInfo().addKeyValue("trigger", trigger).log("configuration reload ({}): nothing changed", trigger);
            } else {
                log.atInfo().addKeyValue("trigger", trigger).addKeyValue("applied", change.applied())
                        .addKeyValue("need_restart", change.needRestart())
                        .log("configuration reload ({}): applied {}; need a restart to take effect: {}", trigger,
                                change.applied().isEmpty() ? "nothing" : String.join(", ", change.applied()),
                                change.needRestart().isEmpty() ? "none" : String.join(", ", change.needRestart()));
            }
            return remember(change.report());
        } finally {
            reloadLock.unlock();
        }
    }

    private ReloadReport remember(ReloadReport report) {
        lastReload = report;
        return report;
    }

    /** Starts or stops watching the file; reloadLock held. */
    private void watch(boolean on) {
        if (on && watcher == null && file.isPresent()) {
            try {
                watcher = ConfigWatcher.start(file.get(), () -> reload("file change"));
            } catch (IOException | RuntimeException e) {
                log.warn("cannot watch {} for changes, reload it with SIGHUP or the admin API: {}", file.get(),
                        e.toString());
            }
        } else if (!on && watcher != null) {
            watcher.close();
            watcher = null;
            log.info("no longer watching {} for changes (reload.watch off)", file.get());
        }
    }

    /**
     * Stops accepting clients, lets transactions in flight finish for at most {@code timeout},
     * then closes everything. Idempotent.
     */
    public void shutdown(Duration timeout) {
        reloadLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (watcher != null) {
                watcher.close();
                watcher = null;
            }
        } finally {
            reloadLock.unlock();
        }
        hangup.ifPresent(HangupSignal::close);
        try {
            proxy.shutdownGracefully(timeout);
            console.close();
            admin.close();
        } finally {
            closeQuietly(demo);
        }
    }

    /** Closes everything at once. */
    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }

    private static void closeQuietly(DemoDatabase demo) {
        if (demo != null) {
            try {
                demo.close();
            } catch (RuntimeException e) {
                log.warn("Stopping the demo database failed: {}", e.getMessage());
            }
        }
    }

    /** The configuration plus the demo database and its user (replacing a user of that name). */
    static SluiceConfig withDemo(SluiceConfig c, DemoDatabase demo) {
        return withDemo(c, demo.database(), demo.user());
    }

    /**
     * The configuration plus the demo database and its user (replacing a user of that name), who
     * is also an admin user of the console; every other setting is kept.
     */
    static SluiceConfig withDemo(SluiceConfig c, DatabaseConfig database, UserConfig demoUser) {
        List<UserConfig> users = new ArrayList<>();
        for (UserConfig u : c.users()) {
            if (!u.name().equals(demoUser.name())) {
                users.add(u);
            }
        }
        users.add(demoUser);
        List<String> admins = new ArrayList<>(c.console().adminUsers());
        if (!admins.contains(demoUser.name())) {
            admins.add(demoUser.name());
        }
        return new SluiceConfig(c.listen(), c.adminListen(), c.authType(), users, List.of(database),
                c.pool(), c.clientTls(), c.serverTls(), c.maxMessageLength(), c.shutdownTimeout(), c.ioThreads(),
                c.admission(), c.stats(), new ConsoleConfig(admins, c.console().statsUsers()), c.admin(),
                c.logFormat(), c.reloadWatch(), c.alerts(), c.ioTransport());
    }
}

package dev.sluice.admin;

import dev.sluice.config.ReloadReport;
import dev.sluice.frontend.AdminConsole;
import dev.sluice.frontend.ClientInfo;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.pool.Pool;
import dev.sluice.protocol.SqlState;
import dev.sluice.stats.QueryStats;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PgBouncer-compatible admin console: {@code psql -p 6432 -U <admin user> sluice} (or
 * database {@code pgbouncer}). Admin users ({@code admin_users}) may run every command; stats
 * users ({@code stats_users}) the SHOW commands only (42501 otherwise). Commands, their columns
 * and what Sluice puts in columns it has no value for are listed in {@code docs/console.md}.
 *
 * <p>Threading: {@link #execute} is called on the client's event loop and returns at once. The
 * command runs on the console's own thread (reading the monitoring views costs locks and
 * copies the data path should not wait for); RELOAD, which blocks, runs on a thread of its own;
 * PAUSE completes when the pools have given every server connection back, bounded by
 * {@code shutdown_timeout}. The answer is encoded and written on the client's event loop. The
 * same thread takes the SHOW STATS sample that ends each 60-second period.
 */
public final class Console implements AdminConsole, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Console.class);

    /** PgBouncer's default {@code stats_period}: SHOW STATS averages cover the last one. */
    static final Duration STATS_PERIOD = Duration.ofSeconds(60);
    static final int DEFAULT_QUERIES = 20;
    static final int MAX_QUERIES = 1000;

    private static final String OBJECT_NOT_IN_PREREQUISITE_STATE = "55000";
    private static final String UNDEFINED_OBJECT = "42704";
    private static final String CONFIG_FILE_ERROR = "F0000";

    /** Session parameters drivers set or show on connect; SET is ignored and SHOW answers as PgBouncer does. */
    private static final Map<String, String> SESSION_PARAMETERS = Map.of(
            "client_encoding", "UTF8",
            "default_transaction_isolation", "read committed",
            "standard_conforming_strings", "on",
            "datestyle", "ISO, MDY",
            "timezone", "UTC",
            "extra_float_digits", "3",
            "application_name", "");
    private static final Set<String> ACTIONS = Set.of("PAUSE", "RESUME", "RELOAD", "KILL", "KILL_CLIENT",
            "SUSPEND", "SHUTDOWN", "RECONNECT", "DISABLE", "ENABLE", "WAIT_CLOSE");
    private static final Set<String> UNSUPPORTED_SHOW = Set.of("FDS", "SOCKETS", "ACTIVE_SOCKETS", "MEM",
            "DNS_HOSTS", "DNS_ZONES", "PEERS", "PEER_POOLS");
    private static final String HELP = """
            SHOW HELP|CONFIG|DATABASES|POOLS|CLIENTS|SERVERS|USERS|VERSION|STATE|LISTS
            SHOW STATS|STATS_TOTALS|STATS_AVERAGES|TOTALS
            SHOW QUERIES [total_time|calls|mean_time|p99|errors] [<limit>]
            SET client_encoding|application_name|... = <value>  (accepted and ignored)
            RELOAD
            PAUSE [<db>]
            RESUME [<db>]
            KILL [<db>]
            KILL_CLIENT <client id>""";

    private final ProxyServer proxy;
    private final ScheduledExecutorService worker;
    private final StatsWindow stats;
    private final ConsoleViews views;

    /**
     * A console for {@code proxy}; install it with {@link ProxyServer#console(AdminConsole)}, or use
     * {@link #install}. {@code version} is what SHOW VERSION reports.
     */
    public Console(ProxyServer proxy, String version) {
        this.proxy = proxy;
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-console");
            t.setDaemon(true);
            return t;
        });
        this.stats = new StatsWindow(proxy.traffic(), System::nanoTime);
        this.views = new ConsoleViews(proxy, stats, version);
        long period = STATS_PERIOD.toMillis();
        worker.scheduleAtFixedRate(() -> {
            try {
                stats.roll();
            } catch (RuntimeException e) {
                // a failed sample costs one period of averages; letting it escape would stop sampling
                log.warn("console: statistics sample failed", e);
            }
        }, period, period, TimeUnit.MILLISECONDS);
    }

    /** Creates a console for {@code proxy} and installs it there. */
    public static Console install(ProxyServer proxy, String version) {
        Console c = new Console(proxy, version);
        proxy.console(c);
        return c;
    }

    @Override
    public boolean allowed(String user) {
        return proxy.config().console().allows(user);
    }

    @Override
    public CompletionStage<Void> execute(Channel channel, String user, String sql) {
        CompletableFuture<Void> written = new CompletableFuture<>();
        CompletableFuture<Reply> reply;
        try {
            reply = CompletableFuture.supplyAsync(() -> run(user, sql), worker).thenCompose(Function.identity());
        } catch (RejectedExecutionException e) {
            reply = CompletableFuture.completedFuture(Reply.error(SqlState.ADMIN_SHUTDOWN, "the console is shutting down"));
        }
        reply.whenComplete((r, error) -> {
            Reply answer = error == null ? r : failed(sql, error);
            try {
                channel.eventLoop().execute(() -> {
                    channel.write(answer.encode(channel.alloc()));
                    written.complete(null);
                });
            } catch (RejectedExecutionException e) {
                written.complete(null); // the client's loop is gone, and the client with it
            }
        });
        return written;
    }

    /** Stops the console's thread; commands still running may not be answered. */
    @Override
    public void close() {
        worker.shutdownNow();
    }

    private static Reply failed(String sql, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        log.warn("console: '{}' failed", sql, cause);
        return Reply.error(SqlState.INTERNAL_ERROR, "console command failed: " + cause);
    }

    // ------------------------------------------------------------------ dispatch

    private CompletableFuture<Reply> run(String user, String sql) {
        ConsoleCommand cmd;
        try {
            cmd = ConsoleCommand.parse(sql);
        } catch (ConsoleCommand.SyntaxException e) {
            return done(syntaxError(sql, e.getMessage()));
        }
        if (cmd.isEmpty()) {
            return done(Reply.emptyQuery());
        }
        boolean admin = proxy.config().console().isAdmin(user);
        if (cmd.verb().equals("SHOW")) {
            return done(show(cmd, sql));
        }
        if (cmd.verb().equals("SET")) {
            return done(set(cmd, user, admin));
        }
        if (!ACTIONS.contains(cmd.verb())) {
            return done(Reply.error(SqlState.SYNTAX_ERROR, "unknown console command " + quote(sql)
                    + ": SHOW HELP lists the commands"));
        }
        if (!admin) {
            return done(Reply.error(SqlState.INSUFFICIENT_PRIVILEGE, "permission denied: " + cmd.verb()
                    + " needs an admin user (admin_users); user \"" + user + "\" may run SHOW commands only (stats_users)"));
        }
        return switch (cmd.verb()) {
            case "PAUSE" -> pause(cmd, sql, user);
            case "RESUME" -> done(resume(cmd, sql, user));
            case "KILL" -> done(kill(cmd, sql, user));
            case "KILL_CLIENT" -> done(killClient(cmd, user));
            case "RELOAD" -> reload(cmd, sql, user);
            case "SUSPEND" -> done(unsupported("SUSPEND", "use PAUSE to stop lending server connections"));
            case "SHUTDOWN" -> done(unsupported("SHUTDOWN", "stop the process with SIGTERM for a graceful shutdown"));
            case "RECONNECT" -> done(unsupported("RECONNECT", "PAUSE and RESUME close and reopen server connections"));
            case "WAIT_CLOSE" -> done(unsupported("WAIT_CLOSE", "PAUSE waits until no server connection is in use"));
            default -> done(unsupported(cmd.verb(), "use KILL <db> or PAUSE <db> to keep clients off a database"));
        };
    }

    private static CompletableFuture<Reply> done(Reply r) {
        return CompletableFuture.completedFuture(r);
    }

    private static Reply syntaxError(String sql, String why) {
        return Reply.error(SqlState.SYNTAX_ERROR, "syntax error in console command " + quote(sql) + ": " + why
                + "; SHOW HELP lists the commands");
    }

    private static Reply unsupported(String command, String instead) {
        return Reply.error(SqlState.FEATURE_NOT_SUPPORTED, command + " is not supported by Sluice's console (" + instead + ")");
    }

    private static String quote(String sql) {
        String s = sql.strip().replace('\n', ' ');
        return "'" + (s.length() > 100 ? s.substring(0, 97) + "..." : s) + "'";
    }

    // ------------------------------------------------------------------ SHOW and SET

    private Reply show(ConsoleCommand cmd, String sql) {
        String item = cmd.item();
        if (item.isEmpty()) {
            return syntaxError(sql, "SHOW needs an item, e.g. SHOW POOLS");
        }
        if (item.equals("QUERIES")) {
            return queries(cmd, sql);
        }
        if (cmd.words().size() > 1) {
            return syntaxError(sql, "SHOW " + item + " takes no argument");
        }
        String parameter = SESSION_PARAMETERS.get(item.toLowerCase(Locale.ROOT));
        if (parameter != null) {
            return new Reply.Table("SHOW").text(item.toLowerCase(Locale.ROOT)).row(parameter);
        }
        return switch (item) {
            case "POOLS" -> views.pools();
            case "CLIENTS" -> views.clients();
            case "SERVERS" -> views.servers();
            case "DATABASES" -> views.databases();
            case "USERS" -> views.users();
            case "CONFIG" -> views.config();
            case "LISTS" -> views.lists();
            case "VERSION" -> views.version();
            case "STATE" -> views.state();
            case "STATS" -> views.stats();
            case "STATS_TOTALS" -> views.statsPart(true);
            case "STATS_AVERAGES" -> views.statsPart(false);
            case "TOTALS" -> views.totals();
            case "HELP" -> Reply.notice("Console usage", HELP, Reply.tag("SHOW"));
            default -> UNSUPPORTED_SHOW.contains(item)
                    ? unsupported("SHOW " + item, "SHOW HELP lists what it supports")
                    : Reply.error(SqlState.SYNTAX_ERROR, "unknown SHOW item " + quote(cmd.words().getFirst())
                            + ": SHOW HELP lists the items");
        };
    }

    /** SHOW QUERIES [sort] [limit]. */
    private Reply queries(ConsoleCommand cmd, String sql) {
        QueryStats.SortBy sortBy = QueryStats.SortBy.TOTAL_TIME;
        int limit = DEFAULT_QUERIES;
        List<String> args = cmd.words().subList(1, cmd.words().size());
        if (args.size() > 2) {
            return syntaxError(sql, "expected SHOW QUERIES [total_time|calls|mean_time|p99|errors] [<limit>]");
        }
        for (String a : args) {
            if (a.chars().allMatch(Character::isDigit)) {
                try {
                    limit = Integer.parseInt(a);
                } catch (NumberFormatException e) {
                    limit = Integer.MAX_VALUE;
                }
                if (limit < 1 || limit > MAX_QUERIES) {
                    return Reply.error(SqlState.INVALID_PARAMETER_VALUE, "SHOW QUERIES: limit " + a
                            + " is not allowed (expected 1 to " + MAX_QUERIES + ")");
                }
            } else {
                try {
                    sortBy = QueryStats.SortBy.valueOf(a.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    return Reply.error(SqlState.INVALID_PARAMETER_VALUE, "SHOW QUERIES: order " + quote(a)
                            + " is not allowed (expected total_time, calls, mean_time, p99 or errors)");
                }
            }
        }
        return views.queries(sortBy, limit);
    }

    /** SET of a session parameter is accepted and ignored, as PgBouncer does for drivers; settings cannot be set. */
    private static Reply set(ConsoleCommand cmd, String user, boolean admin) {
        String key = cmd.words().getFirst();
        if (SESSION_PARAMETERS.containsKey(key.toLowerCase(Locale.ROOT))) {
            return Reply.notice("SET ignored", null, Reply.tag("SET"));
        }
        if (!admin) {
            return Reply.error(SqlState.INSUFFICIENT_PRIVILEGE, "permission denied: SET needs an admin user (admin_users); user \""
                    + user + "\" may run SHOW commands only (stats_users)");
        }
        return unsupported("SET " + key, "change the configuration file and run RELOAD");
    }

    // ------------------------------------------------------------------ actions

    /** The database a PAUSE, RESUME or KILL names, or an error; null database means all. */
    private Reply checkDatabase(ConsoleCommand cmd, String sql, String verb) {
        if (cmd.words().size() > 1) {
            return syntaxError(sql, verb + " takes at most one database name");
        }
        String db = cmd.argument();
        if (db == null) {
            return null;
        }
        if (AdminConsole.isConsoleDatabase(db)) {
            return Reply.error(OBJECT_NOT_IN_PREREQUISITE_STATE, "cannot " + verb + " the console database " + db);
        }
        if (!views.isKnownDatabase(db)) {
            return Reply.error(SqlState.INVALID_CATALOG_NAME, "no such database: " + db);
        }
        return null;
    }

    private List<Pool> pools(String database) {
        return proxy.poolList().stream().filter(p -> database == null || p.database().equals(database)).toList();
    }

    private CompletableFuture<Reply> pause(ConsoleCommand cmd, String sql, String user) {
        Reply invalid = checkDatabase(cmd, sql, "PAUSE");
        if (invalid != null) {
            return done(invalid);
        }
        String db = cmd.argument();
        log.warn("console: PAUSE {} by user {}", db == null ? "(all databases)" : db, user);
        Duration bound = proxy.config().shutdownTimeout();
        boolean none = pools(db).isEmpty();
        CompletableFuture<Void> paused = proxy.pause(db);
        if (none) {
            // no pool to wait for; pools created later for this database start paused
            return done(Reply.notice("no pool of " + (db == null ? "any database" : "database " + db)
                    + " exists yet: its pools will start paused, so its first clients wait until RESUME",
                    null, Reply.tag("PAUSE")));
        }
        if (paused.isDone()) {
            return done(Reply.tag("PAUSE"));
        }
        if (bound.isZero()) {
            return done(pauseTimedOut(db, bound));
        }
        return paused.orTimeout(bound.toMillis(), TimeUnit.MILLISECONDS).handle((ok, error) -> {
            if (error == null) {
                return Reply.tag("PAUSE");
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof TimeoutException) {
                return pauseTimedOut(db, bound);
            }
            return Reply.error(SqlState.INTERNAL_ERROR, "PAUSE failed: " + cause);
        });
    }

    private Reply pauseTimedOut(String db, Duration bound) {
        int inUse = 0;
        for (Pool p : pools(db)) {
            inUse += p.snapshot().inUse();
        }
        String which = db == null ? "" : " " + db;
        return Reply.error(SqlState.QUERY_CANCELED, "PAUSE" + which + " did not complete within "
                + bound.toMillis() + " ms (shutdown_timeout): " + inUse + " server connection"
                + (inUse == 1 ? " is" : "s are") + " still in use; the pools stay paused, RESUME" + which + " to undo");
    }

    private Reply resume(ConsoleCommand cmd, String sql, String user) {
        Reply invalid = checkDatabase(cmd, sql, "RESUME");
        if (invalid != null) {
            return invalid;
        }
        String db = cmd.argument();
        if (pools(db).stream().noneMatch(Pool::isPaused)) {
            return Reply.error(OBJECT_NOT_IN_PREREQUISITE_STATE,
                    db == null ? "nothing is paused" : "database " + db + " is not paused");
        }
        log.warn("console: RESUME {} by user {}", db == null ? "(all databases)" : db, user);
        proxy.resume(db);
        return Reply.tag("RESUME");
    }

    /** As PgBouncer: pauses the database (new requests wait until RESUME) and disconnects its clients. */
    private Reply kill(ConsoleCommand cmd, String sql, String user) {
        Reply invalid = checkDatabase(cmd, sql, "KILL");
        if (invalid != null) {
            return invalid;
        }
        String db = cmd.argument();
        proxy.pause(db);
        int killed = 0;
        for (ClientInfo c : proxy.clients()) {
            if (!AdminConsole.isConsoleDatabase(c.database()) && (db == null || db.equals(c.database()))
                    && proxy.terminateClient(c.id(), "KILL")) {
                killed++;
            }
        }
        log.warn("console: KILL {} by user {}: {} clients disconnected", db == null ? "(all databases)" : db, user,
                killed);
        return Reply.tag("KILL");
    }

    private Reply killClient(ConsoleCommand cmd, String user) {
        if (cmd.words().size() != 1) {
            return Reply.error(SqlState.SYNTAX_ERROR, "expected KILL_CLIENT <client id> (the id column of SHOW CLIENTS)");
        }
        int id;
        try {
            id = Integer.parseInt(cmd.argument());
        } catch (NumberFormatException e) {
            id = 0;
        }
        if (id <= 0) {
            return Reply.error(SqlState.INVALID_PARAMETER_VALUE, "KILL_CLIENT: " + quote(cmd.argument())
                    + " is not a client id (the id column of SHOW CLIENTS)");
        }
        if (!proxy.terminateClient(id, "KILL_CLIENT")) {
            return Reply.error(UNDEFINED_OBJECT, "client " + id + " not found");
        }
        log.warn("console: KILL_CLIENT {} by user {}", id, user);
        return Reply.tag("KILL_CLIENT");
    }

    private CompletableFuture<Reply> reload(ConsoleCommand cmd, String sql, String user) {
        if (!cmd.words().isEmpty()) {
            return done(syntaxError(sql, "RELOAD takes no argument"));
        }
        log.info("console: RELOAD by user {}", user);
        CompletableFuture<Reply> answer = new CompletableFuture<>();
        // reload() reads files and may wait for pools: never on the console's thread or a loop
        Thread.ofVirtual().name("sluice-console-reload").start(() -> {
            try {
                answer.complete(reloaded(proxy.reload()));
            } catch (RuntimeException | Error e) {
                answer.completeExceptionally(e);
            }
        });
        return answer;
    }

    private static Reply reloaded(ReloadReport r) {
        if (!r.ok()) {
            return Reply.error(CONFIG_FILE_ERROR, "RELOAD failed: " + r.error());
        }
        if (r.applied().isEmpty() && r.needRestart().isEmpty()) {
            return Reply.notice("configuration reloaded: nothing changed", null, Reply.tag("RELOAD"));
        }
        StringBuilder detail = new StringBuilder();
        if (!r.applied().isEmpty()) {
            detail.append("applied: ").append(String.join(", ", r.applied()));
        }
        if (!r.needRestart().isEmpty()) {
            if (!detail.isEmpty()) {
                detail.append('\n');
            }
            detail.append("need a restart: ").append(String.join(", ", r.needRestart()));
        }
        return Reply.notice("configuration reloaded", detail.toString(), Reply.tag("RELOAD"));
    }
}

package dev.sluice.admin;

import dev.sluice.admin.Reply.Table;
import dev.sluice.backend.ServerInfo;
import dev.sluice.config.ConfigView;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.UserConfig;
import dev.sluice.frontend.AdminConsole;
import dev.sluice.frontend.ClientInfo;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.pool.Pool;
import dev.sluice.stats.QueryStats;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The tables of the console's SHOW commands, read from the proxy's monitoring views (each a
 * moment old, see {@link ClientInfo}). Column names, order and types follow PgBouncer where
 * Sluice has the same concept; values Sluice does not have are 0, empty or NULL, as
 * {@code docs/console.md} lists. Called on the console's own thread, never on an event loop.
 */
final class ConsoleViews {

    /** SHOW STATS shows the process-wide counters under this database name (Sluice does not count per database). */
    static final String ALL_DATABASES = "*";

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss'+00'").withZone(ZoneOffset.UTC);

    private final ProxyServer proxy;
    private final StatsWindow stats;
    private final String version;

    ConsoleViews(ProxyServer proxy, StatsWindow stats, String version) {
        this.proxy = proxy;
        this.stats = stats;
        this.version = version;
    }

    // ------------------------------------------------------------------ pools, clients, servers

    Table pools() {
        Table t = new Table("SHOW").text("database").text("user")
                .int4("cl_active").int4("cl_waiting").int4("cl_active_cancel_req").int4("cl_waiting_cancel_req")
                .int4("sv_active").int4("sv_active_cancel").int4("sv_being_canceled").int4("sv_idle").int4("sv_used")
                .int4("sv_tested").int4("sv_login").int4("maxwait").int4("maxwait_us").text("pool_mode");
        Map<String, int[]> clientsByPool = new HashMap<>();
        for (ClientInfo c : proxy.clients()) {
            if ("active".equals(c.state()) || "idle".equals(c.state())) {
                clientsByPool.computeIfAbsent(c.database() + "\0" + c.user(), k -> new int[1])[0]++;
            }
        }
        for (Pool p : sortedPools()) {
            Pool.Snapshot snap = p.snapshot();
            int active = 0;
            int idle = 0;
            int used = 0;
            int tested = 0;
            int login = 0;
            for (ServerInfo s : p.servers()) {
                switch (s.state()) {
                    case "active" -> active++;
                    case "idle" -> idle++;
                    case "used" -> used++;
                    case "tested" -> tested++;
                    case "login" -> login++;
                    default -> { } // closed: on its way out
                }
            }
            long waitMicros = TimeUnit.NANOSECONDS.toMicros(snap.oldestWaitNanos());
            int[] clients = clientsByPool.get(p.database() + "\0" + p.user());
            t.row(p.database(), p.user(), clients == null ? 0 : clients[0], snap.waiting(), 0, 0,
                    active, 0, 0, idle, used, tested, login, waitMicros / 1_000_000, waitMicros % 1_000_000,
                    p.mode().configName());
        }
        return t;
    }

    private static Table connectionTable() {
        return new Table("SHOW").text("type").text("user").text("database").text("replication").text("state")
                .text("addr").int4("port").text("local_addr").int4("local_port")
                .timestamp("connect_time").timestamp("request_time").int4("wait").int4("wait_us").int4("close_needed")
                .text("ptr").text("link").int4("remote_pid").text("tls").text("application_name")
                .int4("prepared_statements").int4("id");
    }

    Table clients() {
        Table t = connectionTable();
        List<ClientInfo> clients = new ArrayList<>(proxy.clients());
        clients.sort(Comparator.comparingInt(ClientInfo::id));
        for (ClientInfo c : clients) {
            if ("closed".equals(c.state())) {
                continue;
            }
            // a console client holds no server connection: PgBouncer shows such a client as idle
            String state = "console".equals(c.state()) ? "idle" : c.state();
            long waitMicros = TimeUnit.NANOSECONDS.toMicros(c.waitingNanos());
            t.row("C", c.user(), c.database(), "none", state, text(c.address()), c.port(), text(c.localAddress()),
                    c.localPort(), time(c.connectedAtMillis()),
                    time(c.requestAtMillis() != 0 ? c.requestAtMillis() : c.connectedAtMillis()),
                    waitMicros / 1_000_000, waitMicros % 1_000_000, 0, String.valueOf(c.id()),
                    c.serverId() == 0 ? "" : String.valueOf(c.serverId()), 0, c.tls() ? "TLS" : "",
                    text(c.applicationName()), c.preparedStatements(), c.id());
        }
        return t;
    }

    Table servers() {
        Table t = connectionTable();
        Map<Integer, String> applications = new HashMap<>();
        for (ClientInfo c : proxy.clients()) {
            if (c.applicationName() != null) {
                applications.put(c.id(), c.applicationName());
            }
        }
        for (Pool p : sortedPools()) {
            List<ServerInfo> servers = new ArrayList<>(p.servers());
            servers.sort(Comparator.comparingInt(ServerInfo::id));
            for (ServerInfo s : servers) {
                if ("closed".equals(s.state())) {
                    continue;
                }
                t.row("S", s.user(), p.database(), "none", s.state(), text(s.host()), s.port(), text(s.localAddress()),
                        s.localPort(), time(s.connectedAtMillis()), time(s.lastUsedAtMillis()), 0, 0, 0,
                        String.valueOf(s.id()), s.clientId() == 0 ? "" : String.valueOf(s.clientId()), s.backendPid(),
                        s.tls() ? "TLS" : "", s.clientId() == 0 ? "" : applications.getOrDefault(s.clientId(), ""),
                        s.preparedStatements(), s.id());
            }
        }
        return t;
    }

    // ------------------------------------------------------------------ configuration

    Table databases() {
        Table t = new Table("SHOW").text("name").text("host").int4("port").text("database").text("force_user")
                .int4("pool_size").int4("min_pool_size").int4("reserve_pool_size").int4("server_lifetime")
                .text("pool_mode").int4("max_connections").int4("current_connections")
                .int4("max_client_connections").int4("current_client_connections").int4("paused").int4("disabled");
        SluiceConfig c = proxy.config();
        Map<String, Integer> clients = new HashMap<>();
        for (ClientInfo ci : proxy.clients()) {
            if (!"closed".equals(ci.state())) {
                clients.merge(ci.database(), 1, Integer::sum);
            }
        }
        for (DatabaseConfig d : c.databases()) {
            int servers = 0;
            boolean paused = false;
            for (Pool p : proxy.poolList()) {
                if (p.database().equals(d.name())) {
                    servers += p.snapshot().total();
                    paused |= p.isPaused();
                }
            }
            t.row(d.name(), d.host(), d.port(), d.dbname(), d.user().orElse(null), d.poolSize().orElse(c.pool().size()),
                    c.pool().minIdle(), 0, c.pool().serverLifetime().toSeconds(),
                    d.poolMode().map(SluiceConfig.PoolMode::configName).orElse(null), 0, servers, 0,
                    clients.getOrDefault(d.name(), 0), paused ? 1 : 0, 0);
        }
        return t;
    }

    Table users() {
        Table t = new Table("SHOW").text("name").text("pool_size").text("reserve_pool_size").text("pool_mode")
                .int4("max_user_connections").int4("current_connections")
                .int4("max_user_client_connections").int4("current_client_connections");
        Set<String> names = new LinkedHashSet<>();
        for (UserConfig u : proxy.config().users()) {
            names.add(u.name());
        }
        Map<String, Integer> servers = new HashMap<>();
        for (Pool p : proxy.poolList()) {
            names.add(p.user());
            servers.merge(p.user(), p.snapshot().total(), Integer::sum);
        }
        Map<String, Integer> clients = new HashMap<>();
        for (ClientInfo ci : proxy.clients()) {
            if (!"closed".equals(ci.state()) && !ci.user().isEmpty()) {
                names.add(ci.user());
                clients.merge(ci.user(), 1, Integer::sum);
            }
        }
        for (String name : names) {
            t.row(name, "", "", null, 0, servers.getOrDefault(name, 0), 0, clients.getOrDefault(name, 0));
        }
        return t;
    }

    Table config() {
        Table t = new Table("SHOW").text("key").text("value").text("default").text("changeable");
        for (ConfigView.Entry e : ConfigView.entries(proxy.config())) {
            t.row(e.key(), e.value(), e.defaultValue(), e.changeable() ? "yes" : "no");
        }
        return t;
    }

    Table lists() {
        SluiceConfig c = proxy.config();
        List<ClientInfo> clients = proxy.clients();
        int servers = 0;
        for (Pool p : proxy.poolList()) {
            servers += p.snapshot().total();
        }
        long login = clients.stream().filter(ci -> "login".equals(ci.state())).count();
        Table t = new Table("SHOW").text("list").int4("items");
        t.row("databases", c.databases().size());
        t.row("users", c.users().size());
        t.row("peers", 0);
        t.row("pools", proxy.poolList().size());
        t.row("peer_pools", 0);
        t.row("free_clients", 0);
        t.row("used_clients", clients.size());
        t.row("login_clients", login);
        t.row("free_servers", 0);
        t.row("used_servers", servers);
        t.row("dns_names", 0);
        t.row("dns_zones", 0);
        t.row("dns_queries", 0);
        t.row("dns_pending", 0);
        return t;
    }

    Table version() {
        return new Table("SHOW").text("version").row("Sluice " + version + " (console compatible with PgBouncer 1.23.0)");
    }

    Table state() {
        List<Pool> pools = proxy.poolList();
        boolean allPaused = !pools.isEmpty() && pools.stream().allMatch(Pool::isPaused);
        return new Table("SHOW").text("key").text("value")
                .row("active", allPaused ? "no" : "yes")
                .row("paused", allPaused ? "yes" : "no")
                .row("suspended", "no");
    }

    // ------------------------------------------------------------------ statistics

    Table stats() {
        StatsWindow.Sample s = stats.now();
        StatsWindow.Averages a = stats.averages();
        return new Table("SHOW").text("database")
                .int8("total_server_assignment_count").int8("total_xact_count").int8("total_query_count")
                .int8("total_received").int8("total_sent").int8("total_xact_time").int8("total_query_time")
                .int8("total_wait_time").int8("total_client_parse_count").int8("total_server_parse_count")
                .int8("total_bind_count")
                .int8("avg_server_assignment_count").int8("avg_xact_count").int8("avg_query_count")
                .int8("avg_recv").int8("avg_sent").int8("avg_xact_time").int8("avg_query_time").int8("avg_wait_time")
                .int8("avg_client_parse_count").int8("avg_server_parse_count").int8("avg_bind_count")
                .row(ALL_DATABASES, s.assignments(), s.transactions(), s.queries(), s.received(), s.sent(), 0,
                        s.queryMicros(), s.waitMicros(), 0, 0, 0,
                        a.assignments(), a.transactions(), a.queries(), a.received(), a.sent(), 0, a.queryMicros(),
                        a.waitMicros(), 0, 0, 0);
    }

    /** SHOW STATS_TOTALS (totals) and SHOW STATS_AVERAGES (averages): the same columns, without prefixes. */
    Table statsPart(boolean totals) {
        Table t = new Table("SHOW").text("database").int8("server_assignment_count").int8("xact_count")
                .int8("query_count").int8("bytes_received").int8("bytes_sent").int8("xact_time").int8("query_time")
                .int8("wait_time").int8("client_parse_count").int8("server_parse_count").int8("bind_count");
        if (totals) {
            StatsWindow.Sample s = stats.now();
            t.row(ALL_DATABASES, s.assignments(), s.transactions(), s.queries(), s.received(), s.sent(), 0,
                    s.queryMicros(), s.waitMicros(), 0, 0, 0);
        } else {
            StatsWindow.Averages a = stats.averages();
            t.row(ALL_DATABASES, a.assignments(), a.transactions(), a.queries(), a.received(), a.sent(), 0,
                    a.queryMicros(), a.waitMicros(), 0, 0, 0);
        }
        return t;
    }

    /** SHOW TOTALS: SHOW STATS of all databases as name/value rows. */
    Table totals() {
        Table stats = stats();
        Table t = new Table("SHOW").text("name").int8("value");
        List<Reply.Column> columns = stats.columns();
        String[] row = stats.rows().getFirst();
        for (int i = 1; i < columns.size(); i++) {
            t.row(columns.get(i).name(), row[i]);
        }
        return t;
    }

    /** SHOW QUERIES: Sluice's own, the top fingerprints of {@link QueryStats}. Times in microseconds. */
    Table queries(QueryStats.SortBy sortBy, int limit) {
        Table t = new Table("SHOW").int8("queryid").text("query").int8("calls").int8("errors").int8("rows")
                .int8("total_time_us").int8("mean_time_us").int8("min_time_us").int8("max_time_us")
                .int8("p50_us").int8("p95_us").int8("p99_us").int8("wait_time_us").text("errors_by_sqlstate")
                .text("sources");
        for (QueryStats.Row r : proxy.queryStats().snapshot(sortBy, limit).rows()) {
            String errors = r.errorsBySqlState().entrySet().stream()
                    .map(e -> e.getKey() + ":" + e.getValue()).collect(Collectors.joining(", "));
            List<String> sources = new ArrayList<>();
            for (QueryStats.Source s : r.sources()) {
                sources.add(text(s.database()) + "/" + text(s.user()) + "/" + text(s.application()) + ":" + s.calls());
            }
            if (r.otherSourceCalls() > 0) {
                sources.add("others:" + r.otherSourceCalls());
            }
            t.row(r.id(), r.text(), r.calls(), r.errors(), r.rows(), micros(r.totalNanos()), micros(r.meanNanos()),
                    micros(r.minNanos()), micros(r.maxNanos()), micros(r.p50Nanos()), micros(r.p95Nanos()),
                    micros(r.p99Nanos()), micros(r.waitNanos()), errors, String.join(", ", sources));
        }
        return t;
    }

    // ------------------------------------------------------------------ helpers

    /** The pools ordered by database, then user, as PgBouncer lists them. */
    private List<Pool> sortedPools() {
        List<Pool> pools = new ArrayList<>(proxy.poolList());
        pools.sort(Comparator.comparing(Pool::database).thenComparing(Pool::user));
        return pools;
    }

    /** Whether {@code database} is one clients may reach through a pool (configured, or has a pool). */
    boolean isKnownDatabase(String database) {
        if (AdminConsole.isConsoleDatabase(database)) {
            return false;
        }
        return proxy.config().database(database).isPresent()
                || proxy.poolList().stream().anyMatch(p -> p.database().equals(database));
    }

    private static String time(long millis) {
        return millis <= 0 ? null : TIME.format(Instant.ofEpochMilli(millis));
    }

    private static String text(String s) {
        return s == null ? "" : s;
    }

    private static long micros(long nanos) {
        return TimeUnit.NANOSECONDS.toMicros(nanos);
    }
}

package dev.sluice.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.sluice.admission.AdaptiveLimit;
import dev.sluice.admission.Priority;
import dev.sluice.backend.ServerInfo;
import dev.sluice.frontend.ClientInfo;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.pool.Pool;
import dev.sluice.pool.Upstream;
import dev.sluice.stats.QueryStats;
import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What runs through Sluice, as JSON (names in snake case, times in milliseconds unless the name
 * says otherwise):
 * <ul>
 * <li>{@code GET /api/v1/pools[?database=]}: every pool (database, user, mode, size, server
 *     connections by state, clients active and waiting, waiting by class, oldest wait, paused,
 *     upstream) and every upstream (circuit, remaining cool-down, limit, mode, capacity);</li>
 * <li>{@code GET /api/v1/clients[?database=&user=&state=]}: {@link ClientInfo} of every client;</li>
 * <li>{@code GET /api/v1/servers[?database=&user=&state=]}: {@link ServerInfo} of every server
 *     connection;</li>
 * <li>{@code GET /api/v1/queries[?sort=total_time|calls|mean_time|p99|errors&limit=N]}: the top
 *     fingerprints of {@link QueryStats} (default total_time, 50; limit 1 to 5000);</li>
 * <li>{@code POST /api/v1/queries/reset}: forgets every fingerprint.</li>
 * </ul>
 */
final class PoolRoutes {
    static final List<String> CLIENT_STATES = List.of("login", "idle", "active", "waiting", "console", "closed");
    static final List<String> SERVER_STATES = List.of("login", "idle", "active", "used", "tested", "closed");
    static final List<String> SORTS = List.of("total_time", "calls", "mean_time", "p99", "errors");
    static final int DEFAULT_QUERY_LIMIT = 50;

    private static final ObjectMapper SNAKE = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    private final ProxyServer proxy;

    PoolRoutes(ProxyServer proxy) {
        this.proxy = proxy;
    }

    void register(AdminServer server) {
        server.route(HttpMethod.GET, "/api/v1/pools", r -> AdminResponse.json(pools(Params.of(r, "database"))));
        server.route(HttpMethod.GET, "/api/v1/clients", r -> {
            Params p = Params.of(r, "database", "user", "state");
            String database = p.text("database");
            String user = p.text("user");
            String state = p.choice("state", CLIENT_STATES, null);
            List<Object> out = new ArrayList<>();
            for (ClientInfo c : proxy.clients()) {
                if (matches(database, c.database()) && matches(user, c.user()) && matches(state, c.state())) {
                    out.add(SNAKE.valueToTree(c));
                }
            }
            return AdminResponse.json(Map.of("clients", out));
        });
        server.route(HttpMethod.GET, "/api/v1/servers", r -> {
            Params p = Params.of(r, "database", "user", "state");
            String database = p.text("database");
            String user = p.text("user");
            String state = p.choice("state", SERVER_STATES, null);
            List<Object> out = new ArrayList<>();
            for (Pool pool : proxy.poolList()) {
                for (ServerInfo s : pool.servers()) {
                    if (matches(database, s.database()) && matches(user, s.user()) && matches(state, s.state())) {
                        out.add(SNAKE.valueToTree(s));
                    }
                }
            }
            return AdminResponse.json(Map.of("servers", out));
        });
        server.route(HttpMethod.GET, "/api/v1/queries", r -> {
            Params p = Params.of(r, "sort", "limit");
            String sort = p.choice("sort", SORTS, "total_time");
            int limit = p.integer("limit", 1, QueryStats.DEFAULT_MAX_FINGERPRINTS, DEFAULT_QUERY_LIMIT);
            QueryStats.Snapshot s = proxy.queryStats().snapshot(QueryStats.SortBy.valueOf(sort.toUpperCase(Locale.ROOT)),
                    limit);
            return AdminResponse.json(queries(sort, limit, s));
        });
        server.route(HttpMethod.POST, "/api/v1/queries/reset", r -> {
            Params.of(r);
            int before = proxy.queryStats().size();
            proxy.queryStats().reset();
            return AdminResponse.json(Map.of("reset", true, "fingerprints_forgotten", before));
        });
    }

    private static boolean matches(String wanted, String actual) {
        return wanted == null || wanted.equals(actual);
    }

    private Map<String, Object> pools(Params params) {
        String database = params.text("database");
        List<ClientInfo> clients = proxy.clients();
        List<Map<String, Object>> pools = new ArrayList<>();
        for (Pool p : proxy.poolList()) {
            if (!matches(database, p.database())) {
                continue;
            }
            Pool.Snapshot s = p.snapshot();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("pool", s.name());
            m.put("database", p.database());
            m.put("user", p.user());
            m.put("mode", s.mode().configName());
            m.put("size", s.size());
            m.put("reserved", s.reserved());
            m.put("upstream", p.upstream().label());
            m.put("paused", s.paused());
            Map<String, Integer> byState = new LinkedHashMap<>();
            for (String state : SERVER_STATES) {
                byState.put(state, 0);
            }
            for (ServerInfo si : p.servers()) {
                byState.merge(si.state(), 1, Integer::sum);
            }
            Map<String, Object> servers = new LinkedHashMap<>();
            servers.put("total", s.total());
            servers.put("idle", s.idle());
            servers.put("in_use", s.inUse());
            servers.put("by_state", byState);
            m.put("server_connections", servers);
            int active = 0;
            int waiting = 0;
            int total = 0;
            for (ClientInfo c : clients) {
                if (p.database().equals(c.database()) && p.user().equals(c.user())) {
                    total++;
                    if (c.state().equals("active")) {
                        active++;
                    } else if (c.state().equals("waiting")) {
                        waiting++;
                    }
                }
            }
            m.put("clients", Map.of("total", total, "active", active, "waiting", waiting));
            m.put("waiting", s.waiting());
            Map<String, Integer> byClass = new LinkedHashMap<>();
            for (Priority pr : Priority.values()) {
                byClass.put(pr.configName(), s.byClass().getOrDefault(pr, 0));
            }
            m.put("waiting_by_class", byClass);
            m.put("oldest_wait_ms", millis(s.oldestWaitNanos()));
            pools.add(m);
        }
        List<Map<String, Object>> ups = new ArrayList<>();
        for (Throttling.UpstreamLoad l : Throttling.loads(proxy)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("upstream", l.upstream());
            m.put("circuit", l.circuit().name().toLowerCase(Locale.ROOT));
            m.put("retry_after_ms", l.retryAfterNanos() / 1_000_000);
            m.put("mode", l.mode().configName());
            Upstream u = upstream(l.upstream());
            m.put("mode_forced", u != null && u.mode().isForced());
            AdaptiveLimit limit = u == null ? null : u.adaptiveLimit();
            m.put("limit_kind", limit == null ? "fixed" : "adaptive");
            m.put("limit", limit == null ? l.capacity() : limit.limit());
            m.put("capacity", l.capacity());
            m.put("in_use", l.inUse());
            m.put("waiting", l.waiting());
            ups.add(m);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("pools", pools);
        doc.put("upstreams", ups);
        return doc;
    }

    private Upstream upstream(String label) {
        for (Upstream u : proxy.upstreams()) {
            if (u.label().equals(label)) {
                return u;
            }
        }
        return null;
    }

    private static Map<String, Object> queries(String sort, int limit, QueryStats.Snapshot s) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (QueryStats.Row r : s.rows()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", Long.toHexString(r.id()));
            m.put("query", r.text());
            m.put("calls", r.calls());
            m.put("errors", r.errors());
            m.put("errors_by_sqlstate", r.errorsBySqlState());
            m.put("rows", r.rows());
            m.put("total_time_ms", millis(r.totalNanos()));
            m.put("mean_time_ms", millis(r.meanNanos()));
            m.put("min_time_ms", millis(r.minNanos()));
            m.put("max_time_ms", millis(r.maxNanos()));
            m.put("p50_ms", millis(r.p50Nanos()));
            m.put("p95_ms", millis(r.p95Nanos()));
            m.put("p99_ms", millis(r.p99Nanos()));
            m.put("wait_time_ms", millis(r.waitNanos()));
            List<Map<String, Object>> sources = new ArrayList<>();
            for (QueryStats.Source src : r.sources()) {
                Map<String, Object> sm = new LinkedHashMap<>();
                sm.put("database", src.database());
                sm.put("user", src.user());
                sm.put("application", src.application());
                sm.put("calls", src.calls());
                sources.add(sm);
            }
            m.put("sources", sources);
            m.put("other_source_calls", r.otherSourceCalls());
            m.put("first_seen_s_ago", (s.takenAtNanos() - r.firstSeenNanos()) / 1_000_000_000);
            m.put("last_seen_s_ago", (s.takenAtNanos() - r.lastSeenNanos()) / 1_000_000_000);
            rows.add(m);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("sort", sort);
        doc.put("limit", limit);
        doc.put("fingerprints", s.fingerprints());
        doc.put("evictions", s.evictions());
        doc.put("queries", rows);
        return doc;
    }

    /** Nanoseconds as milliseconds with microsecond precision. */
    static double millis(long nanos) {
        return Math.round(nanos / 1_000.0) / 1_000.0;
    }
}

package dev.sluice.metrics;

import dev.sluice.admission.AdaptiveLimit;
import dev.sluice.admission.CircuitBreaker;
import dev.sluice.admission.OperatingMode;
import dev.sluice.admission.Priority;
import dev.sluice.backend.ServerInfo;
import dev.sluice.frontend.ClientInfo;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.pool.Pool;
import dev.sluice.pool.Upstream;
import dev.sluice.stats.Traffic;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every {@code sluice_*} series, read from the proxy's own objects when Prometheus scrapes: the
 * data path only bumps its {@link Traffic} counters and keeps its pools, and this collector looks
 * at them on the admin thread. One scrape reads each object once, so the families of one scrape
 * agree with each other (a pool's size, in-use count and utilisation come from one snapshot).
 * Pools, upstreams and SQLSTATEs appear as they come into being. docs/metrics.md lists the series.
 */
final class ProxyCollector implements MultiCollector {
    /** Client states always exported (zero included), so that alerts can rely on the series. */
    private static final List<String> CLIENT_STATES = List.of("login", "idle", "active", "waiting", "console");
    /** The client states that belong to a pool. */
    private static final List<String> POOL_CLIENT_STATES = List.of("idle", "active", "waiting");
    private static final List<String> SERVER_STATES = List.of("login", "idle", "active", "used", "tested");

    private final ProxyServer proxy;

    ProxyCollector(ProxyServer proxy) {
        this.proxy = proxy;
    }

    @Override
    public MetricSnapshots collect() {
        List<MetricSnapshot> out = new ArrayList<>();
        List<Pool> pools = proxy.poolList();
        clients(pools, out);
        List<Pool.Snapshot> snapshots = new ArrayList<>(pools.size());
        for (Pool p : pools) {
            snapshots.add(p.snapshot());
        }
        pools(pools, snapshots, out);
        servers(pools, out);
        upstreams(pools, out);
        traffic(proxy.traffic(), out);
        return new MetricSnapshots(out);
    }

    private void clients(List<Pool> pools, List<MetricSnapshot> out) {
        Map<String, Integer> byState = new LinkedHashMap<>();
        for (String s : CLIENT_STATES) {
            byState.put(s, 0);
        }
        // database, user, state -> count, for the clients of a pool
        Map<List<String>, Integer> byPool = new TreeMap<>(ProxyCollector::compareKeys);
        for (Pool p : pools) {
            for (String s : POOL_CLIENT_STATES) {
                byPool.put(List.of(p.name(), p.database(), p.user(), s), 0);
            }
        }
        for (ClientInfo c : proxy.clients()) {
            byState.merge(c.state(), 1, Integer::sum);
            if (c.database() != null && c.user() != null && POOL_CLIENT_STATES.contains(c.state())) {
                List<String> key = List.of(c.database() + "/" + c.user(), c.database(), c.user(), c.state());
                // a client whose pool does not exist (yet) has no series: it holds no server connection
                byPool.computeIfPresent(key, (k, n) -> n + 1);
            }
        }
        GaugeSnapshot.Builder g = gauge("sluice_client_connections",
                "Client connections by state (login, idle, active, waiting, console).");
        byState.forEach((state, n) -> g.dataPoint(point(n, "state", state)));
        out.add(g.build());
        out.add(gauge("sluice_client_connections_open", "Client connections open now, in every state.")
                .dataPoint(point(proxy.clientCount())).build());
        out.add(gauge("sluice_client_connections_max", "Most client connections accepted (pool.max_client_conn).")
                .dataPoint(point(proxy.config().pool().maxClientConn())).build());
        GaugeSnapshot.Builder pc = gauge("sluice_pool_client_connections",
                "Client connections of a pool's database and user by state (idle, active, waiting).");
        byPool.forEach((k, n) -> pc.dataPoint(point(n, "pool", k.get(0), "database", k.get(1), "user", k.get(2),
                "state", k.get(3))));
        out.add(pc.build());
    }

    private static void pools(List<Pool> pools, List<Pool.Snapshot> snapshots, List<MetricSnapshot> out) {
        GaugeSnapshot.Builder info = gauge("sluice_pool_info",
                "Always 1; labels give a pool's pooling mode and upstream.");
        GaugeSnapshot.Builder size = gauge("sluice_pool_size", "Most server connections a pool may open (its size).");
        GaugeSnapshot.Builder reserved = gauge("sluice_pool_reserved_connections",
                "Of a pool's size, the server connections only high and critical requests may take.");
        GaugeSnapshot.Builder total = gauge("sluice_pool_connections",
                "Server connections of a pool, open or opening.");
        GaugeSnapshot.Builder idle = gauge("sluice_pool_idle_connections", "Idle server connections of a pool.");
        GaugeSnapshot.Builder inUse = gauge("sluice_pool_in_use_connections",
                "Server connections of a pool lent to clients.");
        GaugeSnapshot.Builder utilisation = gauge("sluice_pool_utilization_ratio",
                "Server connections lent to clients divided by the pool size (0 to 1).");
        GaugeSnapshot.Builder queue = gauge("sluice_pool_queue_depth",
                "Requests waiting for a server connection of a pool, by priority class.");
        GaugeSnapshot.Builder oldest = gauge("sluice_pool_queue_oldest_wait_seconds",
                "How long the longest-waiting request of a pool has waited; 0 when none waits.");
        GaugeSnapshot.Builder paused = gauge("sluice_pool_paused", "1 while an operator has paused the pool, else 0.");
        for (int i = 0; i < pools.size(); i++) {
            Pool p = pools.get(i);
            Pool.Snapshot s = snapshots.get(i);
            String[] l = {"pool", p.name(), "database", p.database(), "user", p.user()};
            info.dataPoint(point(1, "pool", p.name(), "database", p.database(), "user", p.user(),
                    "mode", s.mode().configName(), "upstream", p.upstream().label()));
            size.dataPoint(point(s.size(), l));
            reserved.dataPoint(point(s.reserved(), l));
            total.dataPoint(point(s.total(), l));
            idle.dataPoint(point(s.idle(), l));
            inUse.dataPoint(point(s.inUse(), l));
            utilisation.dataPoint(point(s.size() == 0 ? 0 : (double) s.inUse() / s.size(), l));
            for (Priority pr : Priority.values()) {
                queue.dataPoint(point(s.byClass().getOrDefault(pr, 0), "pool", p.name(), "database", p.database(),
                        "user", p.user(), "priority", pr.configName()));
            }
            oldest.dataPoint(point(s.oldestWaitNanos() / 1e9, l));
            paused.dataPoint(point(s.paused() ? 1 : 0, l));
        }
        out.add(info.build());
        out.add(size.build());
        out.add(reserved.build());
        out.add(total.build());
        out.add(idle.build());
        out.add(inUse.build());
        out.add(utilisation.build());
        out.add(queue.build());
        out.add(oldest.build());
        out.add(paused.build());
    }

    private static void servers(List<Pool> pools, List<MetricSnapshot> out) {
        GaugeSnapshot.Builder g = gauge("sluice_server_connections",
                "Server connections by pool and state (login, idle, active, used, tested).");
        for (Pool p : pools) {
            Map<String, Integer> byState = new LinkedHashMap<>();
            for (String s : SERVER_STATES) {
                byState.put(s, 0);
            }
            for (ServerInfo s : p.servers()) {
                byState.merge(s.state(), 1, Integer::sum);
            }
            byState.forEach((state, n) -> g.dataPoint(point(n, "pool", p.name(), "database", p.database(),
                    "user", p.user(), "state", state)));
        }
        out.add(g.build());
    }

    private void upstreams(List<Pool> pools, List<MetricSnapshot> out) {
        GaugeSnapshot.Builder limit = gauge("sluice_upstream_concurrency_limit",
                "Most server connections lent out at once towards an upstream: the adaptive limit, or the sum "
                        + "of its pools' sizes.");
        GaugeSnapshot.Builder adaptive = gauge("sluice_upstream_limit_adaptive",
                "1 when an upstream's concurrency limit adapts to its latency, 0 when fixed by the pool sizes.");
        GaugeSnapshot.Builder inUse = gauge("sluice_upstream_in_use_connections",
                "Server connections lent to clients towards an upstream, all its pools together.");
        GaugeSnapshot.Builder circuit = gauge("sluice_upstream_circuit_state",
                "1 for an upstream's current circuit-breaker state (closed, open, half_open), 0 for the others.");
        GaugeSnapshot.Builder mode = gauge("sluice_upstream_mode",
                "1 for an upstream's current operating mode (normal, degraded, emergency), 0 for the others.");
        GaugeSnapshot.Builder forced = gauge("sluice_upstream_mode_forced",
                "1 when an operator forced the operating mode, 0 when it follows the load.");
        for (Upstream u : proxy.upstreams()) {
            String label = u.label();
            AdaptiveLimit a = u.adaptiveLimit();
            int fixed = 0;
            for (Pool p : pools) {
                if (p.upstream() == u) {
                    fixed += p.size();
                }
            }
            limit.dataPoint(point(a != null ? a.limit() : fixed, "upstream", label));
            adaptive.dataPoint(point(a != null ? 1 : 0, "upstream", label));
            inUse.dataPoint(point(u.inUse(), "upstream", label));
            CircuitBreaker.State now = u.breaker().state();
            for (CircuitBreaker.State s : CircuitBreaker.State.values()) {
                circuit.dataPoint(point(s == now ? 1 : 0, "upstream", label, "state", s.name().toLowerCase(Locale.ROOT)));
            }
            OperatingMode.Mode m = u.mode().mode();
            for (OperatingMode.Mode x : OperatingMode.Mode.values()) {
                mode.dataPoint(point(x == m ? 1 : 0, "upstream", label, "mode", x.configName()));
            }
            forced.dataPoint(point(u.mode().isForced() ? 1 : 0, "upstream", label));
        }
        out.add(limit.build());
        out.add(adaptive.build());
        out.add(inUse.build());
        out.add(circuit.build());
        out.add(mode.build());
        out.add(forced.build());
    }

    private static void traffic(Traffic t, List<MetricSnapshot> out) {
        out.add(counter("sluice_queries", "Queries completed (a simple Query, or an extended-protocol run up to Sync).",
                t.queries()));
        out.add(counter("sluice_transactions", "Transactions completed (PostgreSQL back to idle after a request).",
                t.transactions()));
        out.add(LatencyBuckets.histogram("sluice_query_duration_seconds",
                "Query latency: from Sluice forwarding a request to PostgreSQL to PostgreSQL's ReadyForQuery.",
                t.queryLatency().snapshot()));
        out.add(bySqlState("sluice_errors", "Errors PostgreSQL returned to clients, by SQLSTATE.", t.errors()));
        out.add(bySqlState("sluice_refusals",
                "Requests Sluice refused itself (53300 queue full, 57014 waited too long, 08006 upstream down...), "
                        + "by SQLSTATE.", t.refusals()));
        out.add(counter("sluice_client_received_bytes", "Bytes received from clients.", t.bytesFromClients()));
        out.add(counter("sluice_client_sent_bytes", "Bytes sent to clients.", t.bytesToClients()));
        out.add(counter("sluice_retries", "Statements retried transparently after a serialization failure or deadlock.",
                t.retries()));
        out.add(counter("sluice_client_logins", "Clients that logged in to Sluice.", t.clientLogins()));
        out.add(counter("sluice_server_logins", "Server connections that logged in to PostgreSQL.", t.serverLogins()));
        CounterSnapshot.Builder admitted = CounterSnapshot.builder().name("sluice_admission_admitted")
                .help("Requests that got a server connection, by priority class.");
        CounterSnapshot.Builder waited = CounterSnapshot.builder().name("sluice_admission_wait_time_seconds")
                .help("Time requests spent waiting for a server connection, by priority class.");
        for (Priority p : Priority.values()) {
            admitted.dataPoint(counterPoint(t.admitted(p), "priority", p.configName()));
            waited.dataPoint(counterPoint(t.waitNanos(p) / 1e9, "priority", p.configName()));
        }
        out.add(admitted.build());
        out.add(waited.build());
        out.add(LatencyBuckets.histogram("sluice_admission_wait_seconds",
                "How long requests waited for a server connection, all priority classes.",
                t.waitLatency().snapshot()));
    }

    private static GaugeSnapshot.Builder gauge(String name, String help) {
        return GaugeSnapshot.builder().name(name).help(help);
    }

    private static GaugeDataPointSnapshot point(double value, String... labels) {
        return GaugeDataPointSnapshot.builder().value(value).labels(Labels.of(labels)).build();
    }

    /** A counter family; {@code name} without {@code _total}, which the exposition appends. */
    private static CounterSnapshot counter(String name, String help, double value) {
        return CounterSnapshot.builder().name(name).help(help).dataPoint(counterPoint(value)).build();
    }

    private static CounterSnapshot bySqlState(String name, String help, Map<String, Long> counts) {
        CounterSnapshot.Builder c = CounterSnapshot.builder().name(name).help(help);
        counts.forEach((state, n) -> c.dataPoint(counterPoint(n, "sqlstate", state)));
        return c.build();
    }

    private static CounterDataPointSnapshot counterPoint(double value, String... labels) {
        return CounterDataPointSnapshot.builder().value(value).labels(Labels.of(labels)).build();
    }

    private static int compareKeys(List<String> a, List<String> b) {
        for (int i = 0; i < a.size(); i++) {
            int c = a.get(i).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }
}

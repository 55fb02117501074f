package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.admin.AdminServer;
import dev.sluice.admission.Classifier;
import dev.sluice.admission.OperatingMode;
import dev.sluice.admission.Priority;
import dev.sluice.config.AdmissionConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Await;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.TestConfig;
import dev.sluice.metrics.SluiceMetrics;
import dev.sluice.pool.Upstream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code GET /metrics} on the admin port against real traffic: pgjdbc clients run queries, errors,
 * held transactions, waits and a refusal through one Sluice, and every value asserted follows from
 * what the test did (counters as differences between two scrapes, gauges while the test holds the
 * state they show).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetricsIT {
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private static final int POOL_SIZE = 2;
    /** Clients with this application name are of class low, which may wait only briefly. */
    private static final String LOW_APP = "lowapp";
    private static final Duration LOW_WAIT = Duration.ofMillis(300);
    private static final String[] POOL = {"pool", "app/app", "database", "app", "user", "app"};

    private static ProxyServer proxy;
    private static AdminServer admin;
    private static HttpClient http;
    private static ExecutorService executor;
    private static String upstream;

    @BeforeAll
    static void start() throws Exception {
        SluiceConfig base = TestConfig.builder().poolSize(POOL_SIZE).acquireTimeout(AWAIT).build();
        AdmissionConfig a = base.admission();
        Map<Priority, Duration> timeouts = new EnumMap<>(a.waitTimeouts());
        timeouts.put(Priority.LOW, LOW_WAIT);
        AdmissionConfig admission = new AdmissionConfig(a.queueSize(), timeouts, a.agingStep(),
                List.of(Classifier.Rule.parse("application_name=" + LOW_APP + ":low")), a.defaultPriority(),
                a.adaptiveLimit(), a.minLimit(), a.breakerFailures(), a.breakerCoolDown(), a.rateLimit(), a.rateBurst(),
                a.forcedMode(), a.retryAttempts(), a.shares());
        proxy = ProxyServer.start(base.withAdmission(admission));
        admin = AdminServer.start(proxy, base.adminListen());
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        executor = Executors.newCachedThreadPool();
        SluiceConfig.DatabaseConfig db = base.databases().get(0);
        upstream = db.host() + ":" + db.port();
        // the pool and the upstream exist from the first client on
        try (Connection c = connect("warm"); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
        }
    }

    @AfterAll
    static void stop() {
        executor.shutdownNow();
        admin.close();
        proxy.close();
    }

    private static Connection connect(String applicationName) throws SQLException {
        Properties p = ProxyClients.props("ApplicationName", applicationName, "assumeMinServerVersion", "10");
        return ProxyClients.connect(proxy, p);
    }

    @Test
    void metrics_servesPrometheusTextWithSluiceAndJvmFamilies() throws Exception {
        HttpResponse<String> r = get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue(SluiceMetrics.CONTENT_TYPE);
        Scrape s = Scrape.parse(r.body());
        assertThat(s.types).containsEntry("sluice_queries_total", "counter")
                .containsEntry("sluice_client_received_bytes_total", "counter")
                .containsEntry("sluice_client_sent_bytes_total", "counter")
                .containsEntry("sluice_retries_total", "counter")
                .containsEntry("sluice_server_logins_total", "counter")
                .containsEntry("sluice_query_duration_seconds", "histogram")
                .containsEntry("sluice_admission_wait_seconds", "histogram")
                .containsEntry("sluice_pool_utilization_ratio", "gauge")
                .containsEntry("sluice_upstream_circuit_state", "gauge");
        for (Map.Entry<String, String> t : s.types.entrySet()) {
            if (t.getValue().equals("counter")) {
                assertThat(t.getKey()).as("counter name").endsWith("_total");
            }
        }
        assertThat(s.names()).contains("jvm_memory_used_bytes", "jvm_threads_live_threads", "process_uptime_seconds",
                "jvm_gc_collections_total", "jvm_gc_collection_seconds_total", "process_cpu_seconds_total");
        assertThat(s.names()).allMatch(n -> n.startsWith("sluice_") || n.startsWith("jvm_")
                || n.startsWith("process_") || n.startsWith("system_"), "sluice_, jvm_, process_ or system_ only");
        assertThat(s.value("sluice_retries_total")).isGreaterThanOrEqualTo(0);
        assertThat(s.value("sluice_server_logins_total")).isGreaterThanOrEqualTo(0);
        assertThat(s.value("sluice_client_connections_max")).isEqualTo(proxy.config().pool().maxClientConn());
    }

    @Test
    void errorsLoginsAndBytes_areCountedAsSent() throws Exception {
        Scrape before = scrape();
        Traffic sent = send();
        Scrape after = awaitScrape("the client's logout", x -> x.value("sluice_client_connections_open") == 0);
        assertThat(after.value("sluice_errors_total", "sqlstate", "22012")
                - before.valueOrZero("sluice_errors_total", "sqlstate", "22012")).isEqualTo(sent.divisions());
        assertThat(after.value("sluice_client_logins_total") - before.value("sluice_client_logins_total")).isEqualTo(1);
        assertThat(after.value("sluice_client_sent_bytes_total") - before.value("sluice_client_sent_bytes_total"))
                .as("the 100000-character result went to the client").isGreaterThanOrEqualTo(100_000);
        assertThat(after.value("sluice_client_received_bytes_total")
                - before.value("sluice_client_received_bytes_total")).isGreaterThanOrEqualTo(sent.sqlBytes());
        // nothing runs between the two reads of one scrape: the histogram holds every query once
        assertThat(after.value("sluice_query_duration_seconds_count")).isEqualTo(after.value("sluice_queries_total"));
        assertThat(after.value("sluice_query_duration_seconds_bucket", "le", "+Inf"))
                .isEqualTo(after.value("sluice_query_duration_seconds_count"));
        assertThat(after.value("sluice_query_duration_seconds_sum")).isPositive();
        assertCumulative(after, "sluice_query_duration_seconds");
    }

    @Test
    void queriesAndTransactions_countEveryStatementSent() throws Exception {
        Scrape before = scrape();
        Traffic sent = send();
        Scrape after = awaitScrape("the client's logout", x -> x.value("sluice_client_connections_open") == 0);
        assertThat(after.value("sluice_queries_total") - before.value("sluice_queries_total"))
                .isGreaterThanOrEqualTo(sent.requests());
        assertThat(after.value("sluice_transactions_total") - before.value("sluice_transactions_total"))
                .as("every autocommit statement ends a transaction, failed ones too")
                .isGreaterThanOrEqualTo(sent.requests());
    }

    /** What {@link #send} sent: statements, how many of them divided by zero, bytes of SQL text. */
    private record Traffic(int requests, int divisions, long sqlBytes) {
    }

    /** One client: five selects, three divisions by zero (22012), one 100000-character result. */
    private static Traffic send() throws SQLException {
        int selects = 5;
        int divisions = 3;
        long sqlBytes = 0;
        try (Connection c = connect("counted"); Statement s = c.createStatement()) {
            for (int i = 0; i < selects; i++) {
                String sql = "SELECT " + i;
                sqlBytes += sql.length();
                s.execute(sql);
            }
            for (int i = 0; i < divisions; i++) {
                String sql = "SELECT 1/0";
                sqlBytes += sql.length();
                assertThatThrownBy(() -> s.execute(sql)).isInstanceOf(SQLException.class)
                        .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("22012");
            }
            String big = "SELECT repeat('x', 100000)";
            sqlBytes += big.length();
            try (ResultSet rs = s.executeQuery(big)) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).hasSize(100_000);
            }
        }
        return new Traffic(selects + divisions + 1, divisions, sqlBytes);
    }

    @Test
    void heldTransaction_showsInClientPoolServerAndUpstreamGauges() throws Exception {
        try (Connection c = connect("holder"); Statement s = c.createStatement()) {
            s.execute("BEGIN");
            s.execute("SELECT 1");
            Scrape held = awaitScrape("one client, one server connection in use",
                    x -> x.value("sluice_pool_in_use_connections", POOL) == 1
                            && x.value("sluice_client_connections_open") == 1);
            assertThat(held.value("sluice_pool_size", POOL)).isEqualTo(POOL_SIZE);
            assertThat(held.value("sluice_pool_reserved_connections", POOL)).as("none by default").isZero();
            assertThat(held.value("sluice_pool_utilization_ratio", POOL)).isEqualTo(1.0 / POOL_SIZE);
            assertThat(held.value("sluice_pool_connections", POOL))
                    .isEqualTo(held.value("sluice_pool_idle_connections", POOL) + 1);
            assertThat(held.value("sluice_server_connections", with(POOL, "state", "active"))).isEqualTo(1);
            assertThat(held.value("sluice_client_connections", "state", "active")).isEqualTo(1);
            assertThat(held.value("sluice_pool_client_connections", with(POOL, "state", "active"))).isEqualTo(1);
            assertThat(held.value("sluice_pool_info", with(POOL, "mode", "transaction", "upstream", upstream)))
                    .isEqualTo(1);
            assertThat(held.value("sluice_upstream_in_use_connections", "upstream", upstream)).isEqualTo(1);
            assertThat(held.value("sluice_upstream_concurrency_limit", "upstream", upstream))
                    .as("a fixed limit: the one pool's size").isEqualTo(POOL_SIZE);
            assertThat(held.value("sluice_upstream_limit_adaptive", "upstream", upstream)).isZero();
            s.execute("COMMIT");
            Scrape released = awaitScrape("the server connection back in the pool",
                    x -> x.value("sluice_pool_in_use_connections", POOL) == 0
                            && x.value("sluice_client_connections", "state", "idle") == 1);
            assertThat(released.value("sluice_pool_utilization_ratio", POOL)).isZero();
            assertThat(released.value("sluice_pool_client_connections", with(POOL, "state", "idle"))).isEqualTo(1);
            assertThat(released.value("sluice_upstream_in_use_connections", "upstream", upstream)).isZero();
        }
    }

    @Test
    void waitingRequest_showsInQueueDepthThenInAdmissionCounters() throws Exception {
        Scrape before = scrape();
        List<Connection> holders = new ArrayList<>();
        try (Connection waiter = connect("waiter")) {
            for (int i = 0; i < POOL_SIZE; i++) {
                Connection h = connect("holder-" + i);
                holders.add(h);
                Statement s = h.createStatement();
                s.execute("BEGIN");
                s.execute("SELECT 1");
            }
            Future<?> waiting = executor.submit(() -> {
                try (Statement s = waiter.createStatement()) {
                    s.execute("SELECT 1");
                }
                return null;
            });
            Scrape queued = awaitScrape("one request of class normal waiting",
                    x -> x.value("sluice_pool_queue_depth", with(POOL, "priority", "normal")) == 1);
            assertThat(queued.value("sluice_client_connections", "state", "waiting")).isEqualTo(1);
            assertThat(queued.value("sluice_pool_client_connections", with(POOL, "state", "waiting"))).isEqualTo(1);
            assertThat(queued.value("sluice_pool_queue_depth", with(POOL, "priority", "high"))).isZero();
            assertThat(queued.value("sluice_pool_queue_oldest_wait_seconds", POOL)).isPositive();
            assertThat(queued.value("sluice_pool_utilization_ratio", POOL)).isEqualTo(1.0);
            holders.get(0).createStatement().execute("COMMIT");
            waiting.get(AWAIT.toSeconds(), TimeUnit.SECONDS);
        } finally {
            for (Connection h : holders) {
                h.close();
            }
        }
        Scrape after = awaitScrape("every client gone", x -> x.value("sluice_client_connections_open") == 0
                && x.value("sluice_pool_in_use_connections", POOL) == 0);
        assertThat(after.value("sluice_pool_queue_depth", with(POOL, "priority", "normal"))).isZero();
        assertThat(after.value("sluice_pool_queue_oldest_wait_seconds", POOL)).isZero();
        assertThat(after.value("sluice_admission_admitted_total", "priority", "normal")
                - before.value("sluice_admission_admitted_total", "priority", "normal"))
                .as("the two holders and the waiter got a server connection").isGreaterThanOrEqualTo(POOL_SIZE + 1);
        assertThat(after.value("sluice_admission_wait_time_seconds_total", "priority", "normal"))
                .as("the waiter waited").isGreaterThan(before.value("sluice_admission_wait_time_seconds_total",
                        "priority", "normal"));
        double admitted = 0;
        for (Priority p : Priority.values()) {
            admitted += after.value("sluice_admission_admitted_total", "priority", p.configName());
        }
        assertThat(after.value("sluice_admission_wait_seconds_count")).isEqualTo(admitted);
        assertCumulative(after, "sluice_admission_wait_seconds");
    }

    @Test
    void waitPastItsClassDeadline_isCountedAsRefusal() throws Exception {
        Scrape before = scrape();
        List<Connection> holders = new ArrayList<>();
        // logged in before the holders take every server connection: only its statement waits
        try (Connection low = connect(LOW_APP)) {
            for (int i = 0; i < POOL_SIZE; i++) {
                Connection h = connect("holder-" + i);
                holders.add(h);
                Statement s = h.createStatement();
                s.execute("BEGIN");
                s.execute("SELECT 1");
            }
            assertThatThrownBy(() -> low.createStatement().execute("SELECT 1")).isInstanceOf(SQLException.class)
                    .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("57014");
        } finally {
            for (Connection h : holders) {
                h.close();
            }
        }
        Scrape after = awaitScrape("every client gone", x -> x.value("sluice_client_connections_open") == 0);
        assertThat(after.value("sluice_refusals_total", "sqlstate", "57014")
                - before.valueOrZero("sluice_refusals_total", "sqlstate", "57014")).isEqualTo(1);
    }

    @Test
    void forcedMode_showsInModeGauges_circuitStaysClosed() throws Exception {
        Scrape normal = scrape();
        assertThat(normal.value("sluice_upstream_circuit_state", "upstream", upstream, "state", "closed")).isEqualTo(1);
        assertThat(normal.value("sluice_upstream_circuit_state", "upstream", upstream, "state", "open")).isZero();
        assertThat(normal.value("sluice_upstream_circuit_state", "upstream", upstream, "state", "half_open")).isZero();
        assertThat(normal.value("sluice_upstream_mode", "upstream", upstream, "mode", "normal")).isEqualTo(1);
        assertThat(normal.value("sluice_upstream_mode_forced", "upstream", upstream)).isZero();
        Upstream u = proxy.upstreams().stream().filter(x -> x.label().equals(upstream)).findFirst().orElseThrow();
        u.mode().force(OperatingMode.Mode.DEGRADED);
        try {
            Scrape degraded = scrape();
            assertThat(degraded.value("sluice_upstream_mode", "upstream", upstream, "mode", "degraded")).isEqualTo(1);
            assertThat(degraded.value("sluice_upstream_mode", "upstream", upstream, "mode", "normal")).isZero();
            assertThat(degraded.value("sluice_upstream_mode", "upstream", upstream, "mode", "emergency")).isZero();
            assertThat(degraded.value("sluice_upstream_mode_forced", "upstream", upstream)).isEqualTo(1);
        } finally {
            u.mode().auto();
        }
        assertThat(scrape().value("sluice_upstream_mode_forced", "upstream", upstream)).isZero();
    }

    // ---- helpers ----

    private static String[] with(String[] labels, String... more) {
        String[] out = new String[labels.length + more.length];
        System.arraycopy(labels, 0, out, 0, labels.length);
        System.arraycopy(more, 0, out, labels.length, more.length);
        return out;
    }

    /** Buckets of histogram {@code name} never decrease with {@code le}, and +Inf holds the count. */
    private static void assertCumulative(Scrape s, String name) {
        TreeMap<Double, Double> buckets = new TreeMap<>();
        s.series.forEach((key, v) -> {
            if (key.name.equals(name + "_bucket")) {
                String le = key.labels.get("le");
                buckets.put(le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le), v);
            }
        });
        assertThat(buckets).hasSizeGreaterThan(10);
        double previous = 0;
        for (double v : buckets.values()) {
            assertThat(v).isGreaterThanOrEqualTo(previous);
            previous = v;
        }
        assertThat(buckets.lastEntry().getValue()).isEqualTo(s.value(name + "_count"));
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + path))
                .timeout(Duration.ofSeconds(10)).GET().build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    private static Scrape scrape() {
        try {
            HttpResponse<String> r = get("/metrics");
            assertThat(r.statusCode()).isEqualTo(200);
            return Scrape.parse(r.body());
        } catch (IOException e) {
            throw new AssertionError("scrape failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Scrapes until {@code condition} holds on a scrape, and returns that scrape. */
    private static Scrape awaitScrape(String what, Predicate<Scrape> condition) {
        Scrape[] last = new Scrape[1];
        Await.until(AWAIT, () -> condition.test(last[0] = scrape()), () -> what + "; last scrape:\n" + last[0]);
        return last[0];
    }

    private record Key(String name, Map<String, String> labels) {
    }

    /** One scrape in the Prometheus text format, parsed: families' types and every sample. */
    private static final class Scrape {
        final Map<String, String> types = new HashMap<>();
        final Map<Key, Double> series = new LinkedHashMap<>();
        private final String text;

        private Scrape(String text) {
            this.text = text;
        }

        static Scrape parse(String text) {
            Scrape s = new Scrape(text);
            for (String line : text.split("\n")) {
                if (line.startsWith("# TYPE ")) {
                    String[] p = line.split(" ");
                    s.types.put(p[2], p[3]);
                } else if (!line.isBlank() && !line.startsWith("#")) {
                    int brace = line.indexOf('{');
                    int space = line.lastIndexOf(' ');
                    String name;
                    Map<String, String> labels = new TreeMap<>();
                    if (brace >= 0 && brace < space) {
                        name = line.substring(0, brace);
                        parseLabels(line.substring(brace + 1, line.lastIndexOf('}')), labels);
                    } else {
                        name = line.substring(0, space);
                    }
                    Double previous = s.series.put(new Key(name, labels), Double.parseDouble(line.substring(space + 1)));
                    assertThat(previous).as("duplicate series %s %s", name, labels).isNull();
                }
            }
            return s;
        }

        private static void parseLabels(String body, Map<String, String> out) {
            int i = 0;
            while (i < body.length()) {
                int eq = body.indexOf('=', i);
                String name = body.substring(i, eq).trim();
                StringBuilder v = new StringBuilder();
                int j = eq + 2; // past ="
                while (body.charAt(j) != '"') {
                    char c = body.charAt(j);
                    if (c == '\\') {
                        char n = body.charAt(++j);
                        v.append(n == 'n' ? '\n' : n);
                    } else {
                        v.append(c);
                    }
                    j++;
                }
                out.put(name, v.toString());
                i = j + 1;
                if (i < body.length() && body.charAt(i) == ',') {
                    i++;
                }
            }
        }

        Set<String> names() {
            Set<String> out = new HashSet<>();
            series.keySet().forEach(k -> out.add(k.name));
            return out;
        }

        /** The value of the series with exactly these labels; fails when there is none. */
        double value(String name, String... labels) {
            Double v = series.get(key(name, labels));
            assertThat(v).as("series %s%s in the scrape", name, key(name, labels).labels).isNotNull();
            return v;
        }

        /** As {@link #value}, 0 when the series does not exist yet (a SQLSTATE never seen). */
        double valueOrZero(String name, String... labels) {
            return series.getOrDefault(key(name, labels), 0.0);
        }

        private static Key key(String name, String... labels) {
            Map<String, String> m = new TreeMap<>();
            for (int i = 0; i < labels.length; i += 2) {
                m.put(labels[i], labels[i + 1]);
            }
            return new Key(name, m);
        }

        @Override
        public String toString() {
            return text;
        }
    }
}

package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.admin.AdminServer;
import dev.sluice.config.AdminConfig;
import dev.sluice.config.AdmissionConfig;
import dev.sluice.config.ReloadReport;
import dev.sluice.config.SluiceConfig;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Await;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import java.net.ServerSocket;
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
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;

/**
 * The admin HTTP API against real traffic: pgjdbc clients through Sluice to a real PostgreSQL,
 * every endpoint read or driven with values taken from that traffic (client ids from
 * BackendKeyData, backend pids from {@code pg_backend_pid()}), and the bearer token enforced.
 *
 * <p>The admin server listens on the wildcard address {@code 0.0.0.0}, which is not loopback, so
 * a token is required; the tests still talk to it through 127.0.0.1 only.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AdminApiIT {
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private static final int POOL_SIZE = 4;
    private static final String TOKEN = "admin-api-it-token-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static ProxyServer proxy;
    private static AdminServer admin;
    private static ExecutorService executor;
    private final List<Connection> opened = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        SluiceConfig config = TestConfig.builder().poolSize(POOL_SIZE).adminListen("0.0.0.0", 0)
                .acquireTimeout(Duration.ofSeconds(60)).build()
                .withAdmin(new AdminConfig(Optional.of(TOKEN)));
        proxy = ProxyServer.start(config);
        admin = AdminServer.start(proxy, config.adminListen());
        executor = Executors.newCachedThreadPool();
    }

    @AfterAll
    static void stop() {
        if (executor != null) {
            executor.shutdownNow();
        }
        if (admin != null) {
            admin.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @AfterEach
    void closeClients() throws Exception {
        for (Connection c : opened) {
            try {
                c.close();
            } catch (SQLException e) {
                // already gone (terminated)
            }
        }
        opened.clear();
        proxy.resume(null);
        proxy.reloader(null);
        // the sleeps a test cut off at Sluice keep running on PostgreSQL: end them
        try (Connection su = TestPostgres.superuserConnection(); Statement s = su.createStatement()) {
            s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    + "WHERE query LIKE '%admin_it_sleep%' AND pid <> pg_backend_pid()");
        }
        // no client holds a server connection any more
        Await.until(AWAIT, "every server connection given back",
                () -> proxy.poolList().stream().allMatch(p -> p.snapshot().inUse() == 0));
    }

    // ---- helpers

    private Connection client(String application) throws SQLException {
        Properties p = ProxyClients.props("ApplicationName", application,
                // no setup query at connect: connecting must not need a server connection
                "assumeMinServerVersion", "10");
        Connection c = ProxyClients.connect(proxy, p);
        opened.add(c);
        return c;
    }

    /** Sluice's id of this client: the process id of the BackendKeyData it was given. */
    private static int clientId(Connection c) throws SQLException {
        return c.unwrap(PGConnection.class).getBackendPID();
    }

    private static int queryInt(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getInt(1);
        }
    }

    private static HttpResponse<String> http(int port, String method, String pathAndQuery, String token)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(Duration.ofSeconds(30)).method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A request with the token that must answer {@code status}; its JSON body. */
    private static JsonNode call(String method, String pathAndQuery, int status) throws Exception {
        HttpResponse<String> r = http(admin.port(), method, pathAndQuery, TOKEN);
        assertThat(r.statusCode()).as("%s %s answered %s", method, pathAndQuery, r.body()).isEqualTo(status);
        return JSON.readTree(r.body());
    }

    private static JsonNode get(String pathAndQuery) throws Exception {
        return call("GET", pathAndQuery, 200);
    }

    private static JsonNode post(String pathAndQuery) throws Exception {
        return call("POST", pathAndQuery, 200);
    }

    private static JsonNode find(JsonNode array, Predicate<JsonNode> p) {
        for (JsonNode n : array) {
            if (p.test(n)) {
                return n;
            }
        }
        return null;
    }

    private static JsonNode clientEntry(String query, int id) throws Exception {
        return find(get(query).get("clients"), n -> n.get("id").asInt() == id);
    }

    private static JsonNode pool(String name) throws Exception {
        return find(get("/api/v1/pools").get("pools"), n -> n.get("pool").asText().equals(name));
    }

    private static boolean untilTrue(ThrowingCheck check) {
        try {
            return check.test();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @FunctionalInterface
    private interface ThrowingCheck {
        boolean test() throws Exception;
    }

    private static void await(String what, ThrowingCheck check) {
        Await.until(AWAIT, what, () -> untilTrue(check));
    }

    // ---- monitoring

    @Test
    void clientInTransaction_isActiveWithItsServer_andIdleAfterCommit() throws Exception {
        Connection c = client("admin-it-tx");
        int id = clientId(c);
        c.setAutoCommit(false);
        int backendPid = queryInt(c, "SELECT pg_backend_pid()");

        JsonNode me = clientEntry("/api/v1/clients?database=app&user=app&state=active", id);
        assertThat(me).as("the client in a transaction is listed as active").isNotNull();
        assertThat(me.get("state").asText()).isEqualTo("active");
        assertThat(me.get("database").asText()).isEqualTo("app");
        assertThat(me.get("user").asText()).isEqualTo("app");
        assertThat(me.get("application_name").asText()).isEqualTo("admin-it-tx");
        assertThat(me.get("address").asText()).isEqualTo("127.0.0.1");
        int serverId = me.get("server_id").asInt();
        assertThat(serverId).isPositive();
        assertThat(clientEntry("/api/v1/clients?state=idle", id)).isNull();
        assertThat(clientEntry("/api/v1/clients?user=md5user", id)).isNull();

        JsonNode server = find(get("/api/v1/servers?database=app&state=active").get("servers"),
                n -> n.get("id").asInt() == serverId);
        assertThat(server).as("its server connection is listed as active").isNotNull();
        assertThat(server.get("client_id").asInt()).isEqualTo(id);
        assertThat(server.get("backend_pid").asInt()).as("PostgreSQL's pid of that backend").isEqualTo(backendPid);
        assertThat(server.get("pool").asText()).isEqualTo("app/app");
        assertThat(server.get("port").asInt()).isEqualTo(TestPostgres.port());

        JsonNode pool = pool("app/app");
        assertThat(pool.get("database").asText()).isEqualTo("app");
        assertThat(pool.get("mode").asText()).isEqualTo("transaction");
        assertThat(pool.get("size").asInt()).isEqualTo(POOL_SIZE);
        assertThat(pool.get("reserved").asInt()).as("admission.reserved_connections, 0 by default").isZero();
        JsonNode statusPool = find(get("/api/v1/status").get("pools"), n -> n.get("pool").asText().equals("app/app"));
        assertThat(statusPool.get("size").asInt()).isEqualTo(POOL_SIZE);
        assertThat(statusPool.get("reserved").asInt()).isZero();
        assertThat(pool.get("paused").asBoolean()).isFalse();
        assertThat(pool.get("upstream").asText()).isEqualTo(TestPostgres.host() + ":" + TestPostgres.port());
        assertThat(pool.get("clients").get("active").asInt()).isEqualTo(1);
        assertThat(pool.get("server_connections").get("in_use").asInt()).isEqualTo(1);
        assertThat(pool.get("server_connections").get("by_state").get("active").asInt()).isEqualTo(1);
        JsonNode upstream = get("/api/v1/pools").get("upstreams").get(0);
        assertThat(upstream.get("circuit").asText()).isEqualTo("closed");
        assertThat(upstream.get("limit_kind").asText()).isEqualTo("fixed");
        assertThat(upstream.get("limit").asInt()).isEqualTo(POOL_SIZE);
        assertThat(upstream.get("capacity").asInt()).isEqualTo(POOL_SIZE);
        assertThat(upstream.get("in_use").asInt()).isEqualTo(1);

        c.commit();
        await("the client idle without a server after commit", () -> {
            JsonNode n = clientEntry("/api/v1/clients?state=idle", id);
            return n != null && n.get("server_id").asInt() == 0;
        });
        JsonNode after = find(get("/api/v1/servers?database=app").get("servers"), n -> n.get("id").asInt() == serverId);
        assertThat(after.get("state").asText()).isEqualTo("idle");
        assertThat(after.get("client_id").asInt()).isZero();
    }

    @Test
    void queries_showTheStatementRunWithItsCallCount_andResetForgetsIt() throws Exception {
        Connection c = client("admin-it-queries");
        for (int i = 0; i < 3; i++) {
            assertThat(queryInt(c, "SELECT " + i + " AS admin_it_marker_col")).isEqualTo(i);
        }
        await("the statement in /queries with 3 calls", () -> {
            JsonNode row = find(get("/api/v1/queries?sort=calls&limit=5000").get("queries"),
                    n -> n.get("query").asText().contains("admin_it_marker_col"));
            return row != null && row.get("calls").asLong() == 3;
        });
        JsonNode row = find(get("/api/v1/queries?sort=total_time&limit=5000").get("queries"),
                n -> n.get("query").asText().contains("admin_it_marker_col"));
        assertThat(row.get("total_time_ms").asDouble()).isPositive();
        assertThat(row.get("errors").asLong()).isZero();
        JsonNode source = row.get("sources").get(0);
        assertThat(source.get("database").asText()).isEqualTo("app");
        assertThat(source.get("user").asText()).isEqualTo("app");
        assertThat(source.get("application").asText()).isEqualTo("admin-it-queries");
        assertThat(source.get("calls").asLong()).isEqualTo(3);

        assertThat(post("/api/v1/queries/reset").get("fingerprints_forgotten").asInt()).isPositive();
        assertThat(find(get("/api/v1/queries?limit=5000").get("queries"),
                n -> n.get("query").asText().contains("admin_it_marker_col"))).isNull();
    }

    // ---- actions

    @Test
    void pause_makesANewQueryWait_andResumeReleasesIt() throws Exception {
        assertThat(queryInt(client("admin-it-warm"), "SELECT 1")).isEqualTo(1); // the pool exists

        JsonNode paused = post("/api/v1/pause?database=app");
        assertThat(paused.get("database").asText()).isEqualTo("app");
        assertThat(paused.get("paused")).extracting(JsonNode::asText).contains("app/app");
        assertThat(paused.get("took_effect").asBoolean()).as("nothing was lent out").isTrue();
        assertThat(paused.get("in_use").asInt()).isZero();
        assertThat(pool("app/app").get("paused").asBoolean()).isTrue();

        Connection c = client("admin-it-paused");
        int id = clientId(c);
        Future<Integer> answer = executor.submit(() -> queryInt(c, "SELECT 42"));
        await("the new query waiting", () -> clientEntry("/api/v1/clients?state=waiting", id) != null);
        assertThat(answer.isDone()).as("the query waits while the pool is paused").isFalse();
        JsonNode pool = pool("app/app");
        assertThat(pool.get("waiting").asInt()).isEqualTo(1);
        assertThat(pool.get("waiting_by_class").get("normal").asInt()).isEqualTo(1);
        assertThat(pool.get("clients").get("waiting").asInt()).isEqualTo(1);
        assertThat(pool.get("oldest_wait_ms").asDouble()).isGreaterThanOrEqualTo(0);
        JsonNode throttling = get("/api/v1/throttling");
        assertThat(throttling.get("level").asText()).isEqualTo("slow_down");
        assertThat(throttling.get("reasons")).extracting(JsonNode::asText)
                .contains("pool app/app is paused: its requests wait until it is resumed");

        JsonNode resumed = post("/api/v1/resume?database=app");
        assertThat(resumed.get("resumed")).extracting(JsonNode::asText).containsExactly("app/app");
        assertThat(answer.get(30, TimeUnit.SECONDS)).isEqualTo(42);
        assertThat(pool("app/app").get("paused").asBoolean()).isFalse();
        assertThat(post("/api/v1/resume").get("resumed")).as("nothing left to resume").isEmpty();
    }

    @Test
    void pause_whileATransactionHoldsAServer_takesEffectWhenItEnds() throws Exception {
        Connection c = client("admin-it-holder");
        c.setAutoCommit(false);
        queryInt(c, "SELECT 1");

        JsonNode paused = post("/api/v1/pause");
        assertThat(paused.get("database").asText()).isEqualTo("*");
        assertThat(paused.get("took_effect").asBoolean()).as("a server connection is still lent out").isFalse();
        assertThat(paused.get("in_use").asInt()).isEqualTo(1);
        // the transaction goes on while paused
        assertThat(queryInt(c, "SELECT 2")).isEqualTo(2);
        c.commit();
        await("the lent server connection given back and closed", () -> {
            JsonNode p = pool("app/app");
            return p.get("server_connections").get("in_use").asInt() == 0
                    && p.get("server_connections").get("total").asInt() == 0;
        });
        assertThat(post("/api/v1/pause").get("took_effect").asBoolean()).isTrue();
        post("/api/v1/resume");
    }

    @Test
    void terminate_disconnectsExactlyThatClientWith57P01() throws Exception {
        Connection victim = client("admin-it-victim");
        Connection bystander = client("admin-it-bystander");
        int id = clientId(victim);
        int other = clientId(bystander);
        assertThat(id).isNotEqualTo(other);
        Future<Integer> sleeping = executor.submit(() -> queryInt(victim, "SELECT 1 FROM pg_sleep(30) /* admin_it_sleep */"));
        await("the victim active", () -> clientEntry("/api/v1/clients?state=active", id) != null);

        JsonNode done = post("/api/v1/clients/terminate?id=" + id);
        assertThat(done.get("terminated").asBoolean()).isTrue();

        assertThatThrownBy(() -> sleeping.get(30, TimeUnit.SECONDS)).cause().isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57P01"));
        await("the victim gone from /clients", () -> clientEntry("/api/v1/clients", id) == null);
        assertThat(clientEntry("/api/v1/clients", other)).as("the bystander is still connected").isNotNull();
        assertThat(queryInt(bystander, "SELECT 7")).isEqualTo(7);
        assertThat(victim.isValid(5)).isFalse();
        assertThat(call("POST", "/api/v1/clients/terminate?id=" + id, 404).get("error").asText())
                .isEqualTo("no client with id " + id + " is connected");
    }

    @Test
    void cancel_cancelsTheRunningSleepWith57014_andTheClientStaysUsable() throws Exception {
        Connection c = client("admin-it-cancel");
        int id = clientId(c);
        Future<Integer> sleeping = executor.submit(() -> queryInt(c, "SELECT 1 FROM pg_sleep(30) /* admin_it_sleep */"));
        AtomicReference<JsonNode> me = new AtomicReference<>();
        await("the client active", () -> {
            me.set(clientEntry("/api/v1/clients?state=active", id));
            return me.get() != null;
        });
        int serverId = me.get().get("server_id").asInt();
        int backendPid = find(get("/api/v1/servers").get("servers"), n -> n.get("id").asInt() == serverId)
                .get("backend_pid").asInt();
        try (Connection su = TestPostgres.superuserConnection()) {
            await("the sleep running on PostgreSQL", () -> queryInt(su, "SELECT count(*) FROM pg_stat_activity WHERE pid = "
                    + backendPid + " AND state = 'active' AND query LIKE '%admin_it_sleep%'") == 1);
        }

        JsonNode done = post("/api/v1/clients/cancel?id=" + id);
        assertThat(done.get("cancel_requested").asBoolean()).isTrue();
        assertThat(done.get("state").asText()).isEqualTo("active");

        assertThatThrownBy(() -> sleeping.get(30, TimeUnit.SECONDS)).cause().isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
        assertThat(queryInt(c, "SELECT 5")).isEqualTo(5);
        assertThat(call("POST", "/api/v1/clients/cancel?id=999999", 404).get("error").asText())
                .isEqualTo("no client with id 999999 is connected");
    }

    @Test
    void drain_closesTheIdleServerConnections() throws Exception {
        // two transactions at once leave two idle server connections behind
        Connection a = client("admin-it-drain-a");
        Connection b = client("admin-it-drain-b");
        a.setAutoCommit(false);
        b.setAutoCommit(false);
        queryInt(a, "SELECT 1");
        queryInt(b, "SELECT 1");
        a.commit();
        b.commit();
        List<Integer> idle = new ArrayList<>();
        await("two idle server connections", () -> {
            idle.clear();
            get("/api/v1/servers?database=app&state=idle").get("servers").forEach(n -> idle.add(n.get("id").asInt()));
            return idle.size() >= 2;
        });

        JsonNode drained = post("/api/v1/drain?database=app");
        assertThat(drained.get("database").asText()).isEqualTo("app");
        assertThat(drained.get("closed").asInt()).isEqualTo(idle.size());
        await("the drained connections gone", () -> {
            List<Integer> left = new ArrayList<>();
            get("/api/v1/servers").get("servers").forEach(n -> left.add(n.get("id").asInt()));
            return left.stream().noneMatch(idle::contains);
        });
        assertThat(pool("app/app").get("server_connections").get("idle").asInt()).isZero();
        assertThat(post("/api/v1/drain").get("closed").asInt()).isZero();
        // the pool opens new ones on demand
        assertThat(queryInt(a, "SELECT 3")).isEqualTo(3);
    }

    @Test
    void reload_runsOffTheAdminThread_andAnswersWhenDone() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<String> thread = new AtomicReference<>();
        proxy.reloader(() -> {
            thread.set(Thread.currentThread().getName());
            entered.countDown();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new ReloadReport(true, List.of("pool.size"), List.of("listen"), null);
        });
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + "/api/v1/reload"))
                .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        CompletableFuture<HttpResponse<String>> reload = HTTP.sendAsync(req, HttpResponse.BodyHandlers.ofString());
        assertThat(entered.await(30, TimeUnit.SECONDS)).as("the reload started").isTrue();

        // the admin API keeps answering while the reload blocks
        assertThat(get("/health/live").get("status").asText()).isEqualTo("live");
        assertThat(get("/api/v1/status").get("status").asText()).isEqualTo("healthy");
        assertThat(reload.isDone()).isFalse();

        release.countDown();
        HttpResponse<String> r = reload.get(30, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode doc = JSON.readTree(r.body());
        assertThat(doc.get("ok").asBoolean()).isTrue();
        assertThat(doc.get("applied")).extracting(JsonNode::asText).containsExactly("pool.size");
        assertThat(doc.get("need_restart")).extracting(JsonNode::asText).containsExactly("listen");
        assertThat(thread.get()).isEqualTo("sluice-admin-blocking");
    }

    // ---- throttling

    @Test
    void throttling_followsTheLoad_queueDeeperThanCapacitySlowsDown_emergencySheds() throws Exception {
        assertThat(queryInt(client("admin-it-warm"), "SELECT 1")).isEqualTo(1);
        JsonNode quiet = get("/api/v1/throttling");
        assertThat(quiet.get("level").asText()).isEqualTo("none");
        assertThat(quiet.get("suggested_max_concurrency").asInt()).isEqualTo(POOL_SIZE);
        assertThat(quiet.get("delay_ms").asLong()).isZero();
        assertThat(quiet.get("reasons")).isEmpty();

        // every server connection held by a transaction, as many requests waiting
        List<Connection> holders = new ArrayList<>();
        for (int i = 0; i < POOL_SIZE; i++) {
            Connection h = client("admin-it-holder-" + i);
            h.setAutoCommit(false);
            queryInt(h, "SELECT 1");
            holders.add(h);
        }
        List<Future<Integer>> waiting = new ArrayList<>();
        for (int i = 0; i < POOL_SIZE; i++) {
            Connection w = client("admin-it-waiter-" + i);
            int n = i;
            waiting.add(executor.submit(() -> queryInt(w, "SELECT " + n)));
        }
        await("all waiters queued", () -> pool("app/app").get("waiting").asInt() == POOL_SIZE);
        JsonNode busy = get("/api/v1/throttling");
        assertThat(busy.get("level").asText()).isEqualTo("slow_down");
        assertThat(busy.get("suggested_max_concurrency").asInt()).isEqualTo(1);
        assertThat(busy.get("delay_ms").asLong()).isGreaterThanOrEqualTo(50);
        assertThat(busy.get("reasons")).extracting(JsonNode::asText).contains("upstream " + TestPostgres.host() + ":"
                + TestPostgres.port() + ": " + POOL_SIZE + " requests wait, at least as many as the " + POOL_SIZE
                + " that run at once");
        JsonNode up = busy.get("upstreams").get(0);
        assertThat(up.get("in_use").asInt()).isEqualTo(POOL_SIZE);
        assertThat(up.get("waiting").asInt()).isEqualTo(POOL_SIZE);

        for (Connection h : holders) {
            h.commit();
        }
        for (int i = 0; i < POOL_SIZE; i++) {
            assertThat(waiting.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(i);
        }
        await("back to none", () -> get("/api/v1/throttling").get("level").asText().equals("none"));

        post("/api/v1/mode?mode=emergency");
        JsonNode emergency = get("/api/v1/throttling");
        assertThat(emergency.get("level").asText()).isEqualTo("shed");
        assertThat(emergency.get("suggested_max_concurrency").asInt()).isEqualTo(POOL_SIZE / 2);
        assertThat(emergency.get("delay_ms").asLong()).isGreaterThanOrEqualTo(500);
        assertThat(emergency.get("reasons").get(0).asText()).endsWith("emergency mode: low and background requests are refused (53300)");
        post("/api/v1/mode?mode=auto");
        assertThat(get("/api/v1/throttling").get("level").asText()).isEqualTo("none");
    }

    @Test
    void throttling_openCircuit_shedsWithItsRemainingCoolDown() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort(); // nothing listens there once closed
        }
        SluiceConfig base = TestConfig.builder()
                .database(new SluiceConfig.DatabaseConfig("down", "127.0.0.1", closedPort, "down", Optional.empty(),
                        Optional.empty(), Optional.empty(), Optional.empty()))
                .build();
        AdmissionConfig a = base.admission();
        SluiceConfig config = base.withAdmission(new AdmissionConfig(a.queueSize(), a.waitTimeouts(), a.agingStep(),
                a.rules(), a.defaultPriority(), a.adaptiveLimit(), a.minLimit(), 1, Duration.ofSeconds(60),
                a.rateLimit(), a.rateBurst(), a.forcedMode(), a.retryAttempts(), a.shares()));
        try (ProxyServer down = ProxyServer.start(config); AdminServer downAdmin = AdminServer.start(down, config.adminListen())) {
            assertThatThrownBy(() -> {
                try (Connection c = ProxyClients.connect(down, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, "down",
                        ProxyClients.props("assumeMinServerVersion", "10"))) {
                    queryInt(c, "SELECT 1");
                }
            }).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08006"));

            HttpResponse<String> r = http(downAdmin.port(), "GET", "/api/v1/throttling", null);
            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode doc = JSON.readTree(r.body());
            assertThat(doc.get("level").asText()).isEqualTo("shed");
            assertThat(doc.get("suggested_max_concurrency").asInt()).isZero();
            assertThat(doc.get("retry_after_s").asLong()).isBetween(1L, 60L);
            assertThat(doc.get("delay_ms").asLong()).isGreaterThanOrEqualTo(500);
            assertThat(doc.get("reasons").get(0).asText()).startsWith("upstream 127.0.0.1:" + closedPort
                    + ": circuit open (PostgreSQL unreachable); requests fail with 08006 for about ");

            JsonNode pools = JSON.readTree(http(downAdmin.port(), "GET", "/api/v1/pools", null).body());
            JsonNode upstream = pools.get("upstreams").get(0);
            assertThat(upstream.get("circuit").asText()).isEqualTo("open");
            assertThat(upstream.get("retry_after_ms").asLong()).isBetween(1L, 60_000L);
        }
    }

    @Test
    void anEventLoopThatEnds_makesSluiceNotLive() throws Exception {
        SluiceConfig config = TestConfig.builder().ioThreads(2).build();
        try (ProxyServer p = ProxyServer.start(config); AdminServer a = AdminServer.start(p, config.adminListen())) {
            assertThat(http(a.port(), "GET", "/health/live", null).statusCode()).isEqualTo(200);
            assertThat(p.loopFailure()).isNotDone();
            // as when an Error escapes Netty's I/O processing and ends the loop's thread
            p.eventLoops().iterator().next().shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
            String reason = p.loopFailure().get(30, TimeUnit.SECONDS);
            assertThat(reason).contains("stopped unexpectedly");
            HttpResponse<String> live = http(a.port(), "GET", "/health/live", null);
            assertThat(live.statusCode()).isEqualTo(503);
            assertThat(JSON.readTree(live.body()).get("reason").asText()).isEqualTo(reason);
            JsonNode status = JSON.readTree(http(a.port(), "GET", "/api/v1/status", null).body());
            assertThat(status.get("status").asText()).isEqualTo("critical");
            assertThat(status.get("reasons")).extracting(JsonNode::asText).contains(reason);
        }
    }

    // ---- security and validation

    @Test
    void token_isRequiredOnTheWildcardAddress_exceptForHealthProbes() throws Exception {
        HttpResponse<String> none = http(admin.port(), "GET", "/api/v1/pools", null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        HttpResponse<String> wrong = http(admin.port(), "POST", "/api/v1/pause", "not-the-token");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(proxy.poolList()).noneMatch(p -> p.isPaused());
        assertThat(http(admin.port(), "GET", "/api/v1/pools", TOKEN).statusCode()).isEqualTo(200);
        assertThat(http(admin.port(), "GET", "/health/live", null).statusCode()).isEqualTo(200);
        assertThat(http(admin.port(), "GET", "/health/ready", null).statusCode()).isEqualTo(200);

        // and without a token such an address is refused outright
        SluiceConfig noToken = proxy.config().withAdmin(AdminConfig.none());
        try (ProxyServer other = ProxyServer.start(noToken)) {
            assertThatThrownBy(() -> AdminServer.start(other, noToken.adminListen()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("is not a loopback address");
        }
    }

    @Test
    void validation_wrongMethodUnknownPathBadParameter() throws Exception {
        HttpResponse<String> method = http(admin.port(), "GET", "/api/v1/drain", TOKEN);
        assertThat(method.statusCode()).isEqualTo(405);
        assertThat(method.headers().firstValue("Allow")).contains("POST");
        assertThat(call("GET", "/api/v1/nope", 404).get("error").asText()).isEqualTo("no such endpoint: /api/v1/nope");
        assertThat(call("GET", "/api/v1/queries?sort=fastest", 400).get("error").asText()).contains("'sort'");
        assertThat(call("POST", "/api/v1/pause?database=nope", 404).get("error").asText())
                .isEqualTo("no database 'nope' is configured");
        assertThat(proxy.poolList()).noneMatch(p -> p.isPaused());
        assertThat(get("/api/v1/openapi.json").get("paths").has("/api/v1/clients/terminate")).isTrue();
    }
}

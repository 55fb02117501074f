package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.admin.AdminServer;
import dev.sluice.config.AlertConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Await;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.TestConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Alerts fire and clear for real: a pool of two server connections is filled by two clients
 * holding open transactions through Sluice, the pool-utilisation alert reaches local webhook
 * receivers (JSON, Slack, and one that fails twice before accepting), and after the clients let go
 * the resolved event follows; the admin API shows the history. Each test starts its own Sluice,
 * so the alerts of one cannot leak into the other.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class AlertsIT {
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Receiver receiver = new Receiver();
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<Connection> clients = new ArrayList<>();
    private ProxyServer proxy;
    private AdminServer admin;

    @BeforeEach
    void startReceiver() throws IOException {
        receiver.start();
    }

    @AfterEach
    void stopAll() {
        for (Connection c : clients) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the test already failed or the connection is gone
            }
        }
        if (admin != null) {
            admin.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        receiver.stop();
        http.close();
    }

    private void startSluice(List<AlertConfig.Webhook> hooks) throws InterruptedException {
        AlertConfig alerts = AlertConfig.defaults().withHoldFor(Duration.ZERO).withWebhooks(hooks)
                .withDelivery(Duration.ofSeconds(5), 3, Duration.ofMillis(50), 100);
        SluiceConfig config = TestConfig.builder().poolSize(2).build().withAlerts(alerts);
        proxy = ProxyServer.start(config);
        admin = AdminServer.start(proxy, config.adminListen());
    }

    private AlertConfig.Webhook hook(String path, AlertConfig.Format format) {
        return new AlertConfig.Webhook(URI.create("http://127.0.0.1:" + receiver.port() + path), format);
    }

    /** Two clients each in an open transaction: both server connections of the pool are lent. */
    private void fillThePool() throws SQLException {
        for (int i = 0; i < 2; i++) {
            Connection c = ProxyClients.connect(proxy);
            clients.add(c);
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SELECT 1");
            }
        }
        Await.until(AWAIT, "pool fully in use", () -> proxy.poolList().stream().anyMatch(p -> p.snapshot().inUse() == 2));
    }

    private void releaseThePool() throws SQLException {
        for (Connection c : clients) {
            c.rollback();
        }
    }

    private JsonNode api(String pathAndQuery) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + admin.port() + pathAndQuery)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode body = JSON.readTree(r.body());
        return r.statusCode() == 200 ? body : JSON.createObjectNode().put("status", r.statusCode()).set("body", body);
    }

    private static List<JsonNode> withAlert(List<JsonNode> events, String alert) {
        return events.stream().filter(e -> alert.equals(e.path("alert").asText())).toList();
    }

    @Test
    void poolUtilization_firesAndResolves_throughWebhooksAndTheApi() throws Exception {
        startSluice(List.of(hook("/json", AlertConfig.Format.JSON), hook("/slack", AlertConfig.Format.SLACK)));
        fillThePool();

        JsonNode fired = receiver.await("/json", b -> "pool_utilization".equals(b.path("alert").asText())
                && "firing".equals(b.path("state").asText()));
        assertThat(fired.get("source").asText()).isEqualTo("sluice");
        assertThat(fired.get("event").asText()).isEqualTo("fired");
        assertThat(fired.get("severity").asText()).isEqualTo("critical");
        assertThat(fired.get("value").asDouble()).isEqualTo(100.0);
        assertThat(fired.get("threshold").asDouble()).isEqualTo(95.0);
        assertThat(fired.get("unit").asText()).isEqualTo("percent");
        assertThat(fired.get("labels").get("pool").asText()).isEqualTo("app/app");
        assertThat(fired.get("message").asText())
                .isEqualTo("pool app/app: 2 of 2 server connections in use (100%); critical at 95%");
        Instant startedAt = Instant.parse(fired.get("started_at").asText());
        assertThat(Instant.parse(fired.get("at").asText())).isEqualTo(startedAt);

        JsonNode firing = api("/api/v1/alerts");
        assertThat(firing.get("enabled").asBoolean()).isTrue();
        assertThat(withAlert(list(firing.get("active")), "pool_utilization")).singleElement().satisfies(a -> {
            assertThat(a.get("severity").asText()).isEqualTo("critical");
            assertThat(a.get("labels").get("pool").asText()).isEqualTo("app/app");
            assertThat(a.get("started_at").asText()).isEqualTo(startedAt.toString());
        });

        JsonNode slackFired = receiver.await("/slack", b -> b.path("text").asText().startsWith("[FIRING"));
        assertThat(slackFired.get("text").asText()).isEqualTo("[FIRING critical] pool_utilization pool=app/app: "
                + "pool app/app: 2 of 2 server connections in use (100%); critical at 95%");

        releaseThePool();

        JsonNode resolved = receiver.await("/json", b -> "pool_utilization".equals(b.path("alert").asText())
                && "resolved".equals(b.path("state").asText()));
        assertThat(resolved.get("event").asText()).isEqualTo("resolved");
        assertThat(resolved.get("severity").asText()).isEqualTo("critical");
        assertThat(resolved.get("value").asDouble()).isLessThan(72.0);
        assertThat(resolved.get("labels").get("pool").asText()).isEqualTo("app/app");
        assertThat(resolved.get("started_at").asText()).isEqualTo(startedAt.toString());
        assertThat(resolved.get("message").asText()).endsWith("; resolved (below 72%)");
        receiver.await("/slack", b -> b.path("text").asText().startsWith("[RESOLVED critical] pool_utilization"));

        JsonNode after = api("/api/v1/alerts");
        assertThat(withAlert(list(after.get("active")), "pool_utilization")).isEmpty();
        List<JsonNode> history = withAlert(list(after.get("history")), "pool_utilization");
        assertThat(history).extracting(e -> e.get("event").asText()).containsExactly("resolved", "fired");
        assertThat(history.get(1).get("at").asText()).isEqualTo(startedAt.toString());
        assertThat(list(after.get("webhooks"))).extracting(w -> w.get("format").asText()).containsExactly("json", "slack");
        assertThat(after.get("rules").get("pool_utilization").get("critical").asDouble()).isEqualTo(95.0);

        String since = URLEncoder.encode(startedAt.toString(), StandardCharsets.UTF_8);
        assertThat(withAlert(list(api("/api/v1/alerts?since=" + since).get("history")), "pool_utilization")).hasSize(2);
        assertThat(list(api("/api/v1/alerts?since=" + Instant.now().plusSeconds(3600).toEpochMilli()).get("history")))
                .isEmpty();
        JsonNode bad = api("/api/v1/alerts?since=yesterday");
        assertThat(bad.get("status").asInt()).isEqualTo(400);
        assertThat(bad.get("body").get("error").asText()).startsWith("since: 'yesterday'");
    }

    @Test
    void webhookFailingTwice_getsTheAlertOnTheThirdAttempt() throws Exception {
        receiver.failFirst("/flaky", 2);
        startSluice(List.of(hook("/flaky", AlertConfig.Format.JSON)));
        fillThePool();

        Await.until(AWAIT, "three attempts at /flaky", () -> receiver.requests("/flaky").size() >= 3);
        List<Request> attempts = receiver.requests("/flaky").subList(0, 3);
        assertThat(attempts).extracting(Request::status).containsExactly(500, 500, 204);
        assertThat(attempts).extracting(Request::body).containsOnly(attempts.get(0).body());
        JsonNode delivered = JSON.readTree(attempts.get(2).body());
        assertThat(delivered.get("alert").asText()).isEqualTo("pool_utilization");
        assertThat(delivered.get("state").asText()).isEqualTo("firing");
        assertThat(delivered.get("severity").asText()).isEqualTo("critical");

        releaseThePool();
        JsonNode resolved = receiver.await("/flaky", b -> "resolved".equals(b.path("state").asText()));
        assertThat(resolved.get("alert").asText()).isEqualTo("pool_utilization");

        Await.until(AWAIT, "delivery counters", () -> {
            try {
                JsonNode w = api("/api/v1/alerts").get("webhooks").get(0);
                return w.get("delivered").asLong() == 2;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        JsonNode w = api("/api/v1/alerts").get("webhooks").get(0);
        assertThat(w.get("failed_attempts").asLong()).isEqualTo(2);
        assertThat(w.get("given_up").asLong()).isZero();
        assertThat(w.get("dropped").asLong()).isZero();
        assertThat(w.get("url").asText()).isEqualTo("http://127.0.0.1:" + receiver.port() + "/...");
    }

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    record Request(String path, int status, String body) {
    }

    /** A local webhook receiver: records every POST; a path may be told to fail its first requests. */
    static final class Receiver {
        private final List<Request> requests = new CopyOnWriteArrayList<>();
        private final Map<String, AtomicInteger> failuresLeft = new ConcurrentHashMap<>();
        private HttpServer server;
        private ExecutorService executor;

        void start() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            executor = Executors.newFixedThreadPool(2);
            server.setExecutor(executor);
            server.createContext("/", this::handle);
            server.start();
        }

        void stop() {
            server.stop(0);
            executor.shutdownNow();
        }

        int port() {
            return server.getAddress().getPort();
        }

        void failFirst(String path, int n) {
            failuresLeft.put(path, new AtomicInteger(n));
        }

        private void handle(HttpExchange x) throws IOException {
            String path = x.getRequestURI().getPath();
            String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            AtomicInteger fail = failuresLeft.get(path);
            int status = "POST".equals(x.getRequestMethod())
                    && "application/json".equals(x.getRequestHeaders().getFirst("Content-Type"))
                    ? (fail != null && fail.getAndDecrement() > 0 ? 500 : 204) : 400;
            requests.add(new Request(path, status, body));
            x.sendResponseHeaders(status, -1);
            x.close();
        }

        List<Request> requests(String path) {
            return requests.stream().filter(r -> r.path().equals(path)).toList();
        }

        /** Waits for an accepted POST to {@code path} whose JSON body matches; returns that body. */
        JsonNode await(String path, java.util.function.Predicate<JsonNode> match) {
            JsonNode[] found = new JsonNode[1];
            Await.until(AWAIT, () -> {
                for (Request r : requests(path)) {
                    if (r.status() / 100 != 2) {
                        continue;
                    }
                    try {
                        JsonNode b = JSON.readTree(r.body());
                        if (match.test(b)) {
                            found[0] = b;
                            return true;
                        }
                    } catch (IOException e) {
                        throw new AssertionError("not JSON: " + r.body(), e);
                    }
                }
                return false;
            }, () -> "matching POST to " + path + "; received " + requests);
            return found[0];
        }
    }
}

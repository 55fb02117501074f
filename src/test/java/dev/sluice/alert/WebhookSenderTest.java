package dev.sluice.alert;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.config.AlertConfig;
import dev.sluice.it.support.Await;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Delivery against a real local HTTP receiver: bodies, retries with backoff, giving up, a full queue. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WebhookSenderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant T = Instant.parse("2025-01-31T12:00:00Z");

    private HttpServer server;
    private ExecutorService handlers;
    private final List<String> bodies = new CopyOnWriteArrayList<>();
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private final AtomicInteger attempts = new AtomicInteger();
    private volatile CountDownLatch gate = new CountDownLatch(0);

    @BeforeEach
    void startReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        handlers = Executors.newCachedThreadPool();
        server.setExecutor(handlers);
        server.createContext("/hook", this::handle);
        server.start();
    }

    @AfterEach
    void stopReceiver() {
        gate.countDown();
        server.stop(0);
        handlers.shutdownNow();
    }

    private void handle(HttpExchange x) throws IOException {
        attempts.incrementAndGet();
        String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        try {
            gate.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int status = failuresLeft.getAndDecrement() > 0 ? 500 : 204;
        if (status == 204) {
            bodies.add(body);
        }
        x.sendResponseHeaders(status, -1);
        x.close();
    }

    private WebhookSender sender(AlertConfig.Format format, int retries, int queueSize) {
        URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
        AlertConfig c = AlertConfig.defaults().withWebhooks(List.of(new AlertConfig.Webhook(url, format)))
                .withDelivery(Duration.ofSeconds(5), retries, Duration.ofMillis(20), queueSize);
        return new WebhookSender(c);
    }

    private static AlertEvent event(AlertEvent.Kind kind, String message) {
        return new AlertEvent(kind, "pool_utilization", Severity.CRITICAL, Map.of("pool", "app/app"), 100, 95,
                "percent", message, T, T.plusSeconds(3));
    }

    private static void await(BooleanSupplier condition, String what) {
        Await.until(Duration.ofSeconds(20), what, condition);
    }

    @Test
    void json_bodyCarriesEveryField() throws Exception {
        try (WebhookSender s = sender(AlertConfig.Format.JSON, 0, 10)) {
            s.send(event(AlertEvent.Kind.FIRED, "pool app/app: 2 of 2 in use"));
            await(() -> bodies.size() == 1, "one delivery");
            JsonNode b = JSON.readTree(bodies.get(0));
            assertThat(b.get("source").asText()).isEqualTo("sluice");
            assertThat(b.get("alert").asText()).isEqualTo("pool_utilization");
            assertThat(b.get("event").asText()).isEqualTo("fired");
            assertThat(b.get("state").asText()).isEqualTo("firing");
            assertThat(b.get("severity").asText()).isEqualTo("critical");
            assertThat(b.get("value").asDouble()).isEqualTo(100.0);
            assertThat(b.get("threshold").asDouble()).isEqualTo(95.0);
            assertThat(b.get("unit").asText()).isEqualTo("percent");
            assertThat(b.get("labels").get("pool").asText()).isEqualTo("app/app");
            assertThat(b.get("message").asText()).isEqualTo("pool app/app: 2 of 2 in use");
            assertThat(b.get("started_at").asText()).isEqualTo("2025-01-31T12:00:00Z");
            assertThat(b.get("at").asText()).isEqualTo("2025-01-31T12:00:03Z");
            await(() -> s.status().get(0).delivered() == 1, "counted");
        }
    }

    @Test
    void slack_bodyIsText() throws Exception {
        try (WebhookSender s = sender(AlertConfig.Format.SLACK, 0, 10)) {
            s.send(event(AlertEvent.Kind.RESOLVED, "back to normal"));
            await(() -> bodies.size() == 1, "one delivery");
            JsonNode b = JSON.readTree(bodies.get(0));
            assertThat(b.size()).isEqualTo(1);
            assertThat(b.get("text").asText())
                    .isEqualTo("[RESOLVED critical] pool_utilization pool=app/app: back to normal");
        }
    }

    @Test
    void failingTwice_isDeliveredOnTheThirdAttempt() {
        failuresLeft.set(2);
        try (WebhookSender s = sender(AlertConfig.Format.JSON, 3, 10)) {
            s.send(event(AlertEvent.Kind.FIRED, "m"));
            await(() -> bodies.size() == 1, "delivered after retries");
            assertThat(attempts.get()).isEqualTo(3);
            await(() -> s.status().get(0).delivered() == 1, "counted");
            AlertEngine.WebhookStatus st = s.status().get(0);
            assertThat(st.failedAttempts()).isEqualTo(2);
            assertThat(st.givenUp()).isZero();
            assertThat(st.url()).isEqualTo("http://127.0.0.1:" + server.getAddress().getPort() + "/...");
        }
    }

    @Test
    void retriesExhausted_givesUpThatEvent_andGoesOnWithTheNext() {
        failuresLeft.set(3);
        try (WebhookSender s = sender(AlertConfig.Format.JSON, 2, 10)) {
            s.send(event(AlertEvent.Kind.FIRED, "first"));
            s.send(event(AlertEvent.Kind.RESOLVED, "second"));
            await(() -> bodies.size() == 1, "second delivered");
            assertThat(bodies.get(0)).contains("\"second\"");
            await(() -> s.status().get(0).delivered() == 1, "counted");
            assertThat(s.status().get(0).givenUp()).isEqualTo(1);
            assertThat(s.status().get(0).failedAttempts()).isEqualTo(3);
        }
    }

    @Test
    void fullQueue_dropsTheOldestWaiting_andKeepsOrder() {
        gate = new CountDownLatch(1);
        try (WebhookSender s = sender(AlertConfig.Format.JSON, 0, 2)) {
            s.send(event(AlertEvent.Kind.FIRED, "e0"));
            await(() -> attempts.get() == 1, "e0 in flight");
            for (int i = 1; i <= 4; i++) {
                s.send(event(AlertEvent.Kind.FIRED, "e" + i)); // never blocks
            }
            assertThat(s.status().get(0).dropped()).isEqualTo(2);
            assertThat(s.status().get(0).queued()).isEqualTo(2);
            gate.countDown();
            await(() -> bodies.size() == 3, "three delivered");
            assertThat(bodies).extracting(b -> b.replaceAll(".*\"message\":\"(e\\d)\".*", "$1"))
                    .containsExactly("e0", "e3", "e4");
        }
    }

    @Test
    void unreachable_countsFailures() {
        URI url = URI.create("http://127.0.0.1:1/hook");
        AlertConfig c = AlertConfig.defaults().withWebhooks(List.of(new AlertConfig.Webhook(url, AlertConfig.Format.JSON)))
                .withDelivery(Duration.ofSeconds(2), 1, Duration.ofMillis(10), 10);
        try (WebhookSender s = new WebhookSender(c)) {
            s.send(event(AlertEvent.Kind.FIRED, "m"));
            await(() -> s.status().get(0).givenUp() == 1, "given up");
            assertThat(s.status().get(0).failedAttempts()).isEqualTo(2);
        }
    }
}

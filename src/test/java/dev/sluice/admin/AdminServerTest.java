package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.AdminConfig;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.HostPort;
import dev.sluice.frontend.ProxyServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The admin server's dispatch, with a proxy that never reaches PostgreSQL (its database points
 * at a port nothing listens on, and no client connects): route table against the OpenAPI
 * description, 404, 405, 400, and the bearer token on loopback.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AdminServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "unit-test-token-0123456789abcdef";

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static ProxyServer proxy;
    private static AdminServer admin;
    private static ProxyServer guardedProxy;
    private static AdminServer guarded;

    @BeforeAll
    static void start() throws Exception {
        proxy = ProxyServer.start(config(Map.of()));
        admin = AdminServer.start(proxy, proxy.config().adminListen());
        guardedProxy = ProxyServer.start(config(Map.of("admin_token", TOKEN)));
        guarded = AdminServer.start(guardedProxy, guardedProxy.config().adminListen());
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {admin, proxy, guarded, guardedProxy}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    private static SluiceConfig config(Map<String, String> extra) throws Exception {
        Map<String, String> flags = new java.util.HashMap<>(Map.of("listen", "127.0.0.1:0", "admin_listen",
                "127.0.0.1:0", "io_threads", "1", "upstream", "postgresql://app:secret@127.0.0.1:1/app"));
        flags.putAll(extra);
        return ConfigLoader.load(Optional.empty(), Map.of(), flags);
    }

    private static HttpResponse<String> send(AdminServer server, String method, String pathAndQuery, String auth)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + pathAndQuery))
                .timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (auth != null) {
            b.header("Authorization", auth);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).get("error").asText();
    }

    @Test
    void everyRegisteredRoute_isDescribedInTheOpenApiResource() throws Exception {
        JsonNode paths = JSON.readTree(OpenApiRoutes.load()).get("paths");
        List<String> routes = admin.routeKeys();
        assertThat(routes).contains("GET /health/live", "GET /api/v1/status", "POST /api/v1/mode", "GET /api/v1/pools",
                "POST /api/v1/reload", "GET /api/v1/throttling", "GET /api/v1/openapi.json");
        for (String route : routes) {
            String method = route.substring(0, route.indexOf(' ')).toLowerCase(Locale.ROOT);
            String path = route.substring(route.indexOf(' ') + 1);
            assertThat(paths.has(path)).as("openapi.json describes %s", path).isTrue();
            assertThat(paths.get(path).has(method)).as("openapi.json describes %s", route).isTrue();
            assertThat(paths.get(path).get(method).get("responses").has("200")).as("%s has a 200 answer", route).isTrue();
        }
    }

    @Test
    void openApi_isServedAsJson() throws Exception {
        HttpResponse<String> r = send(admin, "GET", "/api/v1/openapi.json", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/json");
        JsonNode doc = JSON.readTree(r.body());
        assertThat(doc.get("openapi").asText()).startsWith("3.0.");
        assertThat(doc.get("paths").has("/api/v1/throttling")).isTrue();
    }

    @Test
    void unknownPath_is404() throws Exception {
        HttpResponse<String> r = send(admin, "GET", "/api/v1/nothing", null);
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(error(r)).isEqualTo("no such endpoint: /api/v1/nothing");
    }

    @Test
    void wrongMethod_is405WithAllow() throws Exception {
        HttpResponse<String> r = send(admin, "GET", "/api/v1/pause", null);
        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).contains("POST");
        assertThat(error(r)).isEqualTo("GET is not allowed on /api/v1/pause (allowed: POST)");
        HttpResponse<String> del = send(admin, "DELETE", "/api/v1/pools", null);
        assertThat(del.statusCode()).isEqualTo(405);
        assertThat(del.headers().firstValue("Allow")).contains("GET");
    }

    @Test
    void badParameters_are400WithTheParameterNamed() throws Exception {
        HttpResponse<String> sort = send(admin, "GET", "/api/v1/queries?sort=slowest", null);
        assertThat(sort.statusCode()).isEqualTo(400);
        assertThat(error(sort)).isEqualTo(
                "parameter 'sort': 'slowest' is not allowed (expected one of total_time, calls, mean_time, p99, errors)");
        HttpResponse<String> limit = send(admin, "GET", "/api/v1/queries?limit=0", null);
        assertThat(limit.statusCode()).isEqualTo(400);
        assertThat(error(limit)).isEqualTo("parameter 'limit': '0' is not allowed (expected an integer from 1 to 5000)");
        HttpResponse<String> state = send(admin, "GET", "/api/v1/clients?state=busy", null);
        assertThat(state.statusCode()).isEqualTo(400);
        assertThat(error(state)).startsWith("parameter 'state': 'busy' is not allowed (expected one of login, idle");
        HttpResponse<String> unknown = send(admin, "GET", "/api/v1/servers?databse=app", null);
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(error(unknown)).isEqualTo(
                "unknown parameter 'databse' for /api/v1/servers (expected: database, user, state)");
        HttpResponse<String> noId = send(admin, "POST", "/api/v1/clients/terminate", null);
        assertThat(noId.statusCode()).isEqualTo(400);
        assertThat(error(noId)).isEqualTo("parameter 'id' is required (expected an integer from 1 to 2147483647)");
        HttpResponse<String> badId = send(admin, "POST", "/api/v1/clients/cancel?id=x", null);
        assertThat(badId.statusCode()).isEqualTo(400);
        HttpResponse<String> twice = send(admin, "POST", "/api/v1/drain?database=a&database=b", null);
        assertThat(twice.statusCode()).isEqualTo(400);
        assertThat(error(twice)).isEqualTo("parameter 'database' is given 2 times (expected once)");
    }

    @Test
    void unknownDatabaseOrClient_is404() throws Exception {
        HttpResponse<String> pause = send(admin, "POST", "/api/v1/pause?database=nope", null);
        assertThat(pause.statusCode()).isEqualTo(404);
        assertThat(error(pause)).isEqualTo("no database 'nope' is configured");
        HttpResponse<String> kill = send(admin, "POST", "/api/v1/clients/terminate?id=424242", null);
        assertThat(kill.statusCode()).isEqualTo(404);
        assertThat(error(kill)).isEqualTo("no client with id 424242 is connected");
    }

    @Test
    void queries_showQueryStatsInMilliseconds_sortedAndLimited_andResetForgets() throws Exception {
        var stats = proxy.queryStats();
        stats.reset();
        stats.record(0xabcL, () -> "SELECT $1", "app", "app", "web", 2_000_000, 500_000, 1, null);
        stats.record(0xabcL, () -> "SELECT $1", "app", "app", "web", 4_000_000, 0, 1, null);
        stats.record(0xdefL, () -> "UPDATE t SET a = $1", "app", "app", "batch", 50_000_000, 0, 0, "40001");

        JsonNode byCalls = JSON.readTree(send(admin, "GET", "/api/v1/queries?sort=calls&limit=1", null).body());
        assertThat(byCalls.get("sort").asText()).isEqualTo("calls");
        assertThat(byCalls.get("limit").asInt()).isEqualTo(1);
        assertThat(byCalls.get("fingerprints").asInt()).isEqualTo(2);
        assertThat(byCalls.get("queries")).hasSize(1);
        JsonNode top = byCalls.get("queries").get(0);
        assertThat(top.get("id").asText()).isEqualTo("abc");
        assertThat(top.get("query").asText()).isEqualTo("SELECT $1");
        assertThat(top.get("calls").asLong()).isEqualTo(2);
        assertThat(top.get("total_time_ms").asDouble()).isEqualTo(6.0);
        assertThat(top.get("mean_time_ms").asDouble()).isEqualTo(3.0);
        assertThat(top.get("min_time_ms").asDouble()).isEqualTo(2.0);
        assertThat(top.get("max_time_ms").asDouble()).isEqualTo(4.0);
        assertThat(top.get("wait_time_ms").asDouble()).isEqualTo(0.5);
        assertThat(top.get("rows").asLong()).isEqualTo(2);
        assertThat(top.get("sources").get(0).get("application").asText()).isEqualTo("web");
        assertThat(top.get("sources").get(0).get("calls").asLong()).isEqualTo(2);

        JsonNode byErrors = JSON.readTree(send(admin, "GET", "/api/v1/queries?sort=errors", null).body());
        assertThat(byErrors.get("limit").asInt()).isEqualTo(PoolRoutes.DEFAULT_QUERY_LIMIT);
        JsonNode failing = byErrors.get("queries").get(0);
        assertThat(failing.get("id").asText()).isEqualTo("def");
        assertThat(failing.get("errors").asLong()).isEqualTo(1);
        assertThat(failing.get("errors_by_sqlstate").get("40001").asLong()).isEqualTo(1);
        assertThat(failing.get("total_time_ms").asDouble()).isEqualTo(50.0);

        HttpResponse<String> reset = send(admin, "POST", "/api/v1/queries/reset", null);
        assertThat(reset.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(reset.body()).get("fingerprints_forgotten").asInt()).isEqualTo(2);
        assertThat(JSON.readTree(send(admin, "GET", "/api/v1/queries", null).body()).get("queries")).isEmpty();
    }

    @Test
    void reload_withoutSource_is422WithTheReason() throws Exception {
        HttpResponse<String> r = send(admin, "POST", "/api/v1/reload", null);
        assertThat(r.statusCode()).isEqualTo(422);
        JsonNode doc = JSON.readTree(r.body());
        assertThat(doc.get("ok").asBoolean()).isFalse();
        assertThat(doc.get("error").asText()).isEqualTo("no configuration source to reload from");
    }

    @Test
    void throttling_beforeAnyClient_isNoneWithTheConfiguredPoolSize() throws Exception {
        HttpResponse<String> r = send(admin, "GET", "/api/v1/throttling", null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode doc = JSON.readTree(r.body());
        assertThat(doc.get("level").asText()).isEqualTo("none");
        assertThat(doc.get("suggested_max_concurrency").asInt()).isEqualTo(20);
        assertThat(doc.get("delay_ms").asLong()).isZero();
        assertThat(doc.get("retry_after_s").asLong()).isZero();
    }

    @Test
    void token_onLoopback_isEnforcedExceptForHealthProbes() throws Exception {
        HttpResponse<String> none = send(guarded, "GET", "/api/v1/status", null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        HttpResponse<String> wrong = send(guarded, "GET", "/api/v1/status", "Bearer " + TOKEN + "x");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(send(guarded, "GET", "/api/v1/status", "Basic " + TOKEN).statusCode()).isEqualTo(401);
        assertThat(send(guarded, "GET", "/api/v1/status", "Bearer").statusCode()).isEqualTo(401);
        // unknown paths do not tell what exists without the token
        assertThat(send(guarded, "GET", "/api/v1/nothing", null).statusCode()).isEqualTo(401);

        assertThat(send(guarded, "GET", "/api/v1/status", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
        assertThat(send(guarded, "GET", "/api/v1/status", "bearer  " + TOKEN + " ").statusCode()).isEqualTo(200);
        assertThat(send(guarded, "GET", "/health/live", null).statusCode()).isEqualTo(200);
        assertThat(send(guarded, "GET", "/health/ready", null).statusCode()).isEqualTo(200);
        // without a token configured, nothing is asked
        assertThat(send(admin, "GET", "/api/v1/status", null).statusCode()).isEqualTo(200);
    }

    @Test
    void start_beyondLoopbackWithoutToken_isRefused() throws Exception {
        assertThat(proxy.config().admin()).isEqualTo(AdminConfig.none());
        assertThatThrownBy(() -> AdminServer.start(proxy, new HostPort("0.0.0.0", 0)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("admin_listen 0.0.0.0:0 is not a loopback address and no admin_token is set: refusing to "
                        + "serve the admin API without a token");
    }
}

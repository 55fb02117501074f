package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.admission.OperatingMode;
import dev.sluice.admission.Priority;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.HostPort;
import dev.sluice.config.SluiceConfig.LogFormat;
import dev.sluice.config.SluiceConfig.PoolMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigChangeTest {

    private static final String BASE = """
            listen: 127.0.0.1:6432
            users:
              - name: app
                password: app-secret
              - name: ops
                password: ops-secret
            databases:
              - name: app
                host: db1
                port: 5432
              - name: reports
                host: db1
                dbname: reporting
                pool_size: 4
            """;

    @TempDir
    Path dir;

    private SluiceConfig load(String yaml) throws IOException, ConfigException {
        return load(yaml, Map.of());
    }

    private SluiceConfig load(String yaml, Map<String, String> flags) throws IOException, ConfigException {
        Path file = Files.writeString(dir.resolve("sluice.yaml"), yaml);
        return ConfigLoader.load(Optional.of(file), Map.of(), flags, w -> { });
    }

    @Test
    void between_sameConfiguration_isEmpty() throws Exception {
        ConfigChange c = ConfigChange.between(load(BASE), load(BASE));
        assertThat(c.isEmpty()).isTrue();
        assertThat(c.effective()).isEqualTo(load(BASE));
        assertThat(c.report()).isEqualTo(new ReloadReport(true, java.util.List.of(), java.util.List.of(), null));
    }

    @Test
    void between_poolSettingsAndTimeouts_areLive() throws Exception {
        SluiceConfig running = load(BASE);
        SluiceConfig loaded = load(BASE + """
                pool:
                  size: 6
                  min_idle: 2
                  max_client_conn: 100
                  acquire_timeout: 3s
                  connect_timeout: 2s
                  server_lifetime: 30m
                  server_idle_timeout: 1m
                  server_check_delay: 5s
                  idle_in_transaction_timeout: 10s
                  server_reset_query: DISCARD ALL; SELECT 1
                  prepared_statement_cache_size: 10
                auth_type: md5
                max_message_length: 1MB
                shutdown_timeout: 5s
                """);
        ConfigChange c = ConfigChange.between(running, loaded);
        assertThat(c.applied()).startsWith("auth_type", "max_message_length", "shutdown_timeout", "pool.size",
                "pool.min_idle", "pool.max_client_conn", "pool.acquire_timeout", "pool.connect_timeout",
                "pool.server_lifetime", "pool.server_idle_timeout", "pool.server_check_delay",
                "pool.idle_in_transaction_timeout", "pool.server_reset_query", "pool.prepared_statement_cache_size");
        // admission.queue_size and the wait timeouts follow max_client_conn and acquire_timeout when unset
        assertThat(c.applied()).contains("admission.queue_size", "admission.wait_timeout.normal");
        assertThat(c.needRestart()).isEmpty();
        assertThat(c.effective()).isEqualTo(loaded);
    }

    @Test
    void between_admissionSettings_liveOnesApplyOthersWaitForRestart() throws Exception {
        SluiceConfig running = load(BASE);
        SluiceConfig loaded = load(BASE + """
                admission:
                  queue_size: 50
                  wait_timeout:
                    high: 2s
                  aging_step: 0
                  priority_rules: user=ops:high
                  default_priority: low
                  rate_limit: 100
                  rate_burst: 20
                  mode: degraded
                  retry_attempts: 1
                  adaptive_limit: on
                  min_limit: 3
                  breaker_failures: 9
                  breaker_cool_down: 9s
                  degraded_wait: 300ms
                """);
        ConfigChange c = ConfigChange.between(running, loaded);
        assertThat(c.applied()).containsExactly("admission.queue_size", "admission.wait_timeout.high",
                "admission.aging_step", "admission.priority_rules", "admission.default_priority",
                "admission.rate_limit", "admission.rate_burst", "admission.mode", "admission.retry_attempts",
                "admission.degraded_wait");
        assertThat(c.needRestart()).containsExactly("admission.adaptive_limit", "admission.min_limit",
                "admission.breaker_failures", "admission.breaker_cool_down");
        AdmissionConfig a = c.effective().admission();
        assertThat(a.queueSize()).isEqualTo(50);
        assertThat(a.waitTimeouts().get(Priority.HIGH)).isEqualTo(Duration.ofSeconds(2));
        assertThat(a.rules()).hasSize(1);
        assertThat(a.defaultPriority()).isEqualTo(Priority.LOW);
        assertThat(a.rateLimit()).isEqualTo(100);
        assertThat(a.forcedMode()).contains(OperatingMode.Mode.DEGRADED);
        assertThat(a.retryAttempts()).isEqualTo(1);
        assertThat(a.degradedWait()).isEqualTo(Duration.ofMillis(300));
        // restart-only values stay as they run
        assertThat(a.adaptiveLimit()).isFalse();
        assertThat(a.minLimit()).isEqualTo(running.admission().minLimit());
        assertThat(a.breakerFailures()).isEqualTo(running.admission().breakerFailures());
        assertThat(a.breakerCoolDown()).isEqualTo(running.admission().breakerCoolDown());
    }

    @Test
    void between_socketsThreadsTlsAndPoolMode_needRestartAndKeepRunningValues() throws Exception {
        Path cert = Files.writeString(dir.resolve("c.pem"), "x");
        Path key = Files.writeString(dir.resolve("k.pem"), "x");
        SluiceConfig running = load(BASE);
        SluiceConfig loaded = load(BASE.replace("listen: 127.0.0.1:6432", "listen: 0.0.0.0:7432") + """
                admin_listen: 127.0.0.1:7480
                io_threads: 3
                pool:
                  mode: session
                  size: 7
                tls:
                  client:
                    mode: require
                    cert_file: %s
                    key_file: %s
                  server:
                    mode: disable
                """.formatted(cert, key));
        ConfigChange c = ConfigChange.between(running, loaded);
        assertThat(c.needRestart()).containsExactly("listen", "admin_listen", "io_threads", "pool.mode",
                "tls.client.mode", "tls.client.cert_file", "tls.client.key_file", "tls.server.mode");
        assertThat(c.applied()).containsExactly("pool.size");
        SluiceConfig e = c.effective();
        assertThat(e.listen()).isEqualTo(new HostPort("127.0.0.1", 6432));
        assertThat(e.adminListen()).isEqualTo(running.adminListen());
        assertThat(e.ioThreads()).isEqualTo(running.ioThreads());
        assertThat(e.pool().mode()).isEqualTo(PoolMode.TRANSACTION);
        assertThat(e.pool().size()).isEqualTo(7);
        assertThat(e.clientTls()).isEqualTo(running.clientTls());
        assertThat(e.serverTls()).isEqualTo(running.serverTls());
    }

    @Test
    void between_restartKeysAreReportedAgainUntilRestart() throws Exception {
        SluiceConfig running = load(BASE);
        SluiceConfig loaded = load(BASE.replace("listen: 127.0.0.1:6432", "listen: 127.0.0.1:7432"));
        ConfigChange first = ConfigChange.between(running, loaded);
        ConfigChange second = ConfigChange.between(first.effective(), loaded);
        assertThat(first.needRestart()).containsExactly("listen");
        assertThat(second.needRestart()).containsExactly("listen");
        assertThat(second.applied()).isEmpty();
    }

    @Test
    void between_users_addedRemovedAndPasswordChangedAreLive() throws Exception {
        SluiceConfig running = load(BASE);
        SluiceConfig loaded = load(BASE.replace("""
                  - name: ops
                    password: ops-secret
                """, """
                  - name: batch
                    password: batch-secret
                """).replace("app-secret", "new-secret"));
        ConfigChange c = ConfigChange.between(running, loaded);
        assertThat(c.applied()).containsExactly("users[app]", "users[ops]", "users[batch]");
        assertThat(c.needRestart()).isEmpty();
        assertThat(c.effective().users()).isEqualTo(loaded.users());
    }

    @Test
    void between_databases_addedRemovedAndChanged() throws Exception {
        SluiceConfig running = load(BASE);
        SluiceConfig loaded = load("""
                listen: 127.0.0.1:6432
                users:
                  - name: app
                    password: app-secret
                  - name: ops
                    password: ops-secret
                databases:
                  - name: app
                    host: db2
                    port: 6543
                    dbname: app2
                    user: ops
                    password: ops-secret
                    pool_mode: session
                    pool_size: 9
                  - name: audit
                    host: db1
                """);
        ConfigChange c = ConfigChange.between(running, loaded);
        assertThat(c.applied()).containsExactly("databases[app].dbname", "databases[app].user",
                "databases[app].password", "databases[app].pool_size", "databases[audit]", "databases[reports]");
        assertThat(c.needRestart()).containsExactly("databases[app].host", "databases[app].port",
                "databases[app].pool_mode");
        DatabaseConfig app = c.effective().database("app").orElseThrow();
        assertThat(app).isEqualTo(new DatabaseConfig("app", "db1", 5432, "app2", Optional.of("ops"),
                Optional.of("ops-secret"), Optional.empty(), Optional.of(9)));
        assertThat(c.effective().database("audit")).isPresent();
        assertThat(c.effective().database("reports")).isEmpty();
    }

    @Test
    void between_logFormatAndWatch_areLive() throws Exception {
        SluiceConfig running = load(BASE);
        SluiceConfig loaded = load(BASE + "log_format: json\nreload:\n  watch: off\n");
        ConfigChange c = ConfigChange.between(running, loaded);
        assertThat(c.applied()).containsExactly("log_format", "reload.watch");
        assertThat(c.effective().logFormat()).isEqualTo(LogFormat.JSON);
        assertThat(c.effective().reloadWatch()).isFalse();
    }

    @Test
    void between_flagsStillWinOverTheReloadedFile() throws Exception {
        Map<String, String> flags = Map.of("pool.size", "3");
        SluiceConfig running = load(BASE, flags);
        SluiceConfig loaded = load(BASE + "pool:\n  size: 8\n  min_idle: 1\n", flags);
        ConfigChange c = ConfigChange.between(running, loaded);
        assertThat(c.applied()).containsExactly("pool.min_idle");
        assertThat(c.effective().pool().size()).isEqualTo(3);
    }

    @Test
    void load_logFormatAndWatch_defaultsAndValidation() throws Exception {
        SluiceConfig d = ConfigLoader.defaults();
        assertThat(d.logFormat()).isEqualTo(LogFormat.TEXT);
        assertThat(d.reloadWatch()).isTrue();
        SluiceConfig fromEnv = ConfigLoader.load(Optional.empty(),
                Map.of("SLUICE_LOG_FORMAT", "JSON", "SLUICE_RELOAD_WATCH", "off"), Map.of(), w -> { });
        assertThat(fromEnv.logFormat()).isEqualTo(LogFormat.JSON);
        assertThat(fromEnv.reloadWatch()).isFalse();
        assertThatThrownBy(() -> ConfigLoader.load(Optional.empty(), Map.of(), Map.of("log_format", "xml"), w -> { }))
                .isInstanceOf(ConfigException.class)
                .hasMessage("log_format: 'xml' is not allowed (expected one of text, json)");
        assertThatThrownBy(() -> load("reload: on\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("reload");
    }

    @Test
    void ioTransport_defaultsToAuto_takesEachName_andNeedsARestart() throws Exception {
        assertThat(ConfigLoader.defaults().ioTransport()).isEqualTo(SluiceConfig.IoTransport.AUTO);
        assertThat(load(BASE + "io_transport: epoll\n").ioTransport()).isEqualTo(SluiceConfig.IoTransport.EPOLL);
        assertThat(ConfigLoader.load(Optional.empty(), Map.of("SLUICE_IO_TRANSPORT", "io_uring"), Map.of(), w -> { })
                .ioTransport()).isEqualTo(SluiceConfig.IoTransport.IO_URING);
        assertThatThrownBy(() -> ConfigLoader.load(Optional.empty(), Map.of(), Map.of("io_transport", "kqueue"), w -> { }))
                .isInstanceOf(ConfigException.class)
                .hasMessage("io_transport: 'kqueue' is not allowed (expected one of auto, io_uring, epoll, nio)");

        ConfigChange c = ConfigChange.between(load(BASE), load(BASE + "io_transport: nio\n"));
        assertThat(c.needRestart()).containsExactly("io_transport");
        assertThat(c.effective().ioTransport()).isEqualTo(SluiceConfig.IoTransport.AUTO);
    }
}

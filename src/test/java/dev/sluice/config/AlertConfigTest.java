package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code alerts.*} keys: defaults, YAML with webhooks, environment overrides, refusals. */
class AlertConfigTest {

    @TempDir
    Path dir;

    private final List<String> warnings = new ArrayList<>();

    private SluiceConfig load(Map<String, String> env, Map<String, String> flags) throws ConfigException {
        return ConfigLoader.load(Optional.empty(), env, flags, warnings::add);
    }

    private SluiceConfig loadYaml(String yaml, Map<String, String> env) throws IOException, ConfigException {
        Path file = Files.writeString(dir.resolve("sluice.yaml"), yaml);
        return ConfigLoader.load(Optional.of(file), env, Map.of(), warnings::add);
    }

    @Test
    void defaults_areTheDocumentedValues() {
        AlertConfig a = ConfigLoader.defaults().alerts();
        assertThat(a).isEqualTo(AlertConfig.defaults());
        assertThat(a.enabled()).isTrue();
        assertThat(a.holdFor()).isEqualTo(Duration.ofSeconds(10));
        assertThat(a.window()).isEqualTo(Duration.ofSeconds(60));
        assertThat(a.minQueries()).isEqualTo(10);
        assertThat(a.poolUtilization()).isEqualTo(new AlertConfig.Thresholds(80, 95));
        assertThat(a.queryLatencyP95()).isEqualTo(new AlertConfig.Thresholds(1, 5));
        assertThat(a.errorRate()).isEqualTo(new AlertConfig.Thresholds(1, 5));
        assertThat(a.queueWait()).isEqualTo(new AlertConfig.Thresholds(1, 5));
        assertThat(a.circuitOpen()).isTrue();
        assertThat(a.operatingMode()).isTrue();
        assertThat(a.webhooks()).isEmpty();
        assertThat(a.webhookTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(a.webhookRetries()).isEqualTo(3);
        assertThat(a.webhookBackoff()).isEqualTo(Duration.ofSeconds(1));
        assertThat(a.webhookQueueSize()).isEqualTo(1000);
    }

    @Test
    void yaml_setsThresholdsAndWebhooks_envOverridesScalars() throws Exception {
        SluiceConfig c = loadYaml("""
                alerts:
                  for: 30s
                  window: 2m
                  pool_utilization:
                    warning: 70
                    critical: 90%
                  query_latency_p95:
                    warning: 250ms
                    critical: 2s
                  error_rate: { warning: 0.5, critical: 0 }
                  queue_wait: { warning: 0, critical: 3s }
                  circuit_open: off
                  webhook_backoff: 100ms
                  webhooks:
                    - url: https://hooks.example.com/services/T000/B000/XXXX
                      format: slack
                    - url: http://127.0.0.1:9000/alerts
                """, Map.of("SLUICE_ALERTS_FOR", "0", "SLUICE_ALERTS_POOL_UTILIZATION_WARNING", "60",
                "SLUICE_ALERTS_WEBHOOK_RETRIES", "5"));
        AlertConfig a = c.alerts();
        assertThat(a.holdFor()).isZero();
        assertThat(a.window()).isEqualTo(Duration.ofMinutes(2));
        assertThat(a.poolUtilization()).isEqualTo(new AlertConfig.Thresholds(60, 90));
        assertThat(a.queryLatencyP95()).isEqualTo(new AlertConfig.Thresholds(0.25, 2));
        assertThat(a.errorRate()).isEqualTo(new AlertConfig.Thresholds(0.5, 0));
        assertThat(a.queueWait()).isEqualTo(new AlertConfig.Thresholds(0, 3));
        assertThat(a.circuitOpen()).isFalse();
        assertThat(a.webhookRetries()).isEqualTo(5);
        assertThat(a.webhookBackoff()).isEqualTo(Duration.ofMillis(100));
        assertThat(a.webhooks()).containsExactly(
                new AlertConfig.Webhook(URI.create("https://hooks.example.com/services/T000/B000/XXXX"),
                        AlertConfig.Format.SLACK),
                new AlertConfig.Webhook(URI.create("http://127.0.0.1:9000/alerts"), AlertConfig.Format.JSON));
        assertThat(a.webhooks().get(0).toString()).doesNotContain("XXXX").contains("hooks.example.com");
        assertThat(warnings).isEmpty();
    }

    @Test
    void flags_setAlertKeys() throws Exception {
        AlertConfig a = load(Map.of(), Map.of("alerts.enabled", "off", "alerts.error_rate.critical", "10")).alerts();
        assertThat(a.enabled()).isFalse();
        assertThat(a.errorRate().critical()).isEqualTo(10.0);
    }

    @Test
    void badValues_areRefusedNamingTheKey() {
        assertThatThrownBy(() -> load(Map.of(), Map.of("alerts.pool_utilization.warning", "120")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("alerts.pool_utilization.warning: 120 is not allowed (expected a percentage from 0 (off) "
                        + "to 100, e.g. 80 or 2.5%)");
        assertThatThrownBy(() -> load(Map.of("SLUICE_ALERTS_ERROR_RATE_WARNING", "lots"), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("SLUICE_ALERTS_ERROR_RATE_WARNING: 'lots'");
        assertThatThrownBy(() -> load(Map.of(), Map.of("alerts.pool_utilization.critical", "50")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("alerts.pool_utilization.critical: 50 is not allowed (expected 0 (off) or at least "
                        + "alerts.pool_utilization.warning 80)");
        assertThatThrownBy(() -> load(Map.of(), Map.of("alerts.queue_wait.warning", "10s")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("alerts.queue_wait.critical: '5s'");
        assertThatThrownBy(() -> load(Map.of(), Map.of("alerts.window", "2h")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("alerts.window: '2h' is not allowed");
        assertThatThrownBy(() -> load(Map.of(), Map.of("alerts.for", "soon")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("alerts.for: 'soon' is not a duration");
        assertThatThrownBy(() -> load(Map.of(), Map.of("alerts.webhook_retries", "11")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("alerts.webhook_retries: 11");
        assertThatThrownBy(() -> load(Map.of(), Map.of("alerts.webhooks", "http://x")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("unknown key 'alerts.webhooks'");
    }

    @Test
    void badWebhooks_areRefused() {
        assertThatThrownBy(() -> loadYaml("alerts:\n  webhooks:\n    - url: ftp://example.com/x\n", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("alerts.webhooks[0].url: 'ftp://example.com/x' is not allowed (expected an http:// or "
                        + "https:// URL with a host)");
        assertThatThrownBy(() -> loadYaml("alerts:\n  webhooks:\n    - format: json\n", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("alerts.webhooks[0].url: not set (expected an http:// or https:// URL)");
        assertThatThrownBy(() -> loadYaml("alerts:\n  webhooks:\n    - url: http://a/b\n      format: teams\n", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("alerts.webhooks[0].format: 'teams' is not allowed (expected one of json, slack)");
        assertThatThrownBy(() -> loadYaml("alerts:\n  webhooks:\n    - url: http://a/b\n      formt: json\n", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("unknown key 'alerts.webhooks[0].formt' (did you mean 'alerts.webhooks[0].format'?)");
        assertThatThrownBy(() -> loadYaml("alerts:\n  webhooks: http://a/b\n", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("alerts.webhooks: 'http://a/b' is not allowed (expected a list of entries)");
        assertThatThrownBy(() -> loadYaml("alerts:\n  pool_utilisation:\n    warning: 50\n", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("unknown key 'alerts.pool_utilisation' (did you mean 'alerts.pool_utilization'?)");
    }

    @Test
    void webhooksWhileDisabled_isAWarning() throws Exception {
        loadYaml("alerts:\n  enabled: off\n  webhooks:\n    - url: http://a/b\n", Map.of());
        assertThat(warnings).containsExactly("alerts.webhooks are not used while alerts.enabled is off");
    }
}

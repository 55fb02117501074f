package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.config.SluiceConfig.ConsoleConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code admin_users} and {@code stats_users}, and the SHOW CONFIG view of a configuration. */
class ConsoleSettingsTest {

    @TempDir
    Path dir;

    private final List<String> warnings = new ArrayList<>();

    @Test
    void defaults_admitNobody() {
        ConsoleConfig c = ConfigLoader.defaults().console();
        assertThat(c).isEqualTo(ConsoleConfig.NONE);
        assertThat(c.allows("app")).isFalse();
    }

    @Test
    void yaml_takesAListOrACommaSeparatedValue() throws Exception {
        SluiceConfig c = loadYaml("""
                users:
                  - { name: admin, password: a }
                  - { name: ops, password: b }
                  - { name: grafana, password: c }
                admin_users: [admin, ops]
                stats_users: "grafana, ops"
                """, Map.of(), Map.of());
        assertThat(c.console().adminUsers()).containsExactly("admin", "ops");
        assertThat(c.console().statsUsers()).containsExactly("grafana", "ops");
        assertThat(c.console().isAdmin("ops")).isTrue();
        assertThat(c.console().isAdmin("grafana")).isFalse();
        assertThat(c.console().allows("grafana")).isTrue();
        assertThat(c.console().allows("app")).isFalse();
        assertThat(warnings).isEmpty();
    }

    @Test
    void envAndFlags_override_inThatOrder() throws Exception {
        SluiceConfig c = loadYaml("admin_users: [a]\nstats_users: [s]\n",
                Map.of("SLUICE_ADMIN_USERS", "b,c", "SLUICE_STATS_USERS", "t"), Map.of("stats_users", "u,u"));
        assertThat(c.console().adminUsers()).containsExactly("b", "c");
        assertThat(c.console().statsUsers()).containsExactly("u");
    }

    @Test
    void userNotInUsers_isWarnedAbout_exceptWithTrust() throws Exception {
        loadYaml("users: [{ name: admin, password: a }]\nadmin_users: [admin, ghost]\n", Map.of(), Map.of());
        assertThat(warnings).containsExactly("admin_users: user 'ghost' is not in users, so it cannot log in to the console");
        warnings.clear();
        loadYaml("auth_type: trust\nstats_users: [anyone]\n", Map.of(), Map.of());
        assertThat(warnings).isEmpty();
    }

    @Test
    void emptyNames_areRefused() {
        assertThatThrownBy(() -> loadYaml("", Map.of("SLUICE_ADMIN_USERS", "a,,b"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("SLUICE_ADMIN_USERS: 'a,,b' is not allowed (expected user names separated by commas, e.g. admin,ops)");
        assertThatThrownBy(() -> loadYaml("stats_users: [a, [b]]\n", Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("stats_users[1]: a list is not allowed (expected a user name without commas)");
        assertThatThrownBy(() -> loadYaml("admin_users: { a: b }\n", Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("admin_users: a mapping is not allowed");
    }

    @Test
    void configView_showsEveryScalarSettingWithItsDefault() throws Exception {
        SluiceConfig c = loadYaml("""
                shutdown_timeout: 2m
                admin_users: [admin]
                pool: { size: 7 }
                admission: { priority_rules: "user=batch:low; application_name=web:high:raise", rate_limit: 2.5 }
                """, Map.of(), Map.of());
        List<ConfigView.Entry> entries = ConfigView.entries(c);
        assertThat(entries).extracting(ConfigView.Entry::key).hasSize(Setting.values().length)
                .contains("listen", "admin_users", "stats_users", "pool.size", "admission.retry_attempts");
        assertThat(entry(entries, "pool.size")).isEqualTo(new ConfigView.Entry("pool.size", "7", "20", false));
        assertThat(entry(entries, "shutdown_timeout").value()).isEqualTo("2m");
        assertThat(entry(entries, "admin_users").value()).isEqualTo("admin");
        assertThat(entry(entries, "stats_users")).isEqualTo(new ConfigView.Entry("stats_users", "", "", false));
        assertThat(entry(entries, "max_message_length").value()).isEqualTo("64MB");
        assertThat(entry(entries, "tls.server.mode").value()).isEqualTo("prefer");
        assertThat(entry(entries, "admission.priority_rules").value())
                .isEqualTo("user=batch:low;application_name=web:high:raise");
        assertThat(entry(entries, "admission.rate_limit").value()).isEqualTo("2.5");
        assertThat(entry(entries, "admission.mode").value()).isEqualTo("auto");
        // every value reads back to the same configuration
        Map<String, String> asFlags = new LinkedHashMap<>();
        for (ConfigView.Entry e : entries) {
            if (!e.value().isEmpty()) {
                asFlags.put(e.key(), e.value());
            }
        }
        SluiceConfig again = ConfigLoader.load(Optional.empty(), Map.of(), asFlags, warnings::add);
        assertThat(ConfigView.entries(again)).isEqualTo(entries);
    }

    private static ConfigView.Entry entry(List<ConfigView.Entry> entries, String key) {
        return entries.stream().filter(e -> e.key().equals(key)).findFirst().orElseThrow();
    }

    private SluiceConfig loadYaml(String yaml, Map<String, String> env, Map<String, String> flags)
            throws IOException, ConfigException {
        Path file = Files.writeString(dir.resolve("sluice.yaml"), yaml);
        return ConfigLoader.load(Optional.of(file), env, flags, warnings::add);
    }
}

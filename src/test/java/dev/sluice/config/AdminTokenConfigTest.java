package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code admin_token}: sources, the loopback rule, masking. */
class AdminTokenConfigTest {

    @TempDir
    Path dir;

    private final List<String> warnings = new ArrayList<>();

    private SluiceConfig load(Map<String, String> env, Map<String, String> flags) throws ConfigException {
        return ConfigLoader.load(Optional.empty(), env, flags, warnings::add);
    }

    @Test
    void isLoopback_acceptsOnlyLoopbackLiteralsAndLocalhost() {
        assertThat(AdminConfig.isLoopback("127.0.0.1")).isTrue();
        assertThat(AdminConfig.isLoopback("127.10.20.30")).isTrue();
        assertThat(AdminConfig.isLoopback("localhost")).isTrue();
        assertThat(AdminConfig.isLoopback("LocalHost")).isTrue();
        assertThat(AdminConfig.isLoopback("::1")).isTrue();
        assertThat(AdminConfig.isLoopback("[::1]")).isTrue();
        assertThat(AdminConfig.isLoopback("0:0:0:0:0:0:0:1")).isTrue();

        assertThat(AdminConfig.isLoopback("0.0.0.0")).isFalse();
        assertThat(AdminConfig.isLoopback("::")).isFalse();
        assertThat(AdminConfig.isLoopback("10.1.2.3")).isFalse();
        assertThat(AdminConfig.isLoopback("192.168.0.1")).isFalse();
        assertThat(AdminConfig.isLoopback("fe80::1")).isFalse();
        // names are never resolved, so a name is not loopback even if it would resolve to it
        assertThat(AdminConfig.isLoopback("admin.internal")).isFalse();
        assertThat(AdminConfig.isLoopback("localhost.example.com")).isFalse();
        assertThat(AdminConfig.isLoopback("999.0.0.1")).isFalse();
    }

    @Test
    void noToken_onLoopback_isFine() throws Exception {
        assertThat(load(Map.of(), Map.of()).admin().token()).isEmpty();
        assertThat(load(Map.of(), Map.of("admin_listen", "localhost:6480")).admin().token()).isEmpty();
        assertThat(ConfigLoader.defaults().admin()).isEqualTo(AdminConfig.none());
    }

    @Test
    void noToken_beyondLoopback_isRefusedInOneLine() {
        assertThatThrownBy(() -> load(Map.of(), Map.of("admin_listen", "0.0.0.0:6480")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("admin_token: not set (expected a secret token, required because admin_listen "
                        + "'0.0.0.0:6480' is not a loopback address; or listen on 127.0.0.1)");
        assertThatThrownBy(() -> load(Map.of("SLUICE_ADMIN_LISTEN", "10.0.0.5:6480"), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("admin_token: not set")
                .hasMessageContaining("SLUICE_ADMIN_LISTEN '10.0.0.5:6480'");
        // an empty value counts as unset
        assertThatThrownBy(() -> load(Map.of(), Map.of("admin_listen", "[::]:6480", "admin_token", "  ")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("admin_token: not set");
    }

    @Test
    void token_fromFileEnvOrFlag_laterSourcesWin() throws Exception {
        Path yaml = Files.writeString(dir.resolve("c.yaml"), "admin_listen: 0.0.0.0:6480\nadmin_token: from-the-file-0123456789\n");
        assertThat(ConfigLoader.load(Optional.of(yaml), Map.of(), Map.of(), warnings::add).admin().token())
                .contains("from-the-file-0123456789");
        assertThat(ConfigLoader.load(Optional.of(yaml), Map.of("SLUICE_ADMIN_TOKEN", "from-the-env-0123456789"), Map.of(),
                warnings::add).admin().token()).contains("from-the-env-0123456789");
        assertThat(ConfigLoader.load(Optional.of(yaml), Map.of("SLUICE_ADMIN_TOKEN", "from-the-env-0123456789"),
                Map.of("admin_token", "from-the-flag-0123456789"), warnings::add).admin().token())
                .contains("from-the-flag-0123456789");
        assertThat(warnings).isEmpty();
    }

    @Test
    void token_onLoopback_isKept() throws Exception {
        assertThat(load(Map.of("SLUICE_ADMIN_TOKEN", "a-long-enough-secret-token"), Map.of()).admin().token())
                .contains("a-long-enough-secret-token");
    }

    @Test
    void shortToken_isWarnedAbout() throws Exception {
        assertThat(load(Map.of(), Map.of("admin_token", "short")).admin().token()).contains("short");
        assertThat(warnings).containsExactly(
                "admin_token is shorter than 16 characters; use a long random secret (e.g. openssl rand -hex 32)");
    }

    @Test
    void toString_neverShowsTheToken() throws Exception {
        SluiceConfig c = load(Map.of(), Map.of("admin_token", "do-not-print-me-0123456789"));
        assertThat(c.toString()).doesNotContain("do-not-print-me").contains("AdminConfig[token=***]");
    }
}

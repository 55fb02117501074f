package dev.sluice.config;

import dev.sluice.admission.OperatingMode;
import dev.sluice.admission.Priority;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.config.SluiceConfig.AuthType;
import dev.sluice.config.SluiceConfig.ClientTlsMode;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.HostPort;
import dev.sluice.config.SluiceConfig.PoolMode;
import dev.sluice.config.SluiceConfig.ServerTlsMode;
import dev.sluice.config.SluiceConfig.UserConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    private final List<String> warnings = new ArrayList<>();

    // ---- defaults and sources

    @Test
    void defaults_areTheDocumentedValues() {
        SluiceConfig c = ConfigLoader.defaults();
        assertThat(c.listen()).isEqualTo(new HostPort("127.0.0.1", 6432));
        assertThat(c.adminListen()).isEqualTo(new HostPort("127.0.0.1", 6480));
        assertThat(c.authType()).isEqualTo(AuthType.SCRAM_SHA_256);
        assertThat(c.maxMessageLength()).isEqualTo(64 * 1024 * 1024);
        assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.ioThreads()).isZero();
        assertThat(c.users()).isEmpty();
        assertThat(c.databases()).isEmpty();
        assertThat(c.pool()).isEqualTo(new SluiceConfig.PoolConfig(PoolMode.TRANSACTION, 20, 0, 5000,
                Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofHours(1), Duration.ofMinutes(10),
                Duration.ofSeconds(30), Duration.ZERO, "DISCARD ALL", 1024));
        assertThat(c.clientTls()).isEqualTo(new SluiceConfig.ClientTls(ClientTlsMode.DISABLE, Optional.empty(), Optional.empty()));
        assertThat(c.serverTls()).isEqualTo(new SluiceConfig.ServerTls(ServerTlsMode.PREFER, Optional.empty()));
    }

    @Test
    void admission_defaultsFollowThePoolSettings() {
        AdmissionConfig a = ConfigLoader.defaults().admission();
        assertThat(a.queueSize()).isEqualTo(5000);
        assertThat(a.waitTimeouts()).containsEntry(Priority.LOW, Duration.ofSeconds(30)).hasSize(5);
        assertThat(a.rules()).isEmpty();
        assertThat(a.defaultPriority()).isEqualTo(Priority.NORMAL);
        assertThat(a.adaptiveLimit()).isFalse();
        assertThat(a.forcedMode()).isEmpty();
        assertThat(a.retryAttempts()).isEqualTo(3);
    }

    @Test
    void admission_keysAreReadAndValidated() throws Exception {
        SluiceConfig c = load(Map.of("SLUICE_ADMISSION_ADAPTIVE_LIMIT", "on"), Map.of(
                "admission.priority_rules", "application_name=checkout:high; user=batch:background",
                "admission.wait_timeout.low", "2s", "pool.acquire_timeout", "9s", "admission.mode", "emergency"));
        AdmissionConfig a = c.admission();
        assertThat(a.adaptiveLimit()).isTrue();
        assertThat(a.rules()).hasSize(2);
        assertThat(a.rules().get(0).priority()).isEqualTo(Priority.HIGH);
        assertThat(a.waitTimeouts()).containsEntry(Priority.LOW, Duration.ofSeconds(2))
                .containsEntry(Priority.HIGH, Duration.ofSeconds(9));
        assertThat(a.forcedMode()).contains(OperatingMode.Mode.EMERGENCY);
        assertThatThrownBy(() -> load(Map.of(), Map.of("admission.priority_rules", "application_name=x:urgent")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("admission.priority_rules: ");
        assertThatThrownBy(() -> load(Map.of(), Map.of("admission.rate_limit", "fast")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("admission.rate_limit");
    }

    @Test
    void admission_modeWaits_areReadAndValidated() throws Exception {
        assertThat(ConfigLoader.defaults().admission().modeThresholds()).isEqualTo(OperatingMode.Thresholds.defaults());
        AdmissionConfig a = load(Map.of("SLUICE_ADMISSION_DEGRADED_WAIT", "200ms"),
                Map.of("admission.emergency_wait", "2s")).admission();
        assertThat(a.degradedWait()).isEqualTo(Duration.ofMillis(200));
        assertThat(a.modeThresholds())
                .isEqualTo(OperatingMode.Thresholds.forWaits(Duration.ofMillis(200), Duration.ofSeconds(2)));
        assertThatThrownBy(() -> load(Map.of(), Map.of("admission.emergency_wait", "500ms")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("admission.emergency_wait: '500ms' is not allowed (expected at least admission.degraded_wait, 1s)");
        assertThatThrownBy(() -> load(Map.of(), Map.of("admission.degraded_wait", "0")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("admission.degraded_wait: ");
    }

    @Test
    void load_withNoSources_equalsDefaults() throws Exception {
        assertThat(ConfigLoader.load(Optional.empty(), Map.of(), Map.of())).isEqualTo(ConfigLoader.defaults());
    }

    @Test
    void yaml_setsScalarsListsAndTls() throws Exception {
        Path cert = touch("server.crt");
        Path key = touch("server.key");
        Path ca = touch("ca.pem");
        SluiceConfig c = loadYaml("""
                listen: 0.0.0.0:7000
                admin_listen: "[::1]:7001"
                auth_type: md5
                max_message_length: 2MB
                shutdown_timeout: 2m
                io_threads: 4
                users:
                  - name: app
                    password: 0123
                  - name: hashed
                    password: md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
                databases:
                  - name: app
                    host: db.internal
                    port: 5433
                    dbname: app_prod
                    user: svc
                    password: s3cret
                    pool_mode: session
                    pool_size: 7
                  - name: other
                    host: 10.0.0.2
                pool:
                  mode: session
                  size: 30
                  min_idle: 2
                  max_client_conn: 100
                  acquire_timeout: 1500ms
                  connect_timeout: 1s
                  server_lifetime: 0
                  server_idle_timeout: 90
                  server_check_delay: 0s
                  idle_in_transaction_timeout: 1h
                  server_reset_query: ""
                  prepared_statement_cache_size: 0
                tls:
                  client: { mode: require, cert_file: %s, key_file: %s }
                  server: { mode: verify-full, ca_file: %s }
                """.formatted(cert, key, ca), Map.of(), Map.of());

        assertThat(c.listen()).isEqualTo(new HostPort("0.0.0.0", 7000));
        assertThat(c.adminListen()).isEqualTo(new HostPort("::1", 7001));
        assertThat(c.authType()).isEqualTo(AuthType.MD5);
        assertThat(c.maxMessageLength()).isEqualTo(2 * 1024 * 1024);
        assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(c.ioThreads()).isEqualTo(4);
        // scalars keep the text written in the file: 0123 is not read as a number
        assertThat(c.users()).containsExactly(new UserConfig("app", "0123"),
                new UserConfig("hashed", "md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        assertThat(c.databases()).containsExactly(
                new DatabaseConfig("app", "db.internal", 5433, "app_prod", Optional.of("svc"), Optional.of("s3cret"),
                        Optional.of(PoolMode.SESSION), Optional.of(7)),
                new DatabaseConfig("other", "10.0.0.2", 5432, "other", Optional.empty(), Optional.empty(),
                        Optional.empty(), Optional.empty()));
        assertThat(c.pool()).isEqualTo(new SluiceConfig.PoolConfig(PoolMode.SESSION, 30, 2, 100,
                Duration.ofMillis(1500), Duration.ofSeconds(1), Duration.ZERO, Duration.ofSeconds(90),
                Duration.ZERO, Duration.ofHours(1), "", 0));
        assertThat(c.clientTls()).isEqualTo(new SluiceConfig.ClientTls(ClientTlsMode.REQUIRE,
                Optional.of(cert.toString()), Optional.of(key.toString())));
        assertThat(c.serverTls()).isEqualTo(new SluiceConfig.ServerTls(ServerTlsMode.VERIFY_FULL, Optional.of(ca.toString())));
        assertThat(warnings).isEmpty();
    }

    @Test
    void yaml_emptyFileOrNullValues_keepDefaults() throws Exception {
        assertThat(loadYaml("", Map.of(), Map.of())).isEqualTo(ConfigLoader.defaults());
        assertThat(loadYaml("# nothing\npool:\n  size:\nusers:\n", Map.of(), Map.of())).isEqualTo(ConfigLoader.defaults());
    }

    @Test
    void env_beatsYaml() throws Exception {
        SluiceConfig c = loadYaml("pool:\n  size: 10\n  max_client_conn: 50\n",
                Map.of("SLUICE_POOL_SIZE", "30", "SLUICE_TLS_SERVER_MODE", "disable", "SLUICE_AUTH_TYPE", "trust",
                        "SLUICE_LISTEN", "127.0.0.1:0", "SLUICE_POOL_SERVER_RESET_QUERY", "RESET ALL"),
                Map.of());
        assertThat(c.pool().size()).isEqualTo(30);
        assertThat(c.pool().maxClientConn()).isEqualTo(50);
        assertThat(c.pool().serverResetQuery()).isEqualTo("RESET ALL");
        assertThat(c.serverTls().mode()).isEqualTo(ServerTlsMode.DISABLE);
        assertThat(c.authType()).isEqualTo(AuthType.TRUST);
        assertThat(c.listen().port()).isZero();
    }

    @Test
    void flags_beatEnvAndYaml() throws Exception {
        SluiceConfig c = loadYaml("pool:\n  size: 10\n",
                Map.of("SLUICE_POOL_SIZE", "30", "SLUICE_POOL_MODE", "session"),
                Map.of("pool.size", "40"));
        assertThat(c.pool().size()).isEqualTo(40);
        assertThat(c.pool().mode()).isEqualTo(PoolMode.SESSION);
    }

    @Test
    void env_emptyValueCountsAsUnset() throws Exception {
        SluiceConfig c = loadYaml("pool:\n  size: 10\n", Map.of("SLUICE_POOL_SIZE", "", "SLUICE_UPSTREAM", ""), Map.of());
        assertThat(c.pool().size()).isEqualTo(10);
        assertThat(c.databases()).isEmpty();
    }

    @Test
    void env_unknownSluiceVariable_isWarnedAndIgnored_otherVariablesAreNotRead() throws Exception {
        SluiceConfig c = load(Map.of("SLUICE_POOL_SISE", "3", "POOL_SIZE", "3", "PATH", "/bin"), Map.of());
        assertThat(c).isEqualTo(ConfigLoader.defaults());
        assertThat(warnings).containsExactly(
                "unknown environment variable SLUICE_POOL_SISE is ignored (did you mean SLUICE_POOL_SIZE?)");
    }

    @Test
    void enumsAndUnits_areCaseInsensitiveWhereUnambiguous() throws Exception {
        SluiceConfig c = load(Map.of(), Map.of("auth_type", "SCRAM-SHA-256", "pool.mode", "Session",
                "max_message_length", "16kb"));
        assertThat(c.authType()).isEqualTo(AuthType.SCRAM_SHA_256);
        assertThat(c.pool().mode()).isEqualTo(PoolMode.SESSION);
        assertThat(c.maxMessageLength()).isEqualTo(16 * 1024);
    }

    @Test
    void sizesAndDurations_acceptEveryUnitAndPlainNumbers() throws Exception {
        assertThat(load(Map.of(), Map.of("max_message_length", "4096")).maxMessageLength()).isEqualTo(4096);
        assertThat(load(Map.of(), Map.of("max_message_length", "4096B")).maxMessageLength()).isEqualTo(4096);
        assertThat(load(Map.of(), Map.of("max_message_length", "1GB")).maxMessageLength()).isEqualTo(1 << 30);
        assertThat(load(Map.of(), Map.of("shutdown_timeout", "7")).shutdownTimeout()).isEqualTo(Duration.ofSeconds(7));
        assertThat(load(Map.of(), Map.of("shutdown_timeout", "250ms")).shutdownTimeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(load(Map.of(), Map.of("shutdown_timeout", "3h")).shutdownTimeout()).isEqualTo(Duration.ofHours(3));
        assertThat(load(Map.of(), Map.of("shutdown_timeout", "0")).shutdownTimeout()).isZero();
    }

    // ---- impossible values: one line naming key, value and what is allowed

    @Test
    void outOfRangeInteger_isRefused() {
        assertRefused("pool:\n  size: 0\n")
                .hasMessage("pool.size: 0 is not allowed (expected an integer from 1 to 10000)");
    }

    @Test
    void notAnInteger_isRefused() {
        assertRefused("pool:\n  size: twenty\n")
                .hasMessage("pool.size: 'twenty' is not an integer (expected an integer from 1 to 10000)");
        assertRefused("io_threads: 99999999999999999999\n")
                .hasMessage("io_threads: 99999999999999999999 is not allowed (expected an integer from 0 to 1024)");
    }

    @Test
    void badValueFromEnvironment_namesTheVariable() {
        assertThatThrownBy(() -> load(Map.of("SLUICE_POOL_MAX_CLIENT_CONN", "-1"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("SLUICE_POOL_MAX_CLIENT_CONN: -1 is not allowed (expected an integer from 1 to 1000000)");
    }

    @Test
    void badEnum_isRefused() {
        assertRefused("pool:\n  mode: sessions\n")
                .hasMessage("pool.mode: 'sessions' is not allowed (expected one of session, transaction)");
        assertRefused("auth_type: password\n")
                .hasMessage("auth_type: 'password' is not allowed (expected one of scram-sha-256, md5, trust)");
        assertRefused("tls:\n  server:\n    mode: verify-ca\n")
                .hasMessage("tls.server.mode: 'verify-ca' is not allowed (expected one of disable, prefer, require, verify-full)");
    }

    @Test
    void badDuration_isRefused() {
        assertRefused("pool:\n  acquire_timeout: 30x\n")
                .hasMessage("pool.acquire_timeout: '30x' is not a duration (expected a whole number followed by ms, s, m or h, "
                        + "e.g. 30s; a plain number means seconds)");
        assertRefused("pool:\n  acquire_timeout: 0\n")
                .hasMessage("pool.acquire_timeout: 0 is not allowed (expected a duration from 1ms to 8760h)");
        assertRefused("shutdown_timeout: -5s\n")
                .hasMessage("shutdown_timeout: '-5s' is not allowed (expected a duration from 0 to 8760h)");
        assertRefused("shutdown_timeout: 9999999999999999999h\n")
                .hasMessage("shutdown_timeout: '9999999999999999999h' is not allowed (expected a duration from 0 to 8760h)");
    }

    @Test
    void badSize_isRefused() {
        assertRefused("max_message_length: 64XB\n")
                .hasMessage("max_message_length: '64XB' is not a size (expected a whole number followed by B, kB, MB or GB, "
                        + "e.g. 64MB; a plain number means bytes)");
        assertRefused("max_message_length: 2GB\n")
                .hasMessage("max_message_length: '2GB' is not allowed (expected a size from 1kB to 1GB)");
        assertRefused("max_message_length: 100\n")
                .hasMessage("max_message_length: 100 is not allowed (expected a size from 1kB to 1GB)");
    }

    @Test
    void badHostPort_isRefused() {
        assertRefused("listen: localhost\n")
                .hasMessage("listen: 'localhost' is not a host and port (expected HOST:PORT, e.g. 127.0.0.1:6432)");
        assertRefused("admin_listen: 127.0.0.1:70000\n")
                .hasMessage("admin_listen: '127.0.0.1:70000' is not allowed (expected a port from 0 to 65535)");
        assertRefused("databases:\n  - name: a\n    host: h\n    port: 0\n")
                .hasMessage("databases[0].port: 0 is not allowed (expected an integer from 1 to 65535)");
    }

    @Test
    void unknownKey_isRefusedWithItsPathAndAHint() {
        assertRefused("pool:\n  sise: 3\n").hasMessage("unknown key 'pool.sise' (did you mean 'pool.size'?)");
        assertRefused("colour: blue\n").hasMessage("unknown key 'colour'");
        assertRefused("databases:\n  - name: a\n    hots: h\n")
                .hasMessage("unknown key 'databases[0].hots' (did you mean 'databases[0].host'?)");
        assertRefused("tls:\n  client:\n    cert: x\n").hasMessage("unknown key 'tls.client.cert'");
        assertThatThrownBy(() -> load(Map.of(), Map.of("pool.sizes", "3")))
                .hasMessage("unknown key 'pool.sizes' (did you mean 'pool.size'?)");
    }

    @Test
    void wrongShape_isRefused() {
        assertRefused("pool: 20\n").hasMessage("pool: 20 is not allowed (expected a mapping of pool settings)");
        assertRefused("pool:\n  size: [1, 2]\n").hasMessage("pool.size: a list is not allowed (expected a single value)");
        assertRefused("users: app\n").hasMessage("users: 'app' is not allowed (expected a list of entries)");
        assertRefused("users:\n  - app\n")
                .hasMessage("users[0]: 'app' is not allowed (expected a mapping with name, password)");
        assertRefused("- a\n- b\n").hasMessageEndingWith(": expected a mapping of settings at the top level");
    }

    @Test
    void duplicateYamlKey_isRefused() {
        assertRefused("pool:\n  size: 1\n  size: 2\n").hasMessageEndingWith(": duplicate key 'pool.size'");
    }

    @Test
    void invalidYaml_isOneLineWithPosition() {
        assertRefused("pool:\n  size: [1, 2\n")
                .hasMessageContaining("invalid YAML at line ")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void missingFile_isRefused() {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> ConfigLoader.load(Optional.of(missing), Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage(missing + ": no such file");
    }

    @Test
    void duplicateDatabaseOrUser_isRefused() {
        assertRefused("databases:\n  - {name: app, host: a}\n  - {name: app, host: b}\n")
                .hasMessage("databases[1].name: 'app' is a duplicate (expected unique database names; databases[0] has it too)");
        assertRefused("users:\n  - {name: app, password: a}\n  - {name: app, password: b}\n")
                .hasMessage("users[1].name: 'app' is a duplicate (expected unique user names; users[0] has it too)");
    }

    @Test
    void databaseWithoutHostOrName_isRefused() {
        assertRefused("databases:\n  - name: app\n")
                .hasMessage("databases[0].host: not set (expected the PostgreSQL host name or address)");
        assertRefused("databases:\n  - host: h\n")
                .hasMessage("databases[0].name: not set (expected the database name clients use)");
        assertRefused("databases:\n  - {name: app, host: h, pool_size: 0}\n")
                .hasMessage("databases[0].pool_size: 0 is not allowed (expected an integer from 1 to 10000)");
        assertRefused("databases:\n  - {name: app, host: h, pool_mode: statement}\n")
                .hasMessage("databases[0].pool_mode: 'statement' is not allowed (expected one of session, transaction)");
    }

    @Test
    void clientTls_needsExistingCertAndKey() throws Exception {
        assertRefused("tls:\n  client:\n    mode: require\n")
                .hasMessage("tls.client.cert_file: not set (expected a readable PEM certificate file, "
                        + "needed because tls.client.mode is require)");
        Path cert = touch("c.pem");
        Path missingKey = dir.resolve("k.pem");
        assertRefused("tls:\n  client: {mode: allow, cert_file: " + cert + ", key_file: " + missingKey + "}\n")
                .hasMessage("tls.client.key_file: '" + missingKey + "' does not exist (expected a readable PEM private key "
                        + "file, needed because tls.client.mode is allow)");
        assertRefused("tls:\n  client: {mode: allow, cert_file: " + dir + ", key_file: " + cert + "}\n")
                .hasMessage("tls.client.cert_file: '" + dir + "' is not a readable file (expected a readable PEM "
                        + "certificate file, needed because tls.client.mode is allow)");
    }

    @Test
    void clientTlsFiles_whileDisabled_areWarnedAbout() throws Exception {
        loadYaml("tls:\n  client:\n    cert_file: /x.pem\n", Map.of(), Map.of());
        assertThat(warnings).containsExactly(
                "tls.client.cert_file and tls.client.key_file are ignored while tls.client.mode is disable");
    }

    @Test
    void serverTlsVerifyFull_needsCaFile() throws Exception {
        assertThatThrownBy(() -> load(Map.of("SLUICE_TLS_SERVER_MODE", "verify-full"), Map.of()))
                .hasMessage("tls.server.ca_file: not set (expected a readable PEM file of trusted CA certificates, "
                        + "needed because tls.server.mode is verify-full)");
        Path ca = touch("ca.pem");
        SluiceConfig c = load(Map.of("SLUICE_TLS_SERVER_MODE", "verify-full", "SLUICE_TLS_SERVER_CA_FILE", ca.toString()),
                Map.of());
        assertThat(c.serverTls().caFile()).contains(ca.toString());
    }

    @Test
    void listenPortZero_isAllowedForEphemeral() throws Exception {
        SluiceConfig c = load(Map.of(), Map.of("listen", "127.0.0.1:0", "admin_listen", "[::1]:0"));
        assertThat(c.listen().port()).isZero();
        assertThat(c.adminListen()).isEqualTo(new HostPort("::1", 0));
    }

    @Test
    void messages_neverSpanLines() {
        assertRefused("pool:\n  server_reset_query: x\n  size: \"a\\nb\"\n")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    // ---- doubtful values: warn and continue

    @Test
    void minIdleAboveSize_isClampedWithAWarning() throws Exception {
        SluiceConfig c = loadYaml("pool:\n  size: 5\n  min_idle: 8\n", Map.of(), Map.of());
        assertThat(c.pool().minIdle()).isEqualTo(5);
        assertThat(warnings).containsExactly("pool.min_idle: 8 is more than pool.size 5; using 5");
    }

    @Test
    void connectTimeoutAboveAcquireTimeout_isWarnedAbout() throws Exception {
        load(Map.of(), Map.of("pool.connect_timeout", "1m"));
        assertThat(warnings).singleElement().asString()
                .startsWith("pool.connect_timeout: 1m is longer than pool.acquire_timeout 30s");
    }

    @Test
    void hashedPasswordTheAuthTypeCannotCheck_isWarnedAbout() throws Exception {
        loadYaml("users:\n  - {name: a, password: md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n", Map.of(), Map.of());
        assertThat(warnings).singleElement().asString().startsWith("user 'a' has an md5 hash as password");
    }

    @Test
    void malformedScramVerifier_isRefusedWithoutShowingIt() {
        assertRefused("users:\n  - {name: a, password: 'SCRAM-SHA-256$4096:abc'}\n")
                .hasMessageStartingWith("user 'a': the password looks like a SCRAM-SHA-256 verifier but is malformed")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("abc"));
    }

    @Test
    void wellFormedScramVerifier_isAccepted() throws Exception {
        String verifier = "SCRAM-SHA-256$4096:c2FsdHNhbHQ=$" + "A".repeat(43) + "=:" + "B".repeat(43) + "=";
        SluiceConfig c = loadYaml("users:\n  - {name: a, password: '" + verifier + "'}\n", Map.of(), Map.of());
        assertThat(c.user("a")).contains(new UserConfig("a", verifier));
        assertThat(warnings).isEmpty();
    }

    // ---- users from flags

    @Test
    void flagUsers_replaceFileUsersOfTheSameName() throws Exception {
        Map<String, String> flags = new LinkedHashMap<>();
        flags.put("users[0]", "app:new:pass");
        flags.put("users[1]", "ops:x");
        SluiceConfig c = loadYaml("users:\n  - {name: app, password: old}\n  - {name: keep, password: k}\n", Map.of(), flags);
        assertThat(c.users()).containsExactly(new UserConfig("app", "new:pass"), new UserConfig("keep", "k"),
                new UserConfig("ops", "x"));
    }

    @Test
    void malformedFlagUser_isRefused() {
        assertThatThrownBy(() -> load(Map.of(), Map.of("users[0]", "app")))
                .hasMessage("--user: 'app' is not allowed (expected NAME:PASSWORD)");
        assertThatThrownBy(() -> load(Map.of(), Map.of("users[0]", "a:1", "users[1]", "a:2")))
                .hasMessage("--user: 'a' is given twice (expected each user once)");
    }

    // ---- upstream URL

    @Test
    void upstream_addsDatabaseAndUser_percentDecoded() throws Exception {
        SluiceConfig c = load(Map.of(), Map.of("upstream", "postgresql://app%40corp:p%40ss%3Aw%2Fd%20%C3%A9@db.example:6543/my%20db"));
        assertThat(c.databases()).containsExactly(new DatabaseConfig("my db", "db.example", 6543, "my db",
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()));
        assertThat(c.users()).containsExactly(new UserConfig("app@corp", "p@ss:w/d é"));
        assertThat(warnings).isEmpty();
    }

    @Test
    void upstream_defaultsPortAndAcceptsPostgresSchemeAndIpv6() throws Exception {
        SluiceConfig c = load(Map.of("SLUICE_UPSTREAM", "postgres://u:p@[::1]/d"), Map.of());
        assertThat(c.databases().getFirst().host()).isEqualTo("::1");
        assertThat(c.databases().getFirst().port()).isEqualTo(5432);
    }

    @Test
    void upstream_toleratesUnencodedAtAndSlashInPassword() throws Exception {
        SluiceConfig c = load(Map.of(), Map.of("upstream", "postgresql://u:a@b/c@h/d"));
        assertThat(c.user("u")).contains(new UserConfig("u", "a@b/c"));
        assertThat(c.databases().getFirst().host()).isEqualTo("h");
    }

    @Test
    void upstream_withoutPassword_givesEmptyPasswordAndWarns() throws Exception {
        SluiceConfig c = load(Map.of(), Map.of("upstream", "postgresql://app@localhost/app"));
        assertThat(c.users()).containsExactly(new UserConfig("app", ""));
        assertThat(warnings).containsExactly(
                "user 'app' has an empty password: only auth_type trust lets it log in (auth_type is scram-sha-256)");
        warnings.clear();
        load(Map.of(), Map.of("upstream", "postgresql://app@localhost/app", "auth_type", "trust"));
        assertThat(warnings).isEmpty();
    }

    @Test
    void upstream_keepsAnExistingUserAndReplacesAFileDatabaseOfTheSameName() throws Exception {
        SluiceConfig c = loadYaml("""
                users: [{name: app, password: fromfile}]
                databases: [{name: app, host: old}, {name: other, host: o}]
                """, Map.of(), Map.of("upstream", "postgresql://app:fromurl@new/app"));
        assertThat(c.users()).containsExactly(new UserConfig("app", "fromfile"));
        assertThat(c.databases()).extracting(DatabaseConfig::name, DatabaseConfig::host)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("other", "o"),
                        org.assertj.core.groups.Tuple.tuple("app", "new"));
    }

    @Test
    void upstream_flagBeatsEnv() throws Exception {
        SluiceConfig c = load(Map.of("SLUICE_UPSTREAM", "postgresql://u:p@envhost/envdb"),
                Map.of("upstream", "postgresql://u:p@flaghost/flagdb"));
        assertThat(c.databases()).extracting(DatabaseConfig::name).containsExactly("flagdb");
    }

    @Test
    void badUpstream_isRefusedWithThePasswordMasked() {
        String form = " (expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE)";
        assertUpstreamRefused("mysql://u:secret@h/d", "upstream: 'mysql://u:***@h/d' is not a postgresql:// URL" + form);
        assertUpstreamRefused("postgresql://u:secret@h", "upstream: 'postgresql://u:***@h' has no database" + form);
        assertUpstreamRefused("postgresql://h/d", "upstream: 'postgresql://h/d' has no user" + form);
        assertUpstreamRefused("postgresql://u:secret@h:99999/d",
                "upstream: 'postgresql://u:***@h:99999/d' has a port outside 1 to 65535" + form);
        assertUpstreamRefused("postgresql://u:secret@h/d?sslmode=require",
                "upstream: 'postgresql://u:***@h/d?sslmode=require' has query parameters, which are not supported" + form);
        assertUpstreamRefused("postgresql://u%zz:secret@h/d",
                "upstream: 'postgresql://u%zz:***@h/d' has a malformed percent-encoding" + form);
        assertUpstreamRefused("postgresql://u:secret@/d", "upstream: 'postgresql://u:***@/d' has no host" + form);
        assertThatThrownBy(() -> load(Map.of("SLUICE_UPSTREAM", "nonsense"), Map.of()))
                .hasMessageStartingWith("SLUICE_UPSTREAM: 'nonsense' is not a postgresql:// URL");
    }

    // ---- helpers

    private void assertUpstreamRefused(String url, String message) {
        assertThatThrownBy(() -> load(Map.of(), Map.of("upstream", url)))
                .isInstanceOf(ConfigException.class)
                .hasMessage(message);
    }

    private AbstractThrowableAssert<?, ? extends Throwable> assertRefused(String yaml) {
        return assertThatThrownBy(() -> loadYaml(yaml, Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class);
    }

    private SluiceConfig load(Map<String, String> env, Map<String, String> flags) throws ConfigException {
        return ConfigLoader.load(Optional.empty(), env, flags, warnings::add);
    }

    private SluiceConfig loadYaml(String yaml, Map<String, String> env, Map<String, String> flags)
            throws IOException, ConfigException {
        Path file = Files.writeString(dir.resolve("sluice.yaml"), yaml);
        return ConfigLoader.load(Optional.of(file), env, flags, warnings::add);
    }

    private Path touch(String name) throws IOException {
        return Files.writeString(dir.resolve(name), "-----BEGIN CERTIFICATE-----\n");
    }
}

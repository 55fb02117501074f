package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.UserConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int execute(Map<String, String> env, String... args) {
        CommandLine cl = Main.commandLine(env);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void checkConfig_validFile_printsOkAndExitsZero() throws Exception {
        Path file = Files.writeString(dir.resolve("ok.yaml"), "pool:\n  size: 5\n");
        assertThat(execute(Map.of(), "check-config", file.toString())).isZero();
        assertThat(out.toString()).isEqualTo(file + ": OK" + System.lineSeparator());
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void checkConfig_doubtfulValues_printsWarningsOnStderrAndExitsZero() throws Exception {
        Path file = Files.writeString(dir.resolve("warn.yaml"), "pool:\n  size: 5\n  min_idle: 9\n");
        assertThat(execute(Map.of(), "check-config", file.toString())).isZero();
        assertThat(out.toString()).isEqualTo(file + ": OK" + System.lineSeparator());
        assertThat(err.toString()).isEqualTo("sluice: warning: pool.min_idle: 9 is more than pool.size 5; using 5"
                + System.lineSeparator());
    }

    @Test
    void checkConfig_invalidFile_printsOneLineAndExitsTwo() throws Exception {
        Path file = Files.writeString(dir.resolve("bad.yaml"), "pool:\n  size: 0\n");
        assertThat(execute(Map.of(), "check-config", file.toString())).isEqualTo(2);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).isEqualTo(
                "sluice: pool.size: 0 is not allowed (expected an integer from 1 to 10000)" + System.lineSeparator());
    }

    @Test
    void checkConfig_ignoresTheEnvironment() throws Exception {
        Path file = Files.writeString(dir.resolve("ok.yaml"), "pool:\n  size: 5\n");
        assertThat(execute(Map.of("SLUICE_POOL_SIZE", "0"), "check-config", file.toString())).isZero();
    }

    @Test
    void checkConfig_missingFile_exitsTwo() {
        Path file = dir.resolve("missing.yaml");
        assertThat(execute(Map.of(), "check-config", file.toString())).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("sluice: " + file + ": no such file" + System.lineSeparator());
    }

    @Test
    void version_printsSluiceAndTheProjectVersion() {
        assertThat(execute(Map.of(), "version")).isZero();
        // Maven filters version.properties, so tests see the project version rather than "dev"
        assertThat(out.toString()).matches("sluice \\d+\\.\\d+\\.\\d+\\S*\\R");
        assertThat(VersionCommand.version()).isNotEqualTo("dev");
    }

    @Test
    void versionOption_printsTheSameLine() {
        assertThat(execute(Map.of(), "--version")).isZero();
        assertThat(out.toString()).isEqualTo("sluice " + VersionCommand.version() + System.lineSeparator());
    }

    @Test
    void noCommand_isAUsageErrorWithExitTwo() {
        assertThat(execute(Map.of())).isEqualTo(2);
        assertThat(err.toString()).contains("Missing command");
    }

    @Test
    void run_invalidFlag_printsOneLineAndExitsTwoBeforeStartingAnything() {
        assertThat(execute(Map.of(), "run", "--pool-size", "0")).isEqualTo(2);
        assertThat(err.toString()).isEqualTo(
                "sluice: pool.size: 0 is not allowed (expected an integer from 1 to 10000)" + System.lineSeparator());
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void run_invalidEnvironment_namesTheVariable() {
        assertThat(execute(Map.of("SLUICE_AUTH_TYPE", "ldap"), "run")).isEqualTo(2);
        assertThat(err.toString()).startsWith("sluice: SLUICE_AUTH_TYPE: 'ldap' is not allowed");
    }

    @Test
    void run_badUpstreamOrLogLevelOrSet_exitsTwo() {
        assertThat(execute(Map.of(), "run", "--upstream", "postgresql://u:secret@h")).isEqualTo(2);
        assertThat(err.toString()).startsWith("sluice: upstream: 'postgresql://u:***@h' has no database").doesNotContain("secret");
        assertThat(execute(Map.of(), "run", "--log-level", "loud")).isEqualTo(2);
        assertThat(execute(Map.of(), "run", "--set", "pool.min_idle")).isEqualTo(2);
        assertThat(execute(Map.of(), "run", "--set", "pool.sise=3")).isEqualTo(2);
        assertThat(err.toString()).contains("sluice: unknown key 'pool.sise' (did you mean 'pool.size'?)");
    }

    @Test
    void runFlags_mapOntoDottedKeys() throws Exception {
        RunCommand run = new RunCommand(Map.of());
        new CommandLine(run).parseArgs("--listen", "0.0.0.0:7000", "--admin-listen", "127.0.0.1:0",
                "--upstream", "postgresql://u:p@h/d", "--pool-mode", "session", "--pool-size", "3",
                "--max-client-conn", "9", "--auth-type", "md5", "--user", "a:1", "--user", "b:2",
                "--tls-mode", "require", "--tls-cert", "c.pem", "--tls-key", "k.pem",
                "--server-tls-mode", "verify-full", "--server-tls-ca", "ca.pem",
                "--set", "pool.min_idle=2", "--set", "pool.size=99");
        assertThat(run.flags()).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
                Map.entry("listen", "0.0.0.0:7000"), Map.entry("admin_listen", "127.0.0.1:0"),
                Map.entry("upstream", "postgresql://u:p@h/d"), Map.entry("pool.mode", "session"),
                Map.entry("pool.size", "3"), Map.entry("pool.max_client_conn", "9"), Map.entry("auth_type", "md5"),
                Map.entry("users[0]", "a:1"), Map.entry("users[1]", "b:2"), Map.entry("tls.client.mode", "require"),
                Map.entry("tls.client.cert_file", "c.pem"), Map.entry("tls.client.key_file", "k.pem"),
                Map.entry("tls.server.mode", "verify-full"), Map.entry("tls.server.ca_file", "ca.pem"),
                Map.entry("pool.min_idle", "2")));
    }

    @Test
    void readyLine_inDemoMode_isAPsqlCommandWithTheBoundPort() {
        UserConfig user = new UserConfig("demo", "p@ss word");
        DatabaseConfig db = new DatabaseConfig("demo", "127.0.0.1", 5432, "demo", Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());
        SluiceConfig c = withLists(ConfigLoader.defaults(), List.of(user), List.of(db));
        assertThat(RunCommand.readyLine(c, 40123, Optional.of(user)))
                .isEqualTo("Sluice is ready: psql \"postgresql://demo:p%40ss%20word@127.0.0.1:40123/demo\"");
    }

    @Test
    void readyLine_withDatabases_namesAddressAndDatabases() throws Exception {
        SluiceConfig c = ConfigLoader.load(Optional.empty(), Map.of(), Map.of("listen", "0.0.0.0:0",
                "upstream", "postgresql://u:p@h/app"));
        assertThat(RunCommand.readyLine(c, 6432, Optional.empty()))
                .isEqualTo("Sluice is ready: listening on 127.0.0.1:6432 for database app");
    }

    private static SluiceConfig withLists(SluiceConfig c, List<UserConfig> users, List<DatabaseConfig> dbs) {
        return new SluiceConfig(c.listen(), c.adminListen(), c.authType(), users, dbs, c.pool(), c.clientTls(),
                c.serverTls(), c.maxMessageLength(), c.shutdownTimeout(), c.ioThreads());
    }
}

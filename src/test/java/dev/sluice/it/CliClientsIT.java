package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Command;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command-line clients through Sluice in transaction mode: psql (queries, {@code \copy} both
 * ways) and pgbench (initialisation with COPY, then read-only runs in each query mode and with a
 * new connection per transaction). pgbench gets its own database.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliClientsIT {

    private static final String BENCH_DB = "sluice_pgbench";
    private static ProxyServer proxy;

    @BeforeAll
    static void start() throws Exception {
        try (Connection su = TestPostgres.superuserConnection(); Statement s = su.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + BENCH_DB + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + BENCH_DB + " OWNER " + TestPostgres.APP_USER);
        }
        proxy = ProxyServer.start(TestConfig.builder().poolSize(4)
                .database(TestConfig.database(BENCH_DB, TestPostgres.shared(), BENCH_DB)).build());
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        try (Connection su = TestPostgres.superuserConnection(); Statement s = su.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + BENCH_DB + " WITH (FORCE)");
        }
    }

    @Test
    @Order(1)
    void psql_commandsAndCopyBothWays(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in.csv");
        Path out = dir.resolve("out.csv");
        StringBuilder csv = new StringBuilder();
        for (int i = 1; i <= 1000; i++) {
            csv.append(i).append(",\"name, ").append(i).append("\"\n");
        }
        Files.writeString(in, csv.toString());
        String script = String.join("\n",
                "DROP TABLE IF EXISTS cli_copy;",
                "CREATE TABLE cli_copy (id int PRIMARY KEY, name text);",
                "\\copy cli_copy FROM '" + in + "' WITH (FORMAT csv)",
                "SELECT count(*), sum(id) FROM cli_copy;",
                "BEGIN;",
                "UPDATE cli_copy SET name = upper(name) WHERE id <= 10;",
                "SELECT name FROM cli_copy WHERE id = 3;",
                "COMMIT;",
                "\\copy (SELECT * FROM cli_copy ORDER BY id) TO '" + out + "' WITH (FORMAT csv)",
                "PREPARE q(int) AS SELECT name FROM cli_copy WHERE id = $1;",
                "EXECUTE q(500);",
                "DROP TABLE cli_copy;",
                "");
        Command.Result r = Command.run(psqlCommand(TestPostgres.DATABASE, "-v", "ON_ERROR_STOP=1", "-f", "-"),
                env(), script, Duration.ofSeconds(60));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stderr()).as(r.toString()).doesNotContainIgnoringCase("error");
        assertThat(r.stdout().lines().toList()).as(r.toString())
                .contains("COPY 1000", "1000|500500", "NAME, 3", "COPY 1000", "name, 500");
        List<String> lines = new ArrayList<>(Files.readAllLines(out, StandardCharsets.UTF_8));
        assertThat(lines).hasSize(1000);
        assertThat(lines.get(2)).isEqualTo("3,\"NAME, 3\"");
        assertThat(lines.get(10)).isEqualTo("11,\"name, 11\"");
        assertThat(lines.get(999)).isEqualTo("1000,\"name, 1000\"");
    }

    @Test
    @Order(2)
    void pgbench_initialiseThroughSluice() {
        Command.Result r = pgbench("-i", "-s", "1", "-q");
        assertClean(r);
        assertThat(r.stderr()).contains("done");
    }

    @Test
    @Order(3)
    void pgbench_selectOnly_eachQueryMode() {
        for (String mode : List.of("simple", "extended", "prepared")) {
            Command.Result r = pgbench("-S", "-M", mode, "-c", "8", "-j", "2", "-t", "200", "-n");
            assertClean(r);
            assertThat(r.stdout()).contains("query mode: " + mode)
                    .contains("number of transactions actually processed: 1600/1600");
        }
    }

    @Test
    @Order(4)
    void pgbench_tpcb_newConnectionPerTransaction() {
        Command.Result r = pgbench("-C", "-c", "4", "-j", "2", "-t", "50", "-n");
        assertClean(r);
        assertThat(r.stdout()).contains("number of transactions actually processed: 200/200");
    }

    private static void assertClean(Command.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isZero();
        for (String line : (r.stdout() + "\n" + r.stderr()).lines().toList()) {
            String l = line.toLowerCase(Locale.ROOT);
            assertThat(l).as(r.toString()).doesNotContain("error").doesNotContain("aborted");
        }
    }

    private static Command.Result pgbench(String... args) {
        List<String> cmd = new ArrayList<>(List.of("pgbench", "-h", "127.0.0.1", "-p", String.valueOf(proxy.port()),
                "-U", TestPostgres.APP_USER));
        cmd.addAll(List.of(args));
        cmd.add(BENCH_DB);
        return Command.run(cmd, env(), null, Duration.ofSeconds(120));
    }

    private static List<String> psqlCommand(String database, String... args) {
        List<String> cmd = new ArrayList<>(List.of("psql", "-X", "-w", "-At", "-h", "127.0.0.1",
                "-p", String.valueOf(proxy.port()), "-U", TestPostgres.APP_USER, "-d", database));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static Map<String, String> env() {
        return Map.of("PGPASSWORD", TestPostgres.APP_PASSWORD, "PGCONNECT_TIMEOUT", "10");
    }
}

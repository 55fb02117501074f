package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import dev.sluice.it.support.WireClient;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Protocol-level named statements in transaction mode, where Sluice renames them per server
 * connection: a client must see what PostgreSQL itself would answer when its Parse fails, and
 * when an error earlier in an exchange makes PostgreSQL skip its Parse or Close. Two server connections on one event loop, so a client can be moved to a connection
 * that lacks its statement.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NamedStatementsIT {

    private static ProxyServer sluice;

    @BeforeAll
    static void start() throws Exception {
        sluice = ProxyServer.start(TestConfig.builder().poolSize(2).ioThreads(1).build());
    }

    @AfterAll
    static void stop() {
        if (sluice != null) {
            sluice.close();
        }
    }

    @Test
    void aNameWhoseParseFailedInAPipeline_canBeParsedAgainInTheNextExchange() throws Exception {
        try (WireClient a = client()) {
            a.send(cat(parse("again", "SELEC 1"), sync(), parse("again", "SELECT 11"), bind("again"), execute(), sync()));
            List<WireClient.Message> r = a.readUntilReady();
            assertThat(WireClient.types(r)).containsExactly('E', 'Z');
            assertThat(r.get(0).sqlState()).isEqualTo("42601");
            r = a.readUntilReady();
            assertThat(WireClient.types(r)).containsExactly('1', '2', 'D', 'C', 'Z');
            assertThat(WireClient.firstValue(r)).isEqualTo("11");
        }
    }

    @Test
    void aClientParseSkippedInAPipeline_isNotRunByALaterExchange() throws Exception {
        try (WireClient a = client()) {
            a.simpleQuery("CREATE TABLE IF NOT EXISTS named_statements_runs (x int)");
            a.simpleQuery("TRUNCATE named_statements_runs");
            a.send(cat(parse("", "SELECT 1/0"), bind(""), execute(),
                    parse("ins", "INSERT INTO named_statements_runs VALUES (7)"), sync(),
                    bind("ins"), execute(), sync()));
            assertThat(WireClient.types(a.readUntilReady())).containsExactly('1', 'E', 'Z');
            List<WireClient.Message> r = a.readUntilReady();
            assertThat(WireClient.types(r)).containsExactly('E', 'Z');
            assertThat(r.get(0).sqlState()).isEqualTo("26000");
            assertThat(WireClient.firstValue(a.simpleQuery("SELECT count(*) FROM named_statements_runs"))).isEqualTo("0");
            a.simpleQuery("DROP TABLE named_statements_runs");
        }
    }

    @Test
    void aNameWhoseParseFailedOrWasSkipped_isNotDefined() throws Exception {
        try (WireClient a = client()) {
            a.send(cat(parse("broken", "SELECT * FROM named_statements_missing"), sync()));
            List<WireClient.Message> r = a.readUntilReady();
            assertThat(r.get(0).sqlState()).isEqualTo("42P01");
            assertThat(a.simpleQuery("CREATE TABLE named_statements_missing (x int)")).isNotEmpty();
            try {
                // the table exists now, but the statement never did
                r = run(a, "broken");
                assertThat(WireClient.types(r)).containsExactly('E', 'Z');
                assertThat(r.get(0).sqlState()).isEqualTo("26000");
            } finally {
                a.simpleQuery("DROP TABLE named_statements_missing");
            }
            // skipped: an error earlier in the exchange
            a.send(cat(parse("", "SELECT 1/0"), bind(""), execute(), parse("skipped", "SELECT 'should not exist'"), sync()));
            r = a.readUntilReady();
            assertThat(WireClient.types(r)).as("1/0 fails when it is planned, at Bind").containsExactly('1', 'E', 'Z');
            r = run(a, "skipped");
            assertThat(WireClient.types(r)).containsExactly('E', 'Z');
            assertThat(r.get(0).sqlState()).isEqualTo("26000");
        }
    }

    @Test
    void aCloseAndParseSkippedAfterAnError_leaveTheNameAsItWas() throws Exception {
        try (WireClient a = client()) {
            a.send(cat(parse("kept", "SELECT 'old'"), sync()));
            assertThat(WireClient.types(a.readUntilReady())).containsExactly('1', 'Z');
            a.send(cat(parse("", "SELECT 1/0"), bind(""), execute(),
                    close("kept"), parse("kept", "SELECT 'new'"), sync()));
            assertThat(WireClient.types(a.readUntilReady())).containsExactly('1', 'E', 'Z');
            assertThat(WireClient.firstValue(run(a, "kept"))).isEqualTo("old");
        }
    }

    @Test
    void aStatementPreparedAgainInAPipeline_survivesAnErrorBeforeItInItsFirstExchange() throws Exception {
        try (WireClient a = client(); WireClient b = client(); WireClient c = client()) {
            String text = "SELECT 'hello' -- " + System.nanoTime();
            a.send(cat(parse("s", text), parse("", "SELECT pg_backend_pid()"), bind(""), execute(), sync()));
            String pidA = WireClient.firstValue(a.readUntilReady());
            // B and C hold both server connections; the one that is not A's is freed, so A's next
            // exchange runs where its statement is missing and Sluice prepares it again there
            String pidB = WireClient.firstValue(b.simpleQuery("BEGIN; SELECT pg_backend_pid()"));
            String pidC = WireClient.firstValue(c.simpleQuery("BEGIN; SELECT pg_backend_pid()"));
            assertThat(List.of(pidB, pidC)).as("both connections held").contains(pidA).doesNotHaveDuplicates();
            WireClient other = pidB.equals(pidA) ? c : b;
            WireClient holder = other == b ? c : b;
            assertThat(WireClient.types(other.simpleQuery("COMMIT"))).containsExactly('C', 'Z');
            a.send(cat(parse("", "SELECT 1/0"), bind(""), execute(), bind("s"), execute(), sync(),
                    bind("s"), execute(), parse("", "SELECT pg_backend_pid()"), bind(""), execute(), sync()));
            List<WireClient.Message> all = new ArrayList<>(a.readUntilReady());
            all.addAll(a.readUntilReady());
            // as PostgreSQL answers: the first exchange stops at the error, the second runs
            assertThat(WireClient.types(all)).containsExactly('1', 'E', 'Z', '2', 'D', 'C', '1', '2', 'D', 'C', 'Z');
            assertThat(all.get(1).sqlState()).isEqualTo("22012");
            assertThat(WireClient.firstValue(all.subList(3, 6))).isEqualTo("hello");
            assertThat(WireClient.firstValue(all.subList(6, 11))).as("ran on the other connection").isNotEqualTo(pidA);
            assertThat(WireClient.types(holder.simpleQuery("COMMIT"))).containsExactly('C', 'Z');
        }
    }

    @Test
    void statementsWhoseCloseOrParseWasSkipped_doNotPileUpOnTheServer() throws Exception {
        // statement cache of 2 on one connection: each round evicts (Close) and prepares again
        // (Close + Parse) in exchanges that an error makes PostgreSQL skip
        ProxyServer small = ProxyServer.start(TestConfig.builder().poolSize(1).ioThreads(1).preparedStatementCacheSize(2).build());
        try (WireClient a = WireClient.connect("127.0.0.1", small.port(), Duration.ofSeconds(20))) {
            a.login(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, TestPostgres.DATABASE);
            for (int i = 0; i < 6; i++) {
                a.send(cat(parse("s" + i, "SELECT " + (1000 + i)), sync(), parse("a" + i, "SELECT " + (2000 + i)), sync(),
                        parse("b" + i, "SELECT " + (3000 + i)), sync()));
                for (int n = 0; n < 3; n++) {
                    a.readUntilReady();
                }
                a.send(cat(parse("", "SELECT 1/0"), bind(""), execute(), bind("s" + i), execute(), sync(),
                        bind("s" + i), execute(), sync()));
                assertThat(WireClient.types(a.readUntilReady())).containsExactly('1', 'E', 'Z');
                List<WireClient.Message> r = a.readUntilReady();
                assertThat(WireClient.firstValue(r)).isEqualTo(String.valueOf(1000 + i));
                int onServer = Integer.parseInt(WireClient.firstValue(a.simpleQuery("SELECT count(*) FROM pg_prepared_statements")));
                assertThat(onServer).as("statements on the backend after round " + i).isLessThanOrEqualTo(3);
            }
        } finally {
            small.close();
        }
    }

    @Test
    void aStatementPreparedAgainByALaterExchange_isNotClosedForTheCloseAnErrorSkipped() throws Exception {
        ProxyServer one = ProxyServer.start(TestConfig.builder().poolSize(1).ioThreads(1).build());
        try (WireClient a = WireClient.connect("127.0.0.1", one.port(), Duration.ofSeconds(20))) {
            a.login(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, TestPostgres.DATABASE);
            a.send(cat(parse("s", "SELECT 'kept'"), sync()));
            a.readUntilReady();
            a.simpleQuery("DEALLOCATE ALL"); // Sluice forgets what it prepared: the next Bind of s prepares it
            // the second exchange prepares s again (Close + Parse), skipped after its error; the
            // third prepares it again and that one stays
            a.send(cat(bind("s"), execute(), sync(),
                    parse("", "SELECT 1/0"), bind(""), execute(), bind("s"), execute(), sync(),
                    bind("s"), execute(), sync()));
            assertThat(WireClient.firstValue(a.readUntilReady())).isEqualTo("kept");
            assertThat(WireClient.types(a.readUntilReady())).containsExactly('1', 'E', 'Z');
            assertThat(WireClient.firstValue(a.readUntilReady())).isEqualTo("kept");
            a.send(cat(parse("t", "SELECT 'new'"), bind("t"), execute(), sync()));
            assertThat(WireClient.firstValue(a.readUntilReady())).isEqualTo("new");
            List<WireClient.Message> r = run(a, "s");
            assertThat(WireClient.types(r)).as("s still prepared on the backend").containsExactly('2', 'D', 'C', 'Z');
            assertThat(WireClient.firstValue(r)).isEqualTo("kept");
        } finally {
            one.close();
        }
    }

    private static List<WireClient.Message> run(WireClient a, String statement) throws Exception {
        a.send(cat(bind(statement), execute(), sync()));
        return a.readUntilReady();
    }

    private static WireClient client() throws Exception {
        WireClient a = WireClient.connect("127.0.0.1", sluice.port(), Duration.ofSeconds(20));
        a.login(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, TestPostgres.DATABASE);
        return a;
    }



    private static byte[] parse(String name, String sql) {
        return WireClient.frame('P', cat(WireClient.cstring(name), WireClient.cstring(sql), new byte[] {0, 0}));
    }

    private static byte[] bind(String statement) {
        return WireClient.frame('B', cat(WireClient.cstring(""), WireClient.cstring(statement), new byte[] {0, 0, 0, 0, 0, 0}));
    }

    private static byte[] execute() {
        return WireClient.frame('E', cat(WireClient.cstring(""), new byte[] {0, 0, 0, 0}));
    }

    private static byte[] close(String statement) {
        return WireClient.frame('C', cat(new byte[] {'S'}, WireClient.cstring(statement)));
    }

    private static byte[] sync() {
        return WireClient.frame('S', new byte[0]);
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}

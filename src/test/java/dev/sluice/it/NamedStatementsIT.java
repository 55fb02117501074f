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
 * connection: a client must see what PostgreSQL itself would answer when it parses a name twice,
 * when its Parse fails, and when an error earlier in an exchange makes PostgreSQL skip its Parse
 * or Close. Two server connections on one event loop, so a client can be moved to a connection
 * that lacks its statement. Where a test says "as PostgreSQL answers", it sends the same bytes to
 * PostgreSQL directly and compares every message type, SQLSTATE and error text.
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
    void parsingANameTwice_isRefusedWith42P05_andTheFirstStatementStays() throws Exception {
        byte[] first = cat(parse("dup", "SELECT 'first'"), sync());
        byte[] again = cat(parse("dup", "SELECT 'second'"), bind("dup"), execute(), sync());
        byte[] use = cat(bind("dup"), execute(), sync());
        List<String> viaSluice = answers(sluice.port(), first, again, use);
        assertThat(viaSluice).isEqualTo(answers(TestPostgres.port(), first, again, use));
        assertThat(viaSluice).containsSubsequence(
                "E 42P05 prepared statement \"dup\" already exists", "Z I", "2", "D first", "C SELECT 1");
    }

    @Test
    void aDuplicateParse_abortsTheTransactionBlockAndSkipsTheRestOfItsExchange() throws Exception {
        byte[] begin = WireClient.query("BEGIN");
        byte[] first = cat(parse("twice", "SELECT 1"), sync());
        byte[] again = cat(parse("", "SELECT 2"), bind(""), execute(), parse("twice", "SELECT 3"),
                parse("never", "SELECT 4"), sync());
        byte[] after = cat(bind("never"), execute(), sync());
        byte[] end = WireClient.query("ROLLBACK");
        List<String> viaSluice = answers(sluice.port(), begin, first, again, after, end);
        assertThat(viaSluice).isEqualTo(answers(TestPostgres.port(), begin, first, again, after, end));
        assertThat(viaSluice).containsSubsequence("D 2", "E 42P05 prepared statement \"twice\" already exists", "Z E");
        assertThat(errors(viaSluice)).containsExactly("42P05", "26000");
    }

    @Test
    void aDuplicateParse_reportsWhatIsWrongWithItsTextFirst_asPostgresDoes() throws Exception {
        byte[] first = cat(parse("checked", "SELECT 1"), sync());
        byte[] syntax = cat(parse("checked", "SELEC 2"), sync());
        byte[] missing = cat(parse("checked", "SELECT * FROM named_statements_nowhere"), sync());
        byte[] failedBlock = cat(WireClient.query("BEGIN"), WireClient.query("SELECT 1/0"),
                parse("checked", "SELECT 3"), sync(), WireClient.query("ROLLBACK"));
        List<String> viaSluice = answers(sluice.port(), first, syntax, missing, failedBlock);
        assertThat(viaSluice).isEqualTo(answers(TestPostgres.port(), first, syntax, missing, failedBlock));
        assertThat(errors(viaSluice)).containsExactly("42601", "42P01", "22012", "25P02");
    }

    @Test
    void aNameWhoseMeaningAPipelinedErrorUndid_isParsedAgainWithoutComplaint() throws Exception {
        // the first exchange fails before its Parse of "chain"; the second parses "chain" again
        // (Sluice cannot know yet that the first one will be skipped) and fails too: afterwards
        // the name must be free, as it is in PostgreSQL
        byte[] pipeline = cat(bind("chain_missing"), execute(), parse("chain", "SELECT 1"), sync(),
                parse("chain", "SELECT * FROM named_statements_nowhere"), sync());
        byte[] again = cat(parse("chain", "SELECT 'free'"), bind("chain"), execute(), sync());
        List<String> viaSluice = answers(sluice.port(), pipeline, again);
        assertThat(viaSluice).isEqualTo(answers(TestPostgres.port(), pipeline, again));
        assertThat(viaSluice).endsWith("1", "2", "D free", "C SELECT 1", "Z I");
    }

    @Test
    void namesDroppedByDeallocateAllOrDiscardAll_canBeParsedAgain() throws Exception {
        for (String drop : List.of("DEALLOCATE ALL", "DISCARD ALL")) {
            byte[] first = cat(parse("again", "SELECT 'first'"), sync());
            byte[] dropAll = WireClient.query(drop);
            byte[] second = cat(parse("again", "SELECT 'second'"), bind("again"), execute(), sync());
            List<String> viaSluice = answers(sluice.port(), first, dropAll, second);
            assertThat(viaSluice).as(drop).isEqualTo(answers(TestPostgres.port(), first, dropAll, second));
            assertThat(viaSluice).as(drop).contains("D second").noneMatch(a -> a.startsWith("E "));
        }
    }

    @Test
    void aDuplicateWhoseTextNoLongerAnalyses_reportsThatError_asPostgresDoes() throws Exception {
        try (WireClient admin = client()) {
            admin.simpleQuery("CREATE TABLE named_statements_dropped (x int)");
            byte[] first = cat(parse("stale", "SELECT x FROM named_statements_dropped"), sync());
            byte[] drop = WireClient.query("DROP TABLE named_statements_dropped");
            byte[] again = cat(parse("stale", "SELECT x FROM named_statements_dropped"), sync());
            byte[] create = WireClient.query("CREATE TABLE named_statements_dropped (x int)");
            // the text was prepared on the server connection before the table went: only a fresh
            // analysis says what PostgreSQL says
            List<String> viaSluice = answers(sluice.port(), first, drop, again, create);
            List<String> direct = answers(TestPostgres.port(), first, drop, again, create);
            assertThat(errors(viaSluice)).containsExactly("42P01").isEqualTo(errors(direct));
        } finally {
            try (WireClient admin = client()) {
                admin.simpleQuery("DROP TABLE IF EXISTS named_statements_dropped");
            }
        }
    }

    @Test
    void bindErrors_nameTheStatementAsTheClientDoes() throws Exception {
        byte[] prepare = cat(parse("needs_one", "SELECT $1::int"), sync());
        byte[] noParameters = cat(bind("needs_one"), execute(), sync());
        List<String> viaSluice = answers(sluice.port(), prepare, noParameters);
        assertThat(viaSluice).isEqualTo(answers(TestPostgres.port(), prepare, noParameters));
        assertThat(viaSluice).anyMatch(a -> a.startsWith("E 08P01") && a.contains("\"needs_one\""));
    }

    @Test
    void aServerStatementDroppedBehindSluicesBack_isPreparedAgainForTheNextClient() throws Exception {
        String text = "SELECT 'dropped behind its back'";
        try (WireClient holder = client(); WireClient dropper = client(); WireClient next = client()) {
            holder.simpleQuery("BEGIN"); // keeps one of the two server connections
            dropper.simpleQuery("BEGIN");
            dropper.send(cat(parse("d", text), bind("d"), execute(), sync()));
            assertThat(WireClient.firstValue(dropper.readUntilReady())).isEqualTo("dropped behind its back");
            // a DEALLOCATE Sluice cannot see: the connection's statement cache is now wrong
            dropper.simpleQuery("DO $$BEGIN EXECUTE 'DEALLOCATE ALL'; END$$");
            dropper.simpleQuery("COMMIT");
            // the other connection is held: the next client gets the one whose statements went
            next.send(cat(parse("n", text), bind("n"), execute(), sync()));
            List<WireClient.Message> first = next.readUntilReady();
            if (WireClient.types(first).contains('E')) {
                WireClient.Message e = first.get(WireClient.types(first).indexOf('E'));
                assertThat(e.field('M')).isEqualTo("prepared statement \"n\" does not exist");
            }
            next.send(cat(parse("n2", text), bind("n2"), execute(), sync()));
            assertThat(WireClient.firstValue(next.readUntilReady())).as("prepared again").isEqualTo("dropped behind its back");
            holder.simpleQuery("ROLLBACK");
        }
    }

    @Test
    void aDropStatementOnceAnswered_leavesDuplicateParsesRefused() throws Exception {
        // a text that may be a DEALLOCATE (a comment hides its first word) puts names in doubt
        // only until it is answered
        byte[] maybe = cat(parse("", "/* hidden */ SELECT 1"), bind(""), execute(), sync());
        byte[] first = cat(parse("d1", "SELECT 1"), sync());
        byte[] dup = cat(parse("d2", "SELECT 2"), parse("d1", "SELECT 3"), bind("d1"), execute(), sync());
        byte[] use = cat(bind("d1"), execute(), sync());
        List<String> viaSluice = answers(sluice.port(), maybe, first, dup, use);
        assertThat(viaSluice).isEqualTo(answers(TestPostgres.port(), maybe, first, dup, use));
        assertThat(errors(viaSluice)).containsExactly("42P05");
    }

    @Test
    void statementsParsedAfterADeallocateAllInTheSameExchange_run_asInPostgres() throws Exception {
        for (String drop : List.of("DEALLOCATE ALL", ";DEALLOCATE ALL", "DISCARD ALL")) {
            byte[] first = cat(parse("kept_after", "SELECT 1"), sync());
            byte[] dropThenUse = cat(parse("", drop), bind(""), execute(), parse("kept_after", "SELECT 2"),
                    bind("kept_after"), execute(), parse("other", "SELECT 1"), bind("other"), execute(), sync());
            byte[] again = cat(bind("kept_after"), execute(), bind("other"), execute(), sync());
            List<String> viaSluice = answers(sluice.port(), first, dropThenUse, again);
            assertThat(viaSluice).as(drop).isEqualTo(answers(TestPostgres.port(), first, dropThenUse, again));
            assertThat(errors(viaSluice)).as(drop).isEmpty();
        }
    }

    @Test
    void errorsNameTheStatementTheBindWasFor_andLeaveParameterValuesAlone() throws Exception {
        // the same exchange closes and parses the name again after the failing Bind
        byte[] prepare = cat(parse("p1", "SELECT $1::int"), sync());
        byte[] failThenReuse = cat(bind("p1"), execute(), close("p1"), parse("p1", "SELECT $1::text, $2::text"), sync());
        List<String> viaSluice = answers(sluice.port(), prepare, failThenReuse);
        assertThat(viaSluice).isEqualTo(answers(TestPostgres.port(), prepare, failThenReuse));
        // a parameter value that looks like a server statement name (the first one Sluice
        // prepares on a fresh connection is sluice_1)
        ProxyServer one = ProxyServer.start(TestConfig.builder().poolSize(1).ioThreads(1).build());
        try {
            byte[] intParse = cat(parse("v", "SELECT $1::int"), sync());
            byte[] badValue = cat(bindText("v", "sluice_1"), execute(), sync());
            List<String> fresh = answers(one.port(), intParse, badValue);
            assertThat(fresh).isEqualTo(answers(TestPostgres.port(), intParse, badValue));
            assertThat(fresh).anyMatch(a -> a.startsWith("E 22P02") && a.endsWith("\"sluice_1\""));
        } finally {
            one.close();
        }
    }

    @Test
    void aStatementWhoseParseASkippedExchangeHeld_isReportedMissingByTheClientsName() throws Exception {
        try (WireClient a = client()) {
            // Sluice takes the pipelined Parse at its word when it forwards the Describe and Bind;
            // PostgreSQL skipped it, and its error names the statement as the client does
            a.send(cat(parse("", "SELECT 1/0"), bind(""), execute(), parse("ghost", "SELECT 'ghost'"), sync(),
                    describe("ghost"), sync(), bind("ghost"), execute(), sync()));
            assertThat(WireClient.types(a.readUntilReady())).containsExactly('1', 'E', 'Z');
            for (int i = 0; i < 2; i++) {
                List<WireClient.Message> r = a.readUntilReady();
                assertThat(WireClient.types(r)).containsExactly('E', 'Z');
                assertThat(r.get(0).sqlState()).isEqualTo("26000");
                assertThat(r.get(0).field('M')).isEqualTo("prepared statement \"ghost\" does not exist");
            }
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
        ProxyServer one = ProxyServer.start(TestConfig.builder().poolSize(1).ioThreads(1).preparedStatementCacheSize(2).build());
        try (WireClient a = WireClient.connect("127.0.0.1", one.port(), Duration.ofSeconds(20))) {
            a.login(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, TestPostgres.DATABASE);
            a.send(cat(parse("s", "SELECT 'kept'"), sync()));
            a.readUntilReady();
            // two more statements evict s from the connection's cache of 2 (the client keeps the
            // name): the next Bind of s prepares it
            a.send(cat(parse("o1", "SELECT 'other 1'"), sync(), parse("o2", "SELECT 'other 2'"), sync()));
            a.readUntilReady();
            a.readUntilReady();
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

    /**
     * Sends each of {@code exchanges} in turn to {@code port} (each ending in as many ReadyForQuery
     * as it has Syncs and Queries) and returns every answer as "type[ SQLSTATE message]" for an
     * error, "type status" for ReadyForQuery, "D value" for a row, "C tag", or the type alone.
     */
    private static List<String> answers(int port, byte[]... exchanges) throws Exception {
        List<String> out = new ArrayList<>();
        try (WireClient c = WireClient.connect("127.0.0.1", port, Duration.ofSeconds(20))) {
            c.login(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, TestPostgres.DATABASE);
            for (byte[] e : exchanges) {
                c.send(e);
                for (int n = readiesOwed(e); n > 0; n--) {
                    for (WireClient.Message m : c.readUntilReady()) {
                        out.add(switch (m.type()) {
                            case 'E' -> "E " + m.sqlState() + " " + m.field('M');
                            case 'Z' -> "Z " + (char) m.body()[0];
                            case 'D' -> "D " + WireClient.firstValue(List.of(m));
                            case 'C' -> "C " + new String(m.body(), 0, m.body().length - 1, java.nio.charset.StandardCharsets.UTF_8);
                            default -> String.valueOf(m.type());
                        });
                    }
                }
            }
        }
        return out;
    }

    /** The SQLSTATEs of the errors among {@code answers}, in order. */
    private static List<String> errors(List<String> answers) {
        return answers.stream().filter(a -> a.startsWith("E ")).map(a -> a.substring(2, 7)).toList();
    }

    /** How many ReadyForQuery the frames in {@code bytes} are answered with (one per Sync or Query). */
    private static int readiesOwed(byte[] bytes) {
        int n = 0;
        for (int i = 0; i < bytes.length; ) {
            if (bytes[i] == 'S' || bytes[i] == 'Q') {
                n++;
            }
            i += 1 + java.nio.ByteBuffer.wrap(bytes, i + 1, 4).getInt();
        }
        return n;
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

    private static byte[] bindText(String statement, String value) {
        byte[] v = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer params = java.nio.ByteBuffer.allocate(2 + 2 + 4 + v.length + 2);
        params.putShort((short) 0).putShort((short) 1).putInt(v.length).put(v).putShort((short) 0);
        return WireClient.frame('B', cat(WireClient.cstring(""), WireClient.cstring(statement), params.array()));
    }

    private static byte[] execute() {
        return WireClient.frame('E', cat(WireClient.cstring(""), new byte[] {0, 0, 0, 0}));
    }

    private static byte[] describe(String statement) {
        return WireClient.frame('D', cat(new byte[] {'S'}, WireClient.cstring(statement)));
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

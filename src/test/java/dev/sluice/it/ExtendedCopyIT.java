package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Await;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import dev.sluice.it.support.WireClient;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * COPY FROM STDIN through the extended protocol, as libpq sends it: Parse/Bind/Execute/Sync in one
 * write, the data, then CopyDone (or CopyFail) and another Sync. PostgreSQL ignores a Sync that
 * arrives during copy-in, so the two Syncs get one ReadyForQuery between them; the server
 * connection must still go back to the pool once the copy is answered. One server connection, so
 * a connection that is never given back leaves the second client without an answer.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ExtendedCopyIT {

    private static ProxyServer sluice;

    @BeforeAll
    static void start() throws Exception {
        sluice = ProxyServer.start(TestConfig.builder().poolSize(1).build());
        try (Connection c = ProxyClients.connect(sluice); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS extended_copy");
            s.execute("CREATE TABLE extended_copy (a int)");
            s.execute("DROP TABLE IF EXISTS extended_copy_refused");
            s.execute("CREATE TABLE extended_copy_refused (a int)");
            s.execute("CREATE OR REPLACE FUNCTION extended_copy_refuse() RETURNS trigger LANGUAGE plpgsql AS"
                    + " $$ BEGIN RAISE EXCEPTION 'no copies here'; END $$");
            s.execute("CREATE TRIGGER extended_copy_refuse BEFORE INSERT ON extended_copy_refused"
                    + " FOR EACH STATEMENT EXECUTE FUNCTION extended_copy_refuse()");
        }
    }

    @AfterAll
    static void stop() {
        if (sluice != null) {
            sluice.close();
        }
    }

    @Test
    void syncBeforeTheData_isIgnoredLikePostgresDoes_andTheConnectionGoesBack() throws Exception {
        try (WireClient a = client()) {
            a.send(cat(parse("COPY extended_copy FROM STDIN"), bind(), execute(), sync()));
            assertThat(typesUntil(a, 'G')).containsExactly('1', '2', 'G');
            a.send(cat(copyData("1\n2\n"), frame('c', new byte[0]), sync()));
            List<WireClient.Message> end = a.readUntilReady();
            assertThat(end).extracting(WireClient.Message::type).containsExactly('C', 'Z');
            assertThat(text(end.get(0))).isEqualTo("COPY 2");
            assertConnectionGivenBack();
            assertIdle(a);
        }
    }

    @Test
    void copyFailAfterASyncBeforeTheData_answersOneErrorAndGivesTheConnectionBack() throws Exception {
        try (WireClient a = client()) {
            a.send(cat(parse("COPY extended_copy FROM STDIN"), bind(), execute(), sync()));
            assertThat(typesUntil(a, 'G')).containsExactly('1', '2', 'G');
            a.send(cat(copyData("3\n"), frame('f', WireClient.cstring("client gave up")), sync()));
            List<WireClient.Message> end = a.readUntilReady();
            assertThat(end).extracting(WireClient.Message::type).containsExactly('E', 'Z');
            assertThat(end.get(0).sqlState()).isEqualTo("57014");
            assertConnectionGivenBack();
            assertIdle(a);
        }
    }

    @Test
    void wholeCopyPipelinedInOneWrite_getsExactlyPostgresAnswers() throws Exception {
        try (WireClient a = client()) {
            a.send(cat(parse("COPY extended_copy FROM STDIN"), bind(), execute(), sync(),
                    copyData("4\n"), frame('c', new byte[0]), sync(),
                    parse("SELECT count(*) FROM extended_copy WHERE a = 4"), bind(), execute(), sync()));
            List<Character> seen = new ArrayList<>();
            int ready = 0;
            while (ready < 2) {
                WireClient.Message m = a.read();
                seen.add(m.type());
                if (m.type() == 'Z') {
                    ready++;
                }
            }
            // the first Sync is ignored in copy-in: one ReadyForQuery for the COPY, one for the SELECT
            assertThat(seen).containsExactly('1', '2', 'G', 'C', 'Z', '1', '2', 'D', 'C', 'Z');
            assertConnectionGivenBack();
            assertIdle(a);
        }
    }

    @Test
    void copyFailingBeforePostgresReadTheEarlySync_getsBothReadyForQuery_andNoneLeaksToTheNextClient() throws Exception {
        // the statement trigger raises after CopyInResponse and before PostgreSQL reads anything
        // more: the Sync sent before the data is then answered, not ignored
        for (int i = 0; i < 5; i++) {
            try (WireClient a = client()) {
                a.send(cat(parse("COPY extended_copy_refused FROM STDIN"), bind(), execute(), sync(),
                        copyData("1\n"), frame('c', new byte[0]), sync()));
                List<WireClient.Message> first = a.readUntilReady();
                assertThat(WireClient.types(first)).containsExactly('1', '2', 'G', 'E', 'Z');
                assertThat(first.get(3).field('M')).isEqualTo("no copies here");
                assertThat(WireClient.types(a.readUntilReady())).containsExactly('Z');
                assertConnectionGivenBack();
                assertIdle(a);
            }
        }
    }

    private static void assertConnectionGivenBack() throws Exception {
        Await.until(Duration.ofSeconds(10), "the server connection is back in the pool",
                () -> sluice.poolList().get(0).snapshot().inUse() == 0);
        try (Connection b = ProxyClients.connect(sluice); Statement s = b.createStatement();
             ResultSet rs = s.executeQuery("SELECT 'b'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("b");
        }
    }

    /** The client is outside any request: a query gets exactly its own answer. */
    private static void assertIdle(WireClient a) throws Exception {
        List<WireClient.Message> r = a.simpleQuery("SELECT 7");
        assertThat(r).extracting(WireClient.Message::type).containsExactly('T', 'D', 'C', 'Z');
        assertThat(WireClient.firstValue(r)).isEqualTo("7");
    }

    private static WireClient client() throws Exception {
        WireClient a = WireClient.connect("127.0.0.1", sluice.port(), Duration.ofSeconds(20));
        a.login(TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, TestPostgres.DATABASE);
        return a;
    }

    private static List<Character> typesUntil(WireClient a, char last) throws Exception {
        List<Character> seen = new ArrayList<>();
        WireClient.Message m;
        do {
            m = a.read();
            seen.add(m.type());
        } while (m.type() != last && m.type() != 'E');
        return seen;
    }

    private static String text(WireClient.Message m) {
        byte[] b = m.body();
        int end = b.length > 0 && b[b.length - 1] == 0 ? b.length - 1 : b.length;
        return new String(b, 0, end, StandardCharsets.UTF_8);
    }

    private static byte[] parse(String sql) {
        return frame('P', cat(WireClient.cstring(""), WireClient.cstring(sql), new byte[] {0, 0}));
    }

    private static byte[] bind() {
        return frame('B', cat(WireClient.cstring(""), WireClient.cstring(""), new byte[] {0, 0, 0, 0, 0, 0}));
    }

    private static byte[] execute() {
        return frame('E', cat(WireClient.cstring(""), new byte[] {0, 0, 0, 0}));
    }

    private static byte[] sync() {
        return frame('S', new byte[0]);
    }

    private static byte[] copyData(String rows) {
        return frame('d', rows.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] frame(char type, byte[] body) {
        return WireClient.frame(type, body);
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}

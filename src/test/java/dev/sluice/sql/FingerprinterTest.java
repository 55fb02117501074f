package dev.sluice.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FingerprinterTest {

    private static String norm(String sql) {
        return Fingerprinter.normalize(sql);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
        select 1                                            | SELECT ?
        SELECT  a ,b FROM   t WHERE x=1;                     | SELECT a, b FROM t WHERE x = ?
        select * from Users where Name = 'bob'              | SELECT * FROM Users WHERE Name = ?
        SeLeCt count(*) FrOm t                              | SELECT count(*) FROM t
        SELECT t.* , s.a FROM s.t                           | SELECT t.*, s.a FROM s.t
        SELECT * FROM t WHERE id IN (1, 2, 3)               | SELECT * FROM t WHERE id IN (...)
        SELECT * FROM t WHERE id in (7)                     | SELECT * FROM t WHERE id IN (...)
        SELECT * FROM t WHERE id NOT IN ($1,$2)             | SELECT * FROM t WHERE id NOT IN (...)
        SELECT * FROM t WHERE id IN ('a'::text, NULL, -4)   | SELECT * FROM t WHERE id IN (...)
        SELECT * FROM t WHERE id IN (SELECT id FROM u)      | SELECT * FROM t WHERE id IN (SELECT id FROM u)
        SELECT * FROM t WHERE id IN (a, 1)                  | SELECT * FROM t WHERE id IN (a, ?)
        SELECT * FROM t WHERE id = ANY(ARRAY[1,2,3])        | SELECT * FROM t WHERE id = ANY (ARRAY[...])
        SELECT '2024-01-01'::date, 1::int, $1::text[]       | SELECT ?::date, ?::int, ?::text[]
        SELECT x::numeric(10,2)                             | SELECT x::numeric(?, ?)
        SELECT 1e-3, .5, 0x1F, 1_000, 3.14, 2E+10, 0o17, 0b101 | SELECT ?, ?, ?, ?, ?, ?, ?, ?
        SELECT -1, a - 1, a-1, a = -2.5, (-3), b*-1, - x    | SELECT ?, a - ?, a - ?, a = ?, (?), b * ?, - x
        SELECT E'it\\'s', U&'d\\0061t', B'101', X'1F', N'x' | SELECT ?, ?, ?, ?, ?
        SELECT 'it''s' AS s                                 | SELECT ? AS s
        SELECT $$a 'b' c$$, $fn$ x $$ y $fn$               | SELECT ?, ?
        SELECT a FROM t WHERE b = $1 AND c = $12            | SELECT a FROM t WHERE b = ? AND c = ?
        SELECT "My Col", "select" FROM "Weird Table"        | SELECT "My Col", "select" FROM "Weird Table"
        SELECT U&"d\\0061t" FROM t                          | SELECT U&"d\\0061t" FROM t
        SELECT a -- trailing comment                        | SELECT a
        SELECT /* one /* nested */ still */ a               | SELECT a
        /* sluice: priority=high */ SELECT 1                | SELECT ?
        SELECT 1;                                           | SELECT ?
        SELECT 1;;  ;                                       | SELECT ?
        SELECT 1; select 2                                  | SELECT ?; SELECT ?
        INSERT INTO t (a, b) VALUES (1, 'x')                | INSERT INTO t(a, b) VALUES (...)
        INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), ($1, DEFAULT) | INSERT INTO t(a, b) VALUES (...)
        INSERT INTO t VALUES (1, now())                     | INSERT INTO t VALUES (?, now())
        INSERT INTO t VALUES (1), (2) RETURNING id          | INSERT INTO t VALUES (...) RETURNING id
        INSERT INTO t DEFAULT VALUES                        | INSERT INTO t DEFAULT VALUES
        SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(id, n) | SELECT * FROM (VALUES (...)) AS v(id, n)
        UPDATE t SET a = a + 1 WHERE id = 5                 | UPDATE t SET a = a + ? WHERE id = ?
        WITH x AS (SELECT 1) SELECT * FROM x                | WITH x AS (SELECT ?) SELECT * FROM x
        SELECT a[1], a[1:2], (b).f FROM t                   | SELECT a[?], a[?:?], (b).f FROM t
        SELECT data->>'k', data @> '{}' , j ? 'a' FROM t    | SELECT data ->> ?, data @> ?, j ? ? FROM t
        SELECT a<>1, b!=2, c>=3, d<=-4                      | SELECT a <> ?, b != ?, c >= ?, d <= ?
        SELECT DATE '2024-01-01', INTERVAL '1 day'          | SELECT DATE ?, INTERVAL ?
        SELECT 'a'\\n'b'                                     | SELECT ?
        SELECT café, "naïve" FROM données                   | SELECT café, "naïve" FROM données
        SELECT * FROM t WHERE x IS NOT NULL AND y = TRUE    | SELECT * FROM t WHERE x IS NOT NULL AND y = TRUE
        SELECT * FROM t LIMIT 10 OFFSET 20                  | SELECT * FROM t LIMIT ? OFFSET ?
        SELECT * FROM t FOR UPDATE SKIP LOCKED              | SELECT * FROM t FOR UPDATE SKIP LOCKED
        ""                                                  | ""
        """)
    void normalize_examples(String sql, String expected) {
        String in = sql.replace("\\n", "\n").replace("\\\\", "\\");
        String want = expected.replace("\\\\", "\\");
        assertThat(norm(in)).isEqualTo(want);
    }

    @Test
    void normalize_operatorRuns() {
        assertThat(norm("SELECT a||'x', b->'k'->>'j', c=-1, d~*'^x', e@-1")).isEqualTo(
                "SELECT a || ?, b -> ? ->> ?, c = ?, d ~* ?, e @- ?");
    }

    @Test
    void normalize_whitespaceAndLineBreaksFold() {
        assertThat(norm("SELECT\n\ta\r\n  FROM\tt\n WHERE x =\n 1")).isEqualTo("SELECT a FROM t WHERE x = ?");
    }

    @Test
    void normalize_castAfterListKept() {
        assertThat(norm("SELECT * FROM t WHERE d IN ('2024-01-01'::timestamp with time zone, $2::date)"))
                .isEqualTo("SELECT * FROM t WHERE d IN (...)");
    }

    @Test
    void id_sameForLiteralsWhitespaceKeywordCaseAndParameters() {
        long a = Fingerprinter.id("SELECT * FROM users WHERE id = 1 AND name = 'x'");
        assertThat(Fingerprinter.id("select *\n  from users where id=42 and name=E'y'")).isEqualTo(a);
        assertThat(Fingerprinter.id("SELECT * FROM users WHERE id = $1 AND name = $2")).isEqualTo(a);
        assertThat(Fingerprinter.id("/* sluice: priority=low */ SELECT * FROM users WHERE id = -7 AND name = $$z$$;"))
                .isEqualTo(a);
        assertThat(Fingerprinter.id("SELECT * FROM t WHERE id IN (1)"))
                .isEqualTo(Fingerprinter.id("SELECT * FROM t WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8, 9)"));
        assertThat(Fingerprinter.id("INSERT INTO t VALUES (1, 'a')"))
                .isEqualTo(Fingerprinter.id("insert into t values ($1, $2), ($3, $4), (5, 'e')"));
    }

    @Test
    void id_differsForDifferentStatements() {
        long a = Fingerprinter.id("SELECT * FROM users WHERE id = 1");
        assertThat(Fingerprinter.id("SELECT * FROM users WHERE uid = 1")).isNotEqualTo(a);
        assertThat(Fingerprinter.id("SELECT * FROM Users WHERE id = 1")).isNotEqualTo(a);
        assertThat(Fingerprinter.id("SELECT * FROM \"users\" WHERE id = 1")).isNotEqualTo(a);
        assertThat(Fingerprinter.id("SELECT * FROM users WHERE id = 1 FOR UPDATE")).isNotEqualTo(a);
        assertThat(Fingerprinter.id("SELECT * FROM users WHERE id > 1")).isNotEqualTo(a);
        assertThat(Fingerprinter.id("SELECT * FROM users WHERE id = a")).isNotEqualTo(a);
    }

    @Test
    void id_isXxHash64OfNormalizedText() {
        for (String sql : new String[] {"", "SELECT 1", "SELECT * FROM t WHERE a IN (1,2) AND b = 'é' -- c",
                "INSERT INTO t VALUES (1), (2)", "SELECT 'x'::text, \"Q\" FROM données WHERE y = $1 ORDER BY 1"}) {
            byte[] text = norm(sql).getBytes(StandardCharsets.UTF_8);
            assertThat(Fingerprinter.id(sql)).as(sql).isEqualTo(XxHash64.hash(text, 0, text.length));
            assertThat(Fingerprinter.fingerprint(sql).id()).as(sql).isEqualTo(Fingerprinter.id(sql));
        }
    }

    @Test
    void xxHash64_knownVectors() {
        assertThat(XxHash64.hash(new byte[0], 0, 0)).isEqualTo(0xEF46DB3751D8E999L);
        byte[] a = "a".getBytes(StandardCharsets.US_ASCII);
        assertThat(XxHash64.hash(a, 0, a.length)).isEqualTo(0xD24EC4F1A98C6E5BL);
        byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
        assertThat(XxHash64.hash(abc, 0, abc.length)).isEqualTo(0x44BC2CF5AD770999L);
        byte[] longer = "Nobody inspects the spammish repetition".getBytes(StandardCharsets.US_ASCII);
        assertThat(XxHash64.hash(longer, 0, longer.length)).isEqualTo(0xFBCEA83C8A378BF1L);
    }

    @Test
    void byteBuf_sameResultsAsString_andBufferUntouched() {
        String sql = "/* sluice: route=replica */ select \"Nom\", café FROM t WHERE x IN (1,2) AND y = 'ü'";
        byte[] utf8 = sql.getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeBytes(new byte[] {'Q', 0, 0, 0, 0});
            int from = buf.writerIndex();
            buf.writeBytes(utf8);
            int to = buf.writerIndex();
            buf.writeByte(0);
            int reader = buf.readerIndex();
            assertThat(Fingerprinter.id(buf, from, to)).isEqualTo(Fingerprinter.id(sql));
            assertThat(Fingerprinter.normalize(buf, from, to)).isEqualTo(norm(sql))
                    .isEqualTo("SELECT \"Nom\", café FROM t WHERE x IN (...) AND y = ?");
            assertThat(Fingerprinter.fingerprint(buf, from, to)).isEqualTo(Fingerprinter.fingerprint(sql));
            assertThat(buf.readerIndex()).isEqualTo(reader);
            assertThat(buf.writerIndex()).isEqualTo(to + 1);
            assertThat(buf.refCnt()).isEqualTo(1);
        } finally {
            buf.release();
        }
    }

    @Test
    void longStatement_growsAndShrinksScratch() {
        StringBuilder sb = new StringBuilder("SELECT * FROM t WHERE id IN (");
        for (int i = 0; i < 50_000; i++) {
            sb.append(i).append(", ");
        }
        sb.append("0) AND name = 'x'");
        assertThat(norm(sb.toString())).isEqualTo("SELECT * FROM t WHERE id IN (...) AND name = ?");
        assertThat(Fingerprinter.id(sb)).isEqualTo(Fingerprinter.id("SELECT * FROM t WHERE id IN (1) AND name = ''"));
    }

    @Test
    void malformedInput_neverThrows() {
        String[] nasty = {"'", "E'\\", "$", "$$", "$a$ x", "/*", "/* /* */", "--", "\"", "U&", "u&'",
                "0x", "1e", ".", "::", "IN (", "VALUES (1,", "ARRAY[", "(((", ")))", "SELECT -", "$1$",
                "SELECT 'a", "x'", "\u0000", "\uD800", "é'"};
        for (String s : nasty) {
            Fingerprinter.fingerprint(s);
            Fingerprinter.normalize(s);
        }
        Random r = new Random(42);
        byte[] alphabet = "SELECT IN VALUES ARRAY()[],;:.'\"$-+*/ 0123e\n\\Eu&x".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 20_000; i++) {
            byte[] b = new byte[r.nextInt(40)];
            for (int j = 0; j < b.length; j++) {
                b[j] = r.nextInt(10) == 0 ? (byte) r.nextInt(256) : alphabet[r.nextInt(alphabet.length)];
            }
            ByteBuf buf = Unpooled.wrappedBuffer(b);
            long id = Fingerprinter.id(buf, 0, b.length);
            Fingerprint f = Fingerprinter.fingerprint(buf, 0, b.length);
            assertThat(f.id()).isEqualTo(id);
            Fingerprinter.normalize(buf, 0, b.length);
        }
    }

    @Test
    void normalize_isIdempotentOnItsOutput() {
        String[] sqls = {"SELECT a, b FROM t WHERE x = 1 AND y IN (1,2)", "INSERT INTO t(a) VALUES (1),(2)",
                "SELECT count(*) FROM t GROUP BY a HAVING count(*) > 1 ORDER BY 1 DESC",
                "UPDATE t SET a = -1, b = b - 1 WHERE c::int = 4"};
        for (String s : sqls) {
            String once = norm(s);
            assertThat(norm(once)).as(s).isEqualTo(once);
        }
    }

    // ---- kind and read-only

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
        SELECT 1                                              | READ        | true
        (SELECT 1) UNION (SELECT 2)                           | READ        | true
        VALUES (1)                                            | READ        | true
        TABLE t                                               | READ        | true
        select * from t for update                            | READ        | false
        SELECT * FROM t FOR NO KEY UPDATE                     | READ        | false
        SELECT * FROM t FOR SHARE                             | READ        | false
        SELECT substring(a FROM 1 FOR 2) FROM t               | READ        | true
        SELECT nextval('s')                                   | READ        | false
        SELECT pg_catalog.PG_ADVISORY_LOCK(1)                 | READ        | false
        SELECT * INTO t2 FROM t                               | DDL         | false
        WITH x AS (SELECT 1) SELECT * FROM x                  | READ        | true
        WITH RECURSIVE r(n) AS (VALUES (1) UNION SELECT n+1 FROM r) SELECT * FROM r | READ | true
        WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d | WRITE       | false
        WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x    | WRITE       | false
        WITH x AS MATERIALIZED (UPDATE t SET a = 1 RETURNING a) SELECT a FROM x | WRITE | false
        INSERT INTO t VALUES (1)                              | WRITE       | false
        update t set a = 1                                    | WRITE       | false
        DELETE FROM t                                         | WRITE       | false
        MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE | WRITE | false
        TRUNCATE t                                            | WRITE       | false
        CREATE TABLE t (a int)                                | DDL         | false
        alter table t add column b int                        | DDL         | false
        DROP INDEX i                                          | DDL         | false
        GRANT SELECT ON t TO u                                | DDL         | false
        BEGIN                                                 | TRANSACTION | false
        START TRANSACTION ISOLATION LEVEL SERIALIZABLE        | TRANSACTION | false
        COMMIT                                                | TRANSACTION | false
        END                                                   | TRANSACTION | false
        ROLLBACK TO SAVEPOINT s                               | TRANSACTION | false
        SAVEPOINT s                                           | TRANSACTION | false
        RELEASE SAVEPOINT s                                   | TRANSACTION | false
        PREPARE TRANSACTION 'x'                               | TRANSACTION | false
        PREPARE p AS SELECT 1                                 | OTHER       | false
        SET search_path = x                                   | OTHER       | false
        SHOW work_mem                                         | OTHER       | false
        EXPLAIN SELECT 1                                      | OTHER       | false
        COPY t FROM STDIN                                     | OTHER       | false
        my_func(1)                                            | OTHER       | false
        ;                                                     | OTHER       | false
        SELECT 1; SELECT 2                                    | READ        | true
        SELECT 1; DELETE FROM t                               | READ        | false
        BEGIN; UPDATE t SET a = 1; COMMIT                     | TRANSACTION | false
        /* sluice: route=replica */ -- x \\n SELECT 1          | READ        | true
        """)
    void fingerprint_kindAndReadOnly(String sql, StatementKind kind, boolean readOnly) {
        Fingerprint f = Fingerprinter.fingerprint(sql.replace("\\n", "\n"));
        assertThat(f.kind()).isEqualTo(kind);
        assertThat(f.readOnly()).isEqualTo(readOnly);
    }

    @Test
    void fingerprint_countsStatements() {
        assertThat(Fingerprinter.fingerprint("SELECT 1").statements()).isEqualTo(1);
        assertThat(Fingerprinter.fingerprint("SELECT 1;").statements()).isEqualTo(1);
        assertThat(Fingerprinter.fingerprint("BEGIN; UPDATE t SET a = 1; COMMIT;").statements()).isEqualTo(3);
        assertThat(Fingerprinter.fingerprint(" ; -- nothing").statements()).isZero();
    }

    // ---- hints

    @Test
    void hints_parsedFromLeadingComment() {
        Fingerprint f = Fingerprinter.fingerprint("/* sluice: priority=high, cache=30s, route=replica */ SELECT 1");
        assertThat(f.hints()).containsExactly(Map.entry("priority", "high"), Map.entry("cache", "30s"),
                Map.entry("route", "replica"));
    }

    @Test
    void hints_spacingCaseAndOtherLeadingComments() {
        assertThat(Fingerprinter.fingerprint("-- app\n/* note */\n  /*SLUICE :Priority = low ,cache=1.5s*/ SELECT 1")
                .hints()).containsExactly(Map.entry("priority", "low"), Map.entry("cache", "1.5s"));
        assertThat(Fingerprinter.fingerprint("/* sluice: */ SELECT 1").hints()).isEmpty();
        assertThat(Fingerprinter.fingerprint("/* sluice: a=1, a=2 */ SELECT 1").hints())
                .containsExactly(Map.entry("a", "2"));
    }

    @Test
    void hints_onlyBeforeFirstToken() {
        assertThat(Fingerprinter.fingerprint("SELECT /* sluice: priority=high */ 1").hints()).isEmpty();
        assertThat(Fingerprinter.fingerprint("SELECT 1").hints()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
        /* sluice priority=high */ SELECT 1
        /* sluice: priority */ SELECT 1
        /* sluice: priority= */ SELECT 1
        /* sluice: =high */ SELECT 1
        /* sluice: priority=high,, cache=1s */ SELECT 1
        /* sluice: priority=high, */ SELECT 1
        /* sluice: priority=high cache=1s */ SELECT 1
        /* sluice: priority='high' */ SELECT 1
        /* sluice: prio rity=high */ SELECT 1
        /* sluice: priority=hi/*x*/gh */ SELECT 1
        /* sluice: 1priority=high */ SELECT 1
        /* sluice: priority=high
        /* sluicex: priority=high */ SELECT 1
        /* sluice: priority=héigh */ SELECT 1
        """)
    void hints_malformedIgnored(String sql) {
        Fingerprint f = Fingerprinter.fingerprint(sql);
        assertThat(f.hints()).isEmpty();
    }

    @Test
    void hints_limits() {
        StringBuilder many = new StringBuilder("/* sluice: ");
        for (int i = 0; i < Hints.MAX_PAIRS + 1; i++) {
            many.append(i == 0 ? "" : ", ").append("k").append(i).append("=v");
        }
        assertThat(Fingerprinter.fingerprint(many + " */ SELECT 1").hints()).isEmpty();
        assertThat(Fingerprinter.fingerprint("/* sluice: k=" + "v".repeat(Hints.MAX_VALUE + 1) + " */ SELECT 1")
                .hints()).isEmpty();
        assertThat(Fingerprinter.fingerprint("/* sluice: k=" + "v".repeat(Hints.MAX_VALUE) + " */ SELECT 1")
                .hints()).hasSize(1);
    }
}

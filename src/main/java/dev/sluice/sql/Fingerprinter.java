package dev.sluice.sql;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * Fingerprints SQL text: a normalised form in the spirit of pg_stat_statements, its 64-bit id,
 * the statement kind, whether it is read-only, and the leading Sluice hint. A hand-written lexer,
 * no parse tree, one pass.
 *
 * <h2>API</h2>
 * Every method has a {@link ByteBuf} form (UTF-8 bytes {@code [from, to)}, read with absolute
 * gets: reader index, writer index and reference count are left alone, the buffer stays the
 * caller's) and a {@link CharSequence} form; both give the same results for the same text.
 * <ul>
 *   <li>{@link #id(ByteBuf, int, int)}: the fingerprint id only. The hot path: no allocation once
 *       the calling thread is warm.</li>
 *   <li>{@link #fingerprint(ByteBuf, int, int)}: id, {@link StatementKind}, read-only flag,
 *       statement count and hints, in the same single pass; allocates the result (and a map only
 *       when a hint is present).</li>
 *   <li>{@link #normalize(ByteBuf, int, int)}: the normalised text, for a fingerprint seen for
 *       the first time.</li>
 * </ul>
 * The text of a simple Query or of a Parse message is what to pass (without the terminating
 * NUL). All methods are thread-safe and never throw on malformed SQL; each thread keeps its own
 * scratch buffers (released after unusually long statements).
 *
 * <h2>Normal form</h2>
 * Tokens written with canonical spacing (so {@code a=1} and {@code a = 1} agree):
 * <ul>
 *   <li>every literal becomes {@code ?}: numbers ({@code 42}, {@code -1}, {@code 1e-3},
 *       {@code .5}, {@code 0x1F}, {@code 1_000}), strings ({@code '..'}, {@code E'..'},
 *       {@code U&'..'}, {@code B'..'}, {@code X'..'}, {@code N'..'}, {@code $tag$..$tag$}), and so
 *       does every {@code $n} parameter, so the simple and extended forms of one query share a
 *       fingerprint (pg_stat_statements writes {@code $n}; we chose {@code ?} for both). A minus
 *       directly before a number where an operand is expected is part of it ({@code a = -1}
 *       gives {@code a = ?}, {@code a - 1} gives {@code a - ?}). {@code TRUE}, {@code FALSE} and
 *       {@code NULL} stay. Note that {@code ?} is also a PostgreSQL operator (jsonb); it
 *       stays as written, so it reads like a placeholder in the normal form.</li>
 *   <li>keywords from a fixed list (SELECT, FROM, WHERE, IN, VALUES, ...) are upper-cased;
 *       identifiers keep their case; quoted identifiers are copied untouched.</li>
 *   <li>comments ({@code --} and nested block comments, hints included) disappear; whitespace is
 *       one space between tokens, none after {@code ( [ . :: :}, none before
 *       {@code , ) ] . :: : ;}, none between a name and the {@code (} of a call
 *       ({@code count(*)}, also {@code INSERT INTO t(a, b)}) or the {@code [} of a
 *       subscript.</li>
 *   <li>{@code IN (...)} replaces an IN list of constants of any length; {@code VALUES (...)}
 *       replaces a VALUES list of rows of constants (any number of rows, one included, so batch
 *       sizes share a fingerprint); {@code ARRAY[...]} likewise. Constants here are literals,
 *       parameters, NULL, TRUE, FALSE, DEFAULT (in VALUES) and typed literals such as
 *       {@code DATE '2024-01-01'}, each with optional casts. A list holding anything else is
 *       kept token by token.</li>
 *   <li>casts are kept ({@code ?::int}); a trailing {@code ;} is dropped, empty statements
 *       ({@code ;;}) vanish, separating ones stay ({@code SELECT ?; SELECT ?}).</li>
 * </ul>
 * Example: {@code select * FROM users where id IN (1,2,3) and name = E'bob' -- x} becomes
 * {@code SELECT * FROM users WHERE id IN (...) AND name = ?}.
 *
 * <h2>Id</h2>
 * xxHash64 (seed 0) of the UTF-8 bytes of the normal form: {@code id(x)} equals the hash of
 * {@code normalize(x)}. Hints and comments do not take part, so a hinted and an unhinted copy of
 * a statement are the same fingerprint. It is stable as long as the normal form is; changing the
 * keyword list or the rules above changes ids.
 *
 * <h2>Kind and read-only</h2>
 * The kind comes from the first keyword, leading parentheses skipped (see {@link StatementKind});
 * for {@code WITH} it is the main statement after the CTEs, and WRITE when a CTE body starts with
 * INSERT, UPDATE, DELETE or MERGE. {@code SELECT ... INTO} is DDL. A statement is read-only when
 * it is READ, has no locking clause ({@code FOR UPDATE}, {@code FOR SHARE},
 * {@code FOR NO KEY UPDATE}, {@code FOR KEY SHARE}) and calls none of a few built-in functions
 * that change state (nextval, setval, advisory locks, pg_notify, set_config, ...). Functions
 * written by users cannot be judged from the text. With several statements in one text, the kind
 * is the first one's and read-only requires all of them to be.
 *
 * <h2>Hints</h2>
 * The first block comment before the first token whose body starts with {@code sluice:} is
 * parsed as comma-separated {@code key=value} pairs, e.g. <code>/* sluice: priority=high,
 * cache=30s, route=replica *&#47;</code>; a malformed hint is ignored as a whole. Keys are
 * lower-cased; values kept as written; their meaning is for the consumers.
 *
 * <h2>Limits</h2>
 * {@code standard_conforming_strings} is assumed on (backslashes are escapes only in
 * {@code E''} strings), as it is by default since PostgreSQL 9.1.
 */
public final class Fingerprinter {
    private static final FastThreadLocal<Normalizer> LOCAL = new FastThreadLocal<>() {
        @Override
        protected Normalizer initialValue() {
            return new Normalizer();
        }
    };

    private Fingerprinter() {
    }

    /** The fingerprint id of the UTF-8 SQL text in {@code buf[from, to)}; no allocation. */
    public static long id(ByteBuf buf, int from, int to) {
        Normalizer n = LOCAL.get();
        n.load(buf, from, to);
        return idOf(n);
    }

    /** The fingerprint id of {@code sql}. */
    public static long id(CharSequence sql) {
        Normalizer n = LOCAL.get();
        n.load(sql);
        return idOf(n);
    }

    /** Id, kind, read-only flag, statement count and hints of the UTF-8 text in {@code buf[from, to)}. */
    public static Fingerprint fingerprint(ByteBuf buf, int from, int to) {
        Normalizer n = LOCAL.get();
        n.load(buf, from, to);
        return fingerprintOf(n);
    }

    /** Id, kind, read-only flag, statement count and hints of {@code sql}. */
    public static Fingerprint fingerprint(CharSequence sql) {
        Normalizer n = LOCAL.get();
        n.load(sql);
        return fingerprintOf(n);
    }

    /** The normalised text of the UTF-8 SQL text in {@code buf[from, to)}. */
    public static String normalize(ByteBuf buf, int from, int to) {
        Normalizer n = LOCAL.get();
        n.load(buf, from, to);
        return textOf(n);
    }

    /** The normalised text of {@code sql}. */
    public static String normalize(CharSequence sql) {
        Normalizer n = LOCAL.get();
        n.load(sql);
        return textOf(n);
    }

    private static long idOf(Normalizer n) {
        n.run();
        long id = n.hash();
        n.trim();
        return id;
    }

    private static Fingerprint fingerprintOf(Normalizer n) {
        n.run();
        Fingerprint f = new Fingerprint(n.hash(), n.kind, n.readOnly, n.statements, n.hints());
        n.trim();
        return f;
    }

    private static String textOf(Normalizer n) {
        n.run();
        String s = n.text();
        n.trim();
        return s;
    }
}

package dev.sluice.sql;

import static dev.sluice.sql.Lexer.CAST;
import static dev.sluice.sql.Lexer.COMMA;
import static dev.sluice.sql.Lexer.EOF;
import static dev.sluice.sql.Lexer.LBRACK;
import static dev.sluice.sql.Lexer.LPAREN;
import static dev.sluice.sql.Lexer.NUMBER;
import static dev.sluice.sql.Lexer.OP;
import static dev.sluice.sql.Lexer.PARAM;
import static dev.sluice.sql.Lexer.QIDENT;
import static dev.sluice.sql.Lexer.RBRACK;
import static dev.sluice.sql.Lexer.RPAREN;
import static dev.sluice.sql.Lexer.SEMI;
import static dev.sluice.sql.Lexer.STRING;
import static dev.sluice.sql.Lexer.WORD;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * One pass over a statement's tokens that writes the normalised text into a reused byte buffer
 * and classifies the statement on the way. Not thread-safe: {@link Fingerprinter} keeps one per
 * thread. Buffers are reused between calls (no allocation once warm) and dropped back to their
 * initial size after an unusually long statement.
 */
final class Normalizer {
    private static final int INITIAL = 2048;
    private static final int RETAIN = 64 * 1024;

    // spacing classes of emitted tokens
    private static final int C_NONE = 0;
    private static final int C_WORD = 1;
    private static final int C_LPAREN = 2;
    private static final int C_RPAREN = 3;
    private static final int C_LBRACK = 4;
    private static final int C_RBRACK = 5;
    private static final int C_COMMA = 6;
    private static final int C_DOT = 7;
    private static final int C_CAST = 8;
    private static final int C_COLON = 9;
    private static final int C_SEMI = 10;
    private static final int C_OP = 11;
    private static final int C_OTHER = 12;

    private static final byte[] ELLIPSIS = {'.', '.', '.'};
    private static final byte[] PLACEHOLDER = {'?'};

    private final Lexer lx = new Lexer();
    byte[] in = new byte[INITIAL];
    int inLen;
    byte[] out = new byte[INITIAL];
    int outLen;

    // emission state
    private int prevClass;
    /** The previous token was an identifier (plain or quoted), so "(" after it is a call. */
    private boolean prevIdent;
    private boolean prevString;
    private int prevKeyword;
    private int prevWordStart;
    private int prevWordEnd;
    private boolean pendingSemi;

    // classification of the whole text
    StatementKind kind;
    boolean readOnly;
    int statements;

    // classification of the current statement
    private int tokens;
    private int depth;
    private int first;
    private int firstDepth;
    private int second;
    private int main;
    private boolean afterLParen;
    private boolean lastWasFor;
    private boolean locking;
    private boolean writableCte;
    private boolean into;
    private boolean sideEffect;

    void load(ByteBuf buf, int from, int to) {
        int n = to - from;
        if (in.length < n) {
            in = new byte[Math.max(n, in.length * 2)];
        }
        buf.getBytes(from, in, 0, n);
        inLen = n;
    }

    /** UTF-8 encodes {@code s}; an unpaired surrogate becomes '?', as String.getBytes does. */
    void load(CharSequence s) {
        int n = s.length();
        if (in.length < n * 3) {
            in = new byte[Math.max(n * 3, in.length * 2)];
        }
        byte[] b = in;
        int j = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                b[j++] = (byte) c;
            } else if (c < 0x800) {
                b[j++] = (byte) (0xC0 | (c >> 6));
                b[j++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                b[j++] = (byte) (0xF0 | (cp >> 18));
                b[j++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                b[j++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                b[j++] = (byte) (0x80 | (cp & 0x3F));
            } else if (Character.isSurrogate(c)) {
                b[j++] = '?';
            } else {
                b[j++] = (byte) (0xE0 | (c >> 12));
                b[j++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                b[j++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        inLen = j;
    }

    long hash() {
        return XxHash64.hash(out, 0, outLen);
    }

    String text() {
        return new String(out, 0, outLen, StandardCharsets.UTF_8);
    }

    Map<String, String> hints() {
        return Hints.parse(in, inLen);
    }

    /** Drops buffers grown by an unusually long statement so a thread does not keep them. */
    void trim() {
        if (in.length > RETAIN) {
            in = new byte[INITIAL];
        }
        if (out.length > RETAIN) {
            out = new byte[INITIAL];
        }
    }

    /** Normalises the loaded input into {@code out} and classifies it. */
    void run() {
        lx.reset(in, inLen);
        outLen = 0;
        prevClass = C_NONE;
        prevIdent = false;
        prevString = false;
        prevKeyword = -1;
        pendingSemi = false;
        kind = null;
        readOnly = true;
        statements = 0;
        startStatement();
        for (int t; (t = lx.next()) != EOF; ) {
            if (t == SEMI) {
                endStatement();
                pendingSemi = prevClass != C_NONE;
                continue;
            }
            if (pendingSemi) {
                // a ';' is written only when a statement follows it: trailing ones are dropped
                emit(C_SEMI, false, -1, PLACEHOLDER, 0, 0);
                put((byte) ';');
                pendingSemi = false;
            }
            token(t);
        }
        endStatement();
        if (kind == null) {
            kind = StatementKind.OTHER;
            readOnly = false;
        }
    }

    private void token(int t) {
        int s = lx.start;
        int e = lx.pos;
        switch (t) {
            case WORD -> word(s, e);
            case QIDENT -> {
                classify(t, -1);
                emit(C_WORD, true, -1, in, s, e);
            }
            case NUMBER, PARAM -> literal(false);
            case STRING -> literal(true);
            case OP -> operator(s, e);
            case LPAREN -> {
                if (prevClass == C_WORD && prevIdent && prevKeyword < 0) {
                    checkFunction(prevWordStart, prevWordEnd);
                }
                classify(t, -1);
                emit(C_LPAREN, false, -1, in, s, e);
            }
            case RPAREN -> {
                classify(t, -1);
                emit(C_RPAREN, false, -1, in, s, e);
            }
            case LBRACK -> {
                classify(t, -1);
                emit(C_LBRACK, false, -1, in, s, e);
            }
            case RBRACK -> {
                classify(t, -1);
                emit(C_RBRACK, false, -1, in, s, e);
            }
            case COMMA -> {
                classify(t, -1);
                emit(C_COMMA, false, -1, in, s, e);
            }
            case Lexer.DOT -> {
                classify(t, -1);
                emit(C_DOT, false, -1, in, s, e);
            }
            case CAST -> {
                classify(t, -1);
                emit(C_CAST, false, -1, in, s, e);
            }
            case Lexer.COLON -> {
                classify(t, -1);
                emit(C_COLON, false, -1, in, s, e);
            }
            default -> {
                classify(t, -1);
                emit(C_OTHER, false, -1, in, s, e);
            }
        }
    }

    private void word(int s, int e) {
        int kw = Keywords.lookup(in, s, e);
        classify(WORD, kw);
        if (kw < 0) {
            emit(C_WORD, true, -1, in, s, e);
            prevWordStart = s;
            prevWordEnd = e;
            return;
        }
        byte[] upper = Keywords.bytes(kw);
        emit(C_WORD, false, kw, upper, 0, upper.length);
        if (kw == Keywords.IN || kw == Keywords.VALUES || kw == Keywords.ARRAY) {
            collapse(kw);
        }
    }

    private void literal(boolean string) {
        classify(string ? STRING : NUMBER, -1);
        if (string && prevString) {
            return; // 'a' 'b' on separate lines is one literal in SQL
        }
        emit(C_WORD, false, -1, PLACEHOLDER, 0, 1);
        prevString = string;
    }

    private void operator(int s, int e) {
        if (e - s == 1 && in[s] == '-' && operandExpected()) {
            int save = lx.pos;
            if (lx.next() == NUMBER) {
                literal(false); // a negative number is one constant, as in pg_stat_statements
                return;
            }
            lx.pos = save;
        }
        classify(OP, -1);
        emit(C_OP, false, -1, in, s, e);
    }

    private boolean operandExpected() {
        return switch (prevClass) {
            case C_NONE, C_OP, C_LPAREN, C_LBRACK, C_COMMA, C_SEMI, C_COLON, C_OTHER -> true;
            case C_WORD -> prevKeyword >= 0 && prevKeyword != Keywords.END && prevKeyword != Keywords.NULL
                    && prevKeyword != Keywords.TRUE && prevKeyword != Keywords.FALSE;
            default -> false;
        };
    }

    /**
     * After IN, VALUES or ARRAY: when what follows is a list of constants ({@code IN (1, 2)},
     * {@code VALUES (1, 'a'), ($1, $2)}, {@code ARRAY[1, 2]}), writes it as {@code (...)} or
     * {@code [...]} and moves past it; otherwise leaves the position untouched.
     */
    private void collapse(int kw) {
        int save = lx.pos;
        boolean ok;
        if (kw == Keywords.ARRAY) {
            ok = lx.next() == LBRACK && constants(RBRACK, false);
        } else if (kw == Keywords.IN) {
            ok = lx.next() == LPAREN && constants(RPAREN, false);
        } else {
            ok = rows();
        }
        if (!ok) {
            lx.pos = save;
            return;
        }
        if (kw == Keywords.ARRAY) {
            emit(C_LBRACK, false, -1, PLACEHOLDER, 0, 0);
            put((byte) '[');
            emit(C_WORD, false, -1, ELLIPSIS, 0, 3);
            emit(C_RBRACK, false, -1, PLACEHOLDER, 0, 0);
            put((byte) ']');
        } else {
            emit(C_LPAREN, false, -1, PLACEHOLDER, 0, 0);
            put((byte) '(');
            emit(C_WORD, false, -1, ELLIPSIS, 0, 3);
            emit(C_RPAREN, false, -1, PLACEHOLDER, 0, 0);
            put((byte) ')');
        }
    }

    /** VALUES rows of constants: {@code (c, ...)[, (c, ...)]...}; stops before a ',' not followed by '('. */
    private boolean rows() {
        if (lx.next() != LPAREN || !constants(RPAREN, true)) {
            return false;
        }
        while (true) {
            int save = lx.pos;
            if (lx.next() != COMMA || lx.next() != LPAREN) {
                lx.pos = save;
                return true;
            }
            if (!constants(RPAREN, true)) {
                return false;
            }
        }
    }

    /** One or more constants separated by commas up to the {@code close} token. */
    private boolean constants(int close, boolean allowDefault) {
        while (true) {
            int t = constant(allowDefault);
            if (t == close) {
                return true;
            }
            if (t != COMMA) {
                return false;
            }
        }
    }

    /**
     * A literal, parameter, signed number, NULL/TRUE/FALSE (DEFAULT in VALUES) or a typed
     * literal such as {@code DATE '2024-01-01'}, each with optional casts. Returns the type of
     * the token after it (already consumed), or -1 when what was read is not a constant. Never
     * peeks: every token of a long list is scanned once.
     */
    private int constant(boolean allowDefault) {
        int t = lx.next();
        if (t == OP && lx.pos - lx.start == 1 && (in[lx.start] == '-' || in[lx.start] == '+')) {
            t = lx.next();
            if (t != NUMBER && t != PARAM) {
                return -1;
            }
            t = lx.next();
        } else if (t == STRING) {
            do {
                t = lx.next();
            } while (t == STRING);
        } else if (t == WORD) {
            int kw = Keywords.lookup(in, lx.start, lx.pos);
            t = lx.next();
            if (!(kw == Keywords.NULL || kw == Keywords.TRUE || kw == Keywords.FALSE
                    || (allowDefault && kw == Keywords.DEFAULT))) {
                if (t != STRING) {
                    return -1;
                }
                t = lx.next();
            }
        } else if (t == NUMBER || t == PARAM) {
            t = lx.next();
        } else {
            return -1;
        }
        while (t == CAST) {
            t = typeName();
        }
        return t;
    }

    /**
     * A type after '::': words and dots, optional (n[, n]) modifier, optional [] suffixes.
     * Returns the type of the token after it, or -1.
     */
    private int typeName() {
        int t = lx.next();
        if (t != WORD && t != QIDENT) {
            return -1;
        }
        do {
            t = lx.next();
        } while (t == WORD || t == QIDENT || t == Lexer.DOT);
        if (t == LPAREN) {
            do {
                if (lx.next() != NUMBER) {
                    return -1;
                }
                t = lx.next();
            } while (t == COMMA);
            if (t != RPAREN) {
                return -1;
            }
            t = lx.next();
        }
        while (t == LBRACK) {
            t = lx.next();
            if (t == NUMBER) {
                t = lx.next();
            }
            if (t != RBRACK) {
                return -1;
            }
            t = lx.next();
        }
        return t;
    }

    // ---- output

    /** Writes a separator if the spacing rules want one, then {@code src[from, to)}. */
    private void emit(int cls, boolean ident, int keyword, byte[] src, int from, int to) {
        if (needSpace(cls)) {
            put((byte) ' ');
        }
        int n = to - from;
        if (outLen + n > out.length) {
            grow(n);
        }
        System.arraycopy(src, from, out, outLen, n);
        outLen += n;
        prevClass = cls;
        prevIdent = ident;
        prevKeyword = keyword;
        prevString = false;
    }

    /**
     * Canonical spacing, independent of the input's: one space between tokens except after
     * ( [ . :: : and before , ) ] . :: : ; and none between a name and the ( of a call or the
     * [ of a subscript.
     */
    private boolean needSpace(int cls) {
        switch (cls) {
            case C_COMMA, C_RPAREN, C_RBRACK, C_DOT, C_CAST, C_COLON, C_SEMI -> {
                return false;
            }
            default -> { }
        }
        switch (prevClass) {
            case C_NONE, C_LPAREN, C_LBRACK, C_DOT, C_CAST, C_COLON -> {
                return false;
            }
            default -> { }
        }
        if (cls == C_LPAREN) {
            return !prevIdent;
        }
        if (cls == C_LBRACK) {
            return !(prevClass == C_WORD || prevClass == C_RPAREN || prevClass == C_RBRACK);
        }
        return true;
    }

    private void put(byte b) {
        if (outLen == out.length) {
            grow(1);
        }
        out[outLen++] = b;
    }

    private void grow(int n) {
        byte[] bigger = new byte[Math.max(out.length * 2, outLen + n)];
        System.arraycopy(out, 0, bigger, 0, outLen);
        out = bigger;
    }

    // ---- classification

    private void startStatement() {
        tokens = 0;
        depth = 0;
        first = Integer.MIN_VALUE;
        firstDepth = 0;
        second = Integer.MIN_VALUE;
        main = -1;
        afterLParen = false;
        lastWasFor = false;
        locking = false;
        writableCte = false;
        into = false;
        sideEffect = false;
    }

    /** Sees every token of the statement (constants inside collapsed lists excepted). */
    private void classify(int t, int kw) {
        tokens++;
        if (first == Integer.MIN_VALUE) {
            if (t == LPAREN) {
                depth++; // leading parentheses: (SELECT ...) UNION (SELECT ...)
                return;
            }
            first = kw;
            firstDepth = depth;
        } else if (second == Integer.MIN_VALUE) {
            second = kw;
        }
        if (t == LPAREN) {
            depth++;
        } else if (t == RPAREN) {
            depth--;
        }
        if (kw >= 0) {
            if (afterLParen && (kw == Keywords.INSERT || kw == Keywords.UPDATE
                    || kw == Keywords.DELETE || kw == Keywords.MERGE)) {
                writableCte = true;
            }
            if (main < 0 && depth == firstDepth && first == Keywords.WITH
                    && (kw == Keywords.SELECT || kw == Keywords.VALUES || kw == Keywords.TABLE
                    || kw == Keywords.INSERT || kw == Keywords.UPDATE || kw == Keywords.DELETE
                    || kw == Keywords.MERGE)) {
                main = kw;
            }
            if (lastWasFor && (kw == Keywords.UPDATE || kw == Keywords.SHARE || kw == Keywords.NO
                    || kw == Keywords.KEY)) {
                locking = true;
            }
            if (kw == Keywords.INTO) {
                into = true;
            }
        }
        afterLParen = t == LPAREN;
        lastWasFor = kw == Keywords.FOR;
    }

    private void endStatement() {
        if (tokens == 0) {
            startStatement();
            return;
        }
        StatementKind k = kindOf();
        boolean ro = k == StatementKind.READ && !locking && !sideEffect;
        if (statements++ == 0) {
            kind = k;
        }
        readOnly &= ro;
        startStatement();
    }

    private StatementKind kindOf() {
        int f = first;
        if (f == Keywords.WITH) {
            if (writableCte || main == Keywords.INSERT || main == Keywords.UPDATE
                    || main == Keywords.DELETE || main == Keywords.MERGE) {
                return StatementKind.WRITE;
            }
            if (main < 0) {
                return StatementKind.OTHER;
            }
            f = main;
        }
        if (f == Keywords.SELECT || f == Keywords.VALUES || f == Keywords.TABLE) {
            return into ? StatementKind.DDL : StatementKind.READ;
        }
        if (f == Keywords.INSERT || f == Keywords.UPDATE || f == Keywords.DELETE || f == Keywords.MERGE
                || f == Keywords.TRUNCATE || f == Keywords.REFRESH) {
            return StatementKind.WRITE;
        }
        if (f == Keywords.CREATE || f == Keywords.ALTER || f == Keywords.DROP || f == Keywords.COMMENT
                || f == Keywords.GRANT || f == Keywords.REVOKE || f == Keywords.REINDEX
                || f == Keywords.SECURITY || f == Keywords.IMPORT) {
            return StatementKind.DDL;
        }
        if (f == Keywords.BEGIN || f == Keywords.START || f == Keywords.COMMIT || f == Keywords.END
                || f == Keywords.ROLLBACK || f == Keywords.ABORT || f == Keywords.SAVEPOINT
                || f == Keywords.RELEASE || (f == Keywords.PREPARE && second == Keywords.TRANSACTION)) {
            return StatementKind.TRANSACTION;
        }
        return StatementKind.OTHER;
    }

    /** A call to a function known to change state makes a SELECT not read-only. */
    private void checkFunction(int s, int e) {
        if (SideEffects.matches(in, s, e)) {
            sideEffect = true;
        }
    }
}

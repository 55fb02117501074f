package dev.sluice.sql;

/**
 * Splits UTF-8 SQL text into tokens, skipping whitespace and comments. No allocation: a token is
 * the range {@code [start, pos)} of the input and a type code. Follows PostgreSQL's lexer (scan.l)
 * where it matters for normalisation: nested block comments, {@code E''} strings with backslash
 * escapes, dollar quoting, {@code $n} parameters, operator runs with the rule on trailing
 * {@code +}/{@code -}. Bytes of 0x80 and above are identifier characters, as in PostgreSQL, so
 * multi-byte UTF-8 needs no decoding. Malformed input (an unterminated string or comment) never
 * throws: the token simply runs to the end.
 */
final class Lexer {
    static final int EOF = 0;
    static final int WORD = 1;
    static final int QIDENT = 2;
    static final int NUMBER = 3;
    static final int STRING = 4;
    static final int PARAM = 5;
    static final int OP = 6;
    static final int LPAREN = 7;
    static final int RPAREN = 8;
    static final int LBRACK = 9;
    static final int RBRACK = 10;
    static final int COMMA = 11;
    static final int DOT = 12;
    static final int CAST = 13;
    static final int COLON = 14;
    static final int SEMI = 15;
    static final int OTHER = 16;

    private static final byte[] CLASS = new byte[256];
    private static final byte IDENT_START = 1;
    private static final byte DIGIT = 2;
    private static final byte OP_CHAR = 4;
    /** Operator characters that allow a multi-character operator to end in + or -. */
    private static final byte OP_SPECIAL = 8;
    private static final byte SPACE = 16;

    static {
        for (int c = 'a'; c <= 'z'; c++) {
            CLASS[c] = IDENT_START;
            CLASS[c - 32] = IDENT_START;
        }
        CLASS['_'] = IDENT_START;
        for (int c = 0x80; c < 256; c++) {
            CLASS[c] = IDENT_START;
        }
        for (int c = '0'; c <= '9'; c++) {
            CLASS[c] = DIGIT;
        }
        for (char c : "+-*/<>=".toCharArray()) {
            CLASS[c] = OP_CHAR;
        }
        for (char c : "~!@#%^&|`?".toCharArray()) {
            CLASS[c] = OP_CHAR | OP_SPECIAL;
        }
        for (char c : " \t\n\r\f\u000b".toCharArray()) {
            CLASS[c] = SPACE;
        }
    }

    byte[] in;
    int end;
    /** Start of the current token. */
    int start;
    /** End of the current token, where the next scan begins. */
    int pos;

    void reset(byte[] input, int length) {
        this.in = input;
        this.end = length;
        this.start = 0;
        this.pos = 0;
    }

    static boolean isIdentStart(int c) {
        return CLASS[c & 0xff] == IDENT_START;
    }

    static boolean isIdentPart(int c) {
        int k = CLASS[c & 0xff];
        return k == IDENT_START || k == DIGIT || c == '$';
    }

    static boolean isDigit(int c) {
        return CLASS[c & 0xff] == DIGIT;
    }

    /** Scans the next token; returns its type, with the token at {@code [start, pos)}. */
    int next() {
        int p = skipSpaceAndComments(in, pos, end);
        start = p;
        if (p >= end) {
            pos = end;
            return EOF;
        }
        int c = in[p] & 0xff;
        switch (c) {
            case '(' -> { pos = p + 1; return LPAREN; }
            case ')' -> { pos = p + 1; return RPAREN; }
            case '[' -> { pos = p + 1; return LBRACK; }
            case ']' -> { pos = p + 1; return RBRACK; }
            case ',' -> { pos = p + 1; return COMMA; }
            case ';' -> { pos = p + 1; return SEMI; }
            case '\'' -> { pos = quoted(p, '\'', false); return STRING; }
            case '"' -> { pos = quoted(p, '"', false); return QIDENT; }
            case '$' -> { return dollar(p); }
            case ':' -> {
                if (p + 1 < end && in[p + 1] == ':') {
                    pos = p + 2;
                    return CAST;
                }
                pos = p + 1;
                return COLON;
            }
            case '.' -> {
                if (p + 1 < end && isDigit(in[p + 1])) {
                    pos = number(p);
                    return NUMBER;
                }
                pos = p + 1;
                return DOT;
            }
            default -> { }
        }
        int k = CLASS[c];
        if (k == IDENT_START) {
            return word(p, c);
        }
        if (k == DIGIT) {
            pos = number(p);
            return NUMBER;
        }
        if ((k & OP_CHAR) != 0) {
            pos = operator(p);
            return OP;
        }
        pos = p + 1;
        return OTHER;
    }

    private int word(int p, int c) {
        int n1 = p + 1 < end ? in[p + 1] : 0;
        if (n1 == '\'') {
            switch (c) {
                case 'e', 'E' -> { pos = quoted(p + 1, '\'', true); return STRING; }
                case 'b', 'B', 'x', 'X', 'n', 'N' -> { pos = quoted(p + 1, '\'', false); return STRING; }
                default -> { }
            }
        } else if (n1 == '&' && (c == 'u' || c == 'U') && p + 2 < end) {
            if (in[p + 2] == '\'') {
                pos = quoted(p + 2, '\'', false);
                return STRING;
            }
            if (in[p + 2] == '"') {
                pos = quoted(p + 2, '"', false);
                return QIDENT;
            }
        }
        int q = p + 1;
        while (q < end && isIdentPart(in[q])) {
            q++;
        }
        pos = q;
        return WORD;
    }

    /** From the opening quote at {@code p}; a doubled quote is an escaped one. */
    private int quoted(int p, int quote, boolean backslashEscapes) {
        int q = p + 1;
        while (q < end) {
            int b = in[q];
            if (backslashEscapes && b == '\\') {
                q += 2;
                continue;
            }
            if (b == quote) {
                if (q + 1 < end && in[q + 1] == quote) {
                    q += 2;
                    continue;
                }
                return q + 1;
            }
            q++;
        }
        return end;
    }

    private int dollar(int p) {
        int q = p + 1;
        if (q < end && isDigit(in[q])) {
            while (q < end && isDigit(in[q])) {
                q++;
            }
            pos = q;
            return PARAM;
        }
        // a dollar quote's tag is an identifier without '$': $$ or $tag$
        while (q < end && in[q] != '$' && (q == p + 1 ? isIdentStart(in[q]) : isIdentPart(in[q]))) {
            q++;
        }
        if (q >= end || in[q] != '$') {
            pos = p + 1;
            return OTHER;
        }
        int tagLen = q + 1 - p;
        int body = q + 1;
        for (int i = body; i + tagLen <= end; i++) {
            if (in[i] == '$' && matches(i, p, tagLen)) {
                pos = i + tagLen;
                return STRING;
            }
        }
        pos = end;
        return STRING;
    }

    private boolean matches(int at, int tag, int len) {
        for (int j = 0; j < len; j++) {
            if (in[at + j] != in[tag + j]) {
                return false;
            }
        }
        return true;
    }

    /** Decimal with optional fraction and exponent, or 0x / 0o / 0b integers; '_' separators. */
    private int number(int p) {
        int q = p;
        if (in[q] == '0' && q + 2 < end) {
            int r = in[q + 1] | 0x20;
            if ((r == 'x' || r == 'o' || r == 'b') && isHexOrUnderscore(in[q + 2])) {
                q += 2;
                while (q < end && (isHexOrUnderscore(in[q]))) {
                    q++;
                }
                return q;
            }
        }
        while (q < end && (isDigit(in[q]) || in[q] == '_')) {
            q++;
        }
        if (q < end && in[q] == '.' && !(q + 1 < end && in[q + 1] == '.')) {
            q++;
            while (q < end && (isDigit(in[q]) || in[q] == '_')) {
                q++;
            }
        }
        if (q < end && (in[q] | 0x20) == 'e') {
            int r = q + 1;
            if (r < end && (in[r] == '+' || in[r] == '-')) {
                r++;
            }
            if (r < end && isDigit(in[r])) {
                q = r;
                while (q < end && isDigit(in[q])) {
                    q++;
                }
            }
        }
        return q;
    }

    private static boolean isHexOrUnderscore(int c) {
        return isDigit(c) || c == '_' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
    }

    private int operator(int p) {
        int q = p;
        boolean special = false;
        while (q < end && (CLASS[in[q] & 0xff] & OP_CHAR) != 0) {
            if (q > p && q + 1 < end
                    && ((in[q] == '-' && in[q + 1] == '-') || (in[q] == '/' && in[q + 1] == '*'))) {
                break;
            }
            special |= (CLASS[in[q] & 0xff] & OP_SPECIAL) != 0;
            q++;
        }
        // PostgreSQL: a multi-character operator ends in + or - only if it holds a special char
        if (!special) {
            while (q - p > 1 && (in[q - 1] == '+' || in[q - 1] == '-')) {
                q--;
            }
        }
        return q;
    }

    /** Skips whitespace, {@code --} comments and nested block comments from {@code p}. */
    static int skipSpaceAndComments(byte[] in, int p, int end) {
        while (p < end) {
            int c = in[p];
            if (c >= 0 && CLASS[c] == SPACE) {
                p++;
            } else if (c == '-' && p + 1 < end && in[p + 1] == '-') {
                p += 2;
                while (p < end && in[p] != '\n' && in[p] != '\r') {
                    p++;
                }
            } else if (c == '/' && p + 1 < end && in[p + 1] == '*') {
                p = blockCommentEnd(in, p, end);
            } else {
                return p;
            }
        }
        return end;
    }

    /** From {@code /*} at {@code p}, the index after its matching close, nesting counted. */
    static int blockCommentEnd(byte[] in, int p, int end) {
        int depth = 1;
        p += 2;
        while (p < end) {
            if (in[p] == '*' && p + 1 < end && in[p + 1] == '/') {
                p += 2;
                if (--depth == 0) {
                    return p;
                }
            } else if (in[p] == '/' && p + 1 < end && in[p + 1] == '*') {
                p += 2;
                depth++;
            } else {
                p++;
            }
        }
        return end;
    }
}

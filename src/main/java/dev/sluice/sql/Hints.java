package dev.sluice.sql;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parses the leading hint comment, <code>/* sluice: key=value, key=value *&#47;</code>.
 *
 * <p>Only block comments before the first token count; the first whose body starts with
 * {@code sluice:} (case-insensitive, spaces allowed around the colon) is the hint. Its body is a
 * comma-separated list of {@code key=value} pairs: a key is a letter followed by letters, digits,
 * {@code _} or {@code -} (at most 32), lower-cased; a value is 1 to 64 characters from letters,
 * digits and {@code _ . : + -}. Spaces around keys, values, {@code =} and {@code ,} are allowed;
 * a repeated key keeps its last value; at most 16 pairs. Anything else makes the whole hint
 * malformed and it is ignored (empty map): half-understood hints are worse than none. Which keys
 * and values mean something is for the consumers (admission, cache, routing) to decide.
 */
final class Hints {
    static final int MAX_PAIRS = 16;
    static final int MAX_KEY = 32;
    static final int MAX_VALUE = 64;
    private static final byte[] PREFIX = "sluice".getBytes(StandardCharsets.US_ASCII);

    private Hints() {
    }

    static Map<String, String> parse(byte[] in, int end) {
        int p = 0;
        while (true) {
            p = skipSpaceAndLineComments(in, p, end);
            if (p + 1 >= end || in[p] != '/' || in[p + 1] != '*') {
                return Map.of();
            }
            int close = Lexer.blockCommentEnd(in, p, end);
            // body excludes the delimiters; an unterminated comment has no closing "*/"
            int bodyEnd = close >= 2 && close <= end && in[close - 1] == '/' && in[close - 2] == '*'
                    && close - 2 >= p + 2 ? close - 2 : -1;
            if (bodyEnd >= 0) {
                int q = afterPrefix(in, p + 2, bodyEnd);
                if (q >= 0) {
                    return pairs(in, q, bodyEnd);
                }
            }
            p = close;
        }
    }

    private static int skipSpaceAndLineComments(byte[] in, int p, int end) {
        while (p < end) {
            int c = in[p];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0b) {
                p++;
            } else if (c == '-' && p + 1 < end && in[p + 1] == '-') {
                while (p < end && in[p] != '\n' && in[p] != '\r') {
                    p++;
                }
            } else {
                break;
            }
        }
        return p;
    }

    /** Index after "sluice:" at the start of the body, or -1. */
    private static int afterPrefix(byte[] in, int p, int end) {
        p = skipSpaces(in, p, end);
        if (end - p < PREFIX.length) {
            return -1;
        }
        for (int i = 0; i < PREFIX.length; i++) {
            if ((in[p + i] | 0x20) != PREFIX[i]) {
                return -1;
            }
        }
        p = skipSpaces(in, p + PREFIX.length, end);
        return p < end && in[p] == ':' ? p + 1 : -1;
    }

    private static Map<String, String> pairs(byte[] in, int p, int end) {
        Map<String, String> out = new LinkedHashMap<>();
        p = skipSpaces(in, p, end);
        if (p == end) {
            return Map.of();
        }
        while (true) {
            int k0 = p;
            if (p >= end || !isLetter(in[p])) {
                return Map.of();
            }
            while (p < end && (isLetter(in[p]) || isDigit(in[p]) || in[p] == '_' || in[p] == '-')) {
                p++;
            }
            int k1 = p;
            p = skipSpaces(in, p, end);
            if (k1 - k0 > MAX_KEY || p >= end || in[p] != '=') {
                return Map.of();
            }
            p = skipSpaces(in, p + 1, end);
            int v0 = p;
            while (p < end && isValueChar(in[p])) {
                p++;
            }
            int v1 = p;
            if (v1 == v0 || v1 - v0 > MAX_VALUE) {
                return Map.of();
            }
            out.put(new String(in, k0, k1 - k0, StandardCharsets.US_ASCII).toLowerCase(java.util.Locale.ROOT),
                    new String(in, v0, v1 - v0, StandardCharsets.US_ASCII));
            if (out.size() > MAX_PAIRS) {
                return Map.of();
            }
            p = skipSpaces(in, p, end);
            if (p == end) {
                return Collections.unmodifiableMap(out);
            }
            if (in[p] != ',') {
                return Map.of();
            }
            p = skipSpaces(in, p + 1, end);
        }
    }

    private static int skipSpaces(byte[] in, int p, int end) {
        while (p < end && (in[p] == ' ' || in[p] == '\t' || in[p] == '\n' || in[p] == '\r')) {
            p++;
        }
        return p;
    }

    private static boolean isLetter(int c) {
        return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isValueChar(int c) {
        return isLetter(c) || isDigit(c) || c == '_' || c == '.' || c == ':' || c == '+' || c == '-';
    }
}

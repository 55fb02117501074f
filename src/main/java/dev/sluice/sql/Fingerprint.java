package dev.sluice.sql;

import java.util.Map;

/**
 * What {@link Fingerprinter#fingerprint} learns about a statement in one pass.
 *
 * @param id         64-bit fingerprint: the xxHash64 (seed 0) of the UTF-8 bytes of the normalised
 *                   text, equal to {@link Fingerprinter#id} of the same input
 * @param kind       kind of the first statement in the text; {@link StatementKind#OTHER} when the
 *                   text holds no statement
 * @param readOnly   true when every statement in the text is syntactically read-only (see
 *                   {@link Fingerprinter}); false for an empty text
 * @param statements number of non-empty statements separated by {@code ;} (a simple Query may hold
 *                   several)
 * @param hints      the leading <code>/* sluice: key=value, ... *&#47;</code> hint, keys lower-cased,
 *                   in written order; empty when absent or malformed; unmodifiable
 */
public record Fingerprint(long id, StatementKind kind, boolean readOnly, int statements,
                          Map<String, String> hints) {
}

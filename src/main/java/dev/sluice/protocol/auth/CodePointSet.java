package dev.sluice.protocol.auth;

import java.util.Arrays;

/** An immutable set of Unicode code points stored as sorted, disjoint, inclusive ranges. */
final class CodePointSet {

    private final int[] starts;
    private final int[] ends;

    private CodePointSet(int[] starts, int[] ends) {
        this.starts = starts;
        this.ends = ends;
    }

    /**
     * Parses ranges written as in RFC 3454's appendices, separated by white space: {@code XXXX} for
     * one code point, {@code XXXX-YYYY} for an inclusive range. Ranges must be ascending and disjoint.
     */
    static CodePointSet parse(String ranges) {
        String[] items = ranges.strip().split("\\s+");
        int[] starts = new int[items.length];
        int[] ends = new int[items.length];
        for (int i = 0; i < items.length; i++) {
            int dash = items[i].indexOf('-');
            starts[i] = Integer.parseInt(dash < 0 ? items[i] : items[i].substring(0, dash), 16);
            ends[i] = dash < 0 ? starts[i] : Integer.parseInt(items[i].substring(dash + 1), 16);
            if (ends[i] < starts[i] || (i > 0 && starts[i] <= ends[i - 1])) {
                throw new IllegalArgumentException("range " + items[i] + " is not ascending and disjoint");
            }
        }
        return new CodePointSet(starts, ends);
    }

    boolean contains(int codePoint) {
        int i = Arrays.binarySearch(starts, codePoint);
        if (i >= 0) {
            return true;
        }
        int before = -i - 2;
        return before >= 0 && codePoint <= ends[before];
    }
}

package dev.sluice.admission;

import java.util.Locale;

/**
 * Priority classes of work waiting for a server connection, highest first. The declaration order
 * is the order of precedence: {@code CRITICAL.compareTo(HIGH) < 0}. In configuration, hints and
 * messages a class is named by {@link #configName()} (lower case).
 */
public enum Priority {
    CRITICAL, HIGH, NORMAL, LOW, BACKGROUND;

    private static final Priority[] VALUES = values();

    /** The name used in configuration and hints, e.g. {@code "high"}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether this class goes before {@code other}. */
    public boolean isHigherThan(Priority other) {
        return ordinal() < other.ordinal();
    }

    /** The class {@code steps} above this one, stopping at {@link #CRITICAL}. */
    public Priority raisedBy(int steps) {
        return VALUES[Math.max(0, ordinal() - Math.max(0, steps))];
    }

    /**
     * The class named {@code text} (case-insensitive, surrounding blanks ignored).
     *
     * @throws IllegalArgumentException naming the value and the allowed names
     */
    public static Priority parse(String text) {
        String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        for (Priority p : VALUES) {
            if (p.configName().equals(t)) {
                return p;
            }
        }
        throw new IllegalArgumentException("priority '" + text
                + "' is not one of critical, high, normal, low, background");
    }
}

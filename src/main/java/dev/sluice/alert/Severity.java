package dev.sluice.alert;

import java.util.Locale;

/** How bad an alert is. A firing alert has exactly one severity at a time; it may change. */
public enum Severity {
    WARNING, CRITICAL;

    /** The lower-case name used in JSON and logs: {@code warning}, {@code critical}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}

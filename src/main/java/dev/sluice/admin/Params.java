package dev.sluice.admin;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads and checks query parameters; every problem is an {@link IllegalArgumentException} whose
 * message names the parameter, the value and what is allowed, which the server answers with 400.
 */
final class Params {
    private final AdminRequest request;

    private Params(AdminRequest request) {
        this.request = request;
    }

    /** The parameters of {@code request}; refuses names outside {@code allowed}, and repeated ones. */
    static Params of(AdminRequest request, String... allowed) {
        Set<String> ok = Set.of(allowed);
        for (var e : request.params().entrySet()) {
            if (!ok.contains(e.getKey())) {
                throw new IllegalArgumentException("unknown parameter '" + e.getKey() + "' for " + request.path()
                        + (allowed.length == 0 ? " (it takes none)" : " (expected: " + String.join(", ", allowed) + ")"));
            }
            if (e.getValue().size() > 1) {
                throw new IllegalArgumentException("parameter '" + e.getKey() + "' is given " + e.getValue().size()
                        + " times (expected once)");
            }
        }
        return new Params(request);
    }

    /** The value, or null when absent; an empty value is refused. */
    String text(String name) {
        String v = request.param(name);
        if (v != null && v.isBlank()) {
            throw new IllegalArgumentException("parameter '" + name + "' is empty (leave it out, or give a value)");
        }
        return v == null ? null : v.strip();
    }

    /** One of {@code choices} (case-insensitive, returned lower-case), or {@code otherwise} when absent. */
    String choice(String name, List<String> choices, String otherwise) {
        String v = text(name);
        if (v == null) {
            return otherwise;
        }
        String lower = v.toLowerCase(Locale.ROOT);
        if (!choices.contains(lower)) {
            throw new IllegalArgumentException("parameter '" + name + "': '" + v + "' is not allowed (expected one of "
                    + String.join(", ", choices) + ")");
        }
        return lower;
    }

    /** An integer from {@code min} to {@code max}, or {@code otherwise} when absent. */
    int integer(String name, int min, int max, int otherwise) {
        String v = text(name);
        if (v == null) {
            return otherwise;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalArgumentException("parameter '" + name + "': '" + v + "' is not allowed (expected an integer from "
                + min + " to " + max + ")");
    }

    /** A required integer from {@code min} to {@code max}. */
    int requiredInteger(String name, int min, int max) {
        if (text(name) == null) {
            throw new IllegalArgumentException("parameter '" + name + "' is required (expected an integer from "
                    + min + " to " + max + ")");
        }
        return integer(name, min, max, 0);
    }
}

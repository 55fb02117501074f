package dev.sluice.config;

import dev.sluice.config.SluiceConfig.HostPort;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsers for the text forms of configuration values. Each takes the label to name in a message
 * (a dotted key or an environment variable) and throws a one-line {@link ConfigException} of the
 * shape {@code label: value problem (expected ...)}.
 */
final class Values {

    private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");
    private static final Pattern DURATION = Pattern.compile("([+-]?\\d+)\\s*(ms|s|m|h)?");
    private static final Pattern SIZE = Pattern.compile("([+-]?\\d+)\\s*([a-zA-Z]*)");
    private static final Duration MAX_DURATION = Duration.ofDays(365);
    private static final String DURATION_FORMS = "a whole number followed by ms, s, m or h, e.g. 30s; a plain number means seconds";
    private static final String SIZE_FORMS = "a whole number followed by B, kB, MB or GB, e.g. 64MB; a plain number means bytes";

    private Values() {
    }

    static long integer(String label, String text, long min, long max) throws ConfigException {
        String t = text.strip();
        String expected = "(expected an integer from " + min + " to " + max + ")";
        if (!INTEGER.matcher(t).matches()) {
            throw new ConfigException(label + ": " + show(text) + " is not an integer " + expected);
        }
        long value;
        try {
            value = Long.parseLong(t);
        } catch (NumberFormatException tooLong) {
            throw new ConfigException(label + ": " + show(text) + " is not allowed " + expected);
        }
        if (value < min || value > max) {
            throw new ConfigException(label + ": " + show(text) + " is not allowed " + expected);
        }
        return value;
    }

    static Duration duration(String label, String text, Duration min) throws ConfigException {
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            throw new ConfigException(label + ": " + show(text) + " is not a duration (expected " + DURATION_FORMS + ")");
        }
        String expected = "(expected a duration from " + format(min) + " to " + format(MAX_DURATION) + ")";
        long amount;
        try {
            amount = Long.parseLong(m.group(1));
        } catch (NumberFormatException tooLong) {
            throw new ConfigException(label + ": " + show(text) + " is not allowed " + expected);
        }
        String unit = m.group(2) == null ? "s" : m.group(2);
        // compare in the unit given, so an absurd amount cannot overflow Duration
        long limit = switch (unit) {
            case "ms" -> MAX_DURATION.toMillis();
            case "s" -> MAX_DURATION.toSeconds();
            case "m" -> MAX_DURATION.toMinutes();
            default -> MAX_DURATION.toHours();
        };
        if (amount < 0 || amount > limit) {
            throw new ConfigException(label + ": " + show(text) + " is not allowed " + expected);
        }
        Duration d = switch (unit) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
        };
        if (d.compareTo(min) < 0) {
            throw new ConfigException(label + ": " + show(text) + " is not allowed " + expected);
        }
        return d;
    }

    /** A size in bytes; units are binary (1kB = 1024 B), as in postgresql.conf. */
    static long size(String label, String text, long min, long max) throws ConfigException {
        Matcher m = SIZE.matcher(text.strip());
        long factor = -1;
        if (m.matches()) {
            factor = switch (m.group(2).toUpperCase(Locale.ROOT)) {
                case "", "B" -> 1L;
                case "KB" -> 1L << 10;
                case "MB" -> 1L << 20;
                case "GB" -> 1L << 30;
                default -> -1L;
            };
        }
        if (factor < 0) {
            throw new ConfigException(label + ": " + show(text) + " is not a size (expected " + SIZE_FORMS + ")");
        }
        String expected = "(expected a size from " + formatSize(min) + " to " + formatSize(max) + ")";
        long amount;
        try {
            amount = Long.parseLong(m.group(1));
        } catch (NumberFormatException tooLong) {
            throw new ConfigException(label + ": " + show(text) + " is not allowed " + expected);
        }
        if (amount < 0 || amount > max / factor || amount * factor < min) {
            throw new ConfigException(label + ": " + show(text) + " is not allowed " + expected);
        }
        return amount * factor;
    }

    /** One of a fixed set of names, matched case-insensitively; {@code names} in display order. */
    static <E> E choice(String label, String text, List<String> names, List<E> values) throws ConfigException {
        String t = text.strip().toLowerCase(Locale.ROOT);
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).equals(t)) {
                return values.get(i);
            }
        }
        throw new ConfigException(label + ": " + show(text) + " is not allowed (expected one of " + String.join(", ", names) + ")");
    }

    /** {@code HOST:PORT} or {@code [IPV6]:PORT}; ports from {@code minPort} to 65535. */
    static HostPort hostPort(String label, String text, int minPort) throws ConfigException {
        String t = text.strip();
        String host;
        String port;
        if (t.startsWith("[")) {
            int close = t.indexOf(']');
            if (close < 0 || close + 1 >= t.length() || t.charAt(close + 1) != ':') {
                throw notHostPort(label, text);
            }
            host = t.substring(1, close);
            port = t.substring(close + 2);
        } else {
            int colon = t.lastIndexOf(':');
            if (colon < 0 || t.indexOf(':') != colon) {
                throw notHostPort(label, text);
            }
            host = t.substring(0, colon);
            port = t.substring(colon + 1);
        }
        if (host.isEmpty() || !port.chars().allMatch(Character::isDigit) || port.isEmpty()) {
            throw notHostPort(label, text);
        }
        if (port.length() > 5 || Integer.parseInt(port) < minPort || Integer.parseInt(port) > 65535) {
            throw new ConfigException(label + ": " + show(text) + " is not allowed (expected a port from " + minPort + " to 65535)");
        }
        return new HostPort(host, Integer.parseInt(port));
    }

    private static ConfigException notHostPort(String label, String text) {
        return new ConfigException(label + ": " + show(text) + " is not a host and port (expected HOST:PORT, e.g. 127.0.0.1:6432)");
    }

    /** A value as shown in messages: integers bare, anything else quoted, one line always. */
    static String show(String text) {
        if (INTEGER.matcher(text).matches()) {
            return text;
        }
        String oneLine = text.replace("\r", "\\r").replace("\n", "\\n");
        if (oneLine.length() > 80) {
            oneLine = oneLine.substring(0, 77) + "...";
        }
        return "'" + oneLine + "'";
    }

    /** A duration in the largest unit that shows it exactly: 30s, 10m, 1h, 250ms. */
    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) {
            return "0";
        } else if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        } else if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        } else if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    static String formatSize(long bytes) {
        if (bytes != 0 && bytes % (1L << 30) == 0) {
            return (bytes >> 30) + "GB";
        } else if (bytes != 0 && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + "MB";
        } else if (bytes != 0 && bytes % (1L << 10) == 0) {
            return (bytes >> 10) + "kB";
        }
        return bytes + "B";
    }

    /** The known name closest to {@code name} if it is a likely typo (at most two edits away). */
    static Optional<String> closest(String name, Iterable<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String k : known) {
            int d = distance(name, k);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Levenshtein distance. */
    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] swap = prev;
            prev = cur;
            cur = swap;
        }
        return prev[b.length()];
    }
}

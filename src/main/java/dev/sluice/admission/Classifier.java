package dev.sluice.admission;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Gives each request a {@link Priority} from configured rules and the client's hint.
 *
 * <p>Contract of {@link #classify}:
 * <ol>
 * <li>The first {@link Rule} (in configuration order) whose attribute matches the client gives
 *     the base priority and whether a hint may raise it; when none matches, the default
 *     priority applies and a hint may not raise it.</li>
 * <li>A hint ({@code /* sluice: priority=X *}{@code /}, its value passed in as a string) may
 *     always lower the priority; it raises it only where the matched rule allows. A hint that
 *     names no class is ignored, so a typo never raises anything.</li>
 * </ol>
 * Rules match exactly on database, user and application_name (as PostgreSQL compares names,
 * case-sensitive), and by CIDR range on the client address. Immutable and thread-safe.
 */
public final class Classifier {

    /** What a rule looks at. */
    public enum Attribute {
        DATABASE, USER, APPLICATION_NAME, ADDRESS;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Attribute parse(String text) {
            for (Attribute a : values()) {
                if (a.configName().equals(text.strip().toLowerCase(Locale.ROOT))) {
                    return a;
                }
            }
            throw new IllegalArgumentException("priority rule attribute '" + text
                    + "' is not one of database, user, application_name, address");
        }
    }

    /**
     * What is known of a client when it asks for a server connection; any part may be null.
     *
     * @param address the client's IP address, null for a Unix socket
     */
    public record Client(String database, String user, String applicationName, InetAddress address) {
    }

    /**
     * One rule: clients whose {@code attribute} matches {@code value} get {@code priority}.
     *
     * @param value        a name, or for {@link Attribute#ADDRESS} an address or CIDR range
     *                     ({@code 10.0.0.0/8}, {@code fd00::/8}, {@code 127.0.0.1})
     * @param hintMayRaise whether a hint may raise these clients' priority above {@code priority}
     */
    public record Rule(Attribute attribute, String value, Priority priority, boolean hintMayRaise) {
        public Rule {
            Objects.requireNonNull(attribute);
            Objects.requireNonNull(value);
            Objects.requireNonNull(priority);
            if (attribute == Attribute.ADDRESS) {
                AddressRange.parse(value);
            }
        }

        /**
         * Parses the command-line form {@code attribute=value:priority[:raise]}, e.g.
         * {@code application_name=checkout:high}, {@code user=ops:critical:raise},
         * {@code address=10.0.0.0/8:low}, {@code address=fd00::/8:low}. The priority is the last
         * {@code :} field (before the optional {@code raise}), so values may contain colons.
         *
         * @throws IllegalArgumentException naming the rule and the expected form
         */
        public static Rule parse(String text) {
            String t = text == null ? "" : text.strip();
            try {
                int eq = t.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("no '='");
                }
                Attribute attribute = Attribute.parse(t.substring(0, eq));
                String rest = t.substring(eq + 1);
                boolean raise = false;
                int colon = rest.lastIndexOf(':');
                if (colon >= 0 && rest.substring(colon + 1).strip().equalsIgnoreCase("raise")) {
                    raise = true;
                    rest = rest.substring(0, colon);
                    colon = rest.lastIndexOf(':');
                }
                if (colon <= 0) {
                    throw new IllegalArgumentException("no ':priority' after a value");
                }
                Priority p = Priority.parse(rest.substring(colon + 1));
                return new Rule(attribute, rest.substring(0, colon).strip(), p, raise);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("priority rule '" + text + "': " + e.getMessage()
                        + " (expected: database|user|application_name|address=VALUE:PRIORITY[:raise],"
                        + " e.g. application_name=checkout:high)", e);
            }
        }
    }

    private final List<Rule> rules;
    private final List<AddressRange> ranges;
    private final Priority defaultPriority;

    public Classifier(List<Rule> rules, Priority defaultPriority) {
        this.rules = List.copyOf(rules);
        this.ranges = parseRanges(this.rules);
        this.defaultPriority = Objects.requireNonNull(defaultPriority);
    }

    private static List<AddressRange> parseRanges(List<Rule> rules) {
        AddressRange[] out = new AddressRange[rules.size()];
        for (int i = 0; i < out.length; i++) {
            Rule r = rules.get(i);
            out[i] = r.attribute() == Attribute.ADDRESS ? AddressRange.parse(r.value()) : AddressRange.NONE;
        }
        return List.of(out);
    }

    /**
     * The priority of a request from {@code client} carrying {@code hint} (null when the
     * statement has none).
     */
    public Priority classify(Client client, String hint) {
        Priority base = defaultPriority;
        boolean mayRaise = false;
        for (int i = 0; i < rules.size(); i++) {
            Rule r = rules.get(i);
            boolean match = switch (r.attribute()) {
                case DATABASE -> r.value().equals(client.database());
                case USER -> r.value().equals(client.user());
                case APPLICATION_NAME -> r.value().equals(client.applicationName());
                case ADDRESS -> client.address() != null && ranges.get(i).contains(client.address());
            };
            if (match) {
                base = r.priority();
                mayRaise = r.hintMayRaise();
                break;
            }
        }
        if (hint == null || hint.isBlank()) {
            return base;
        }
        Priority wanted;
        try {
            wanted = Priority.parse(hint);
        } catch (IllegalArgumentException e) {
            return base;
        }
        if (wanted.isHigherThan(base) && !mayRaise) {
            return base;
        }
        return wanted;
    }

    public List<Rule> rules() {
        return rules;
    }

    public Priority defaultPriority() {
        return defaultPriority;
    }

    /** An IPv4 or IPv6 CIDR range, parsed from literals only (never a DNS lookup). */
    record AddressRange(byte[] network, int prefix) {
        static final AddressRange NONE = new AddressRange(new byte[0], 0);

        static AddressRange parse(String text) {
            String t = text.strip();
            int slash = t.indexOf('/');
            String addr = slash < 0 ? t : t.substring(0, slash);
            byte[] bytes = literal(addr);
            int bits = bytes.length * 8;
            int prefix = bits;
            if (slash >= 0) {
                try {
                    prefix = Integer.parseInt(t.substring(slash + 1));
                } catch (NumberFormatException e) {
                    prefix = -1;
                }
                if (prefix < 0 || prefix > bits) {
                    throw new IllegalArgumentException("address range '" + text + "' has a prefix outside 0.." + bits);
                }
            }
            return new AddressRange(bytes, prefix);
        }

        boolean contains(InetAddress a) {
            byte[] b = a.getAddress();
            if (b.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (b[i] != network[i]) {
                    return false;
                }
            }
            int rem = prefix % 8;
            if (rem == 0) {
                return true;
            }
            int mask = 0xff << (8 - rem) & 0xff;
            return (b[full] & mask) == (network[full] & mask);
        }

        private static byte[] literal(String addr) {
            if (addr.indexOf(':') >= 0) {
                if (!addr.matches("[0-9A-Fa-f:.]+")) {
                    throw new IllegalArgumentException("'" + addr + "' is not an IPv6 address");
                }
                try {
                    // a literal containing ':' is parsed, never resolved
                    return InetAddress.getByName(addr).getAddress();
                } catch (UnknownHostException e) {
                    throw new IllegalArgumentException("'" + addr + "' is not an IPv6 address", e);
                }
            }
            String[] parts = addr.split("\\.", -1);
            if (parts.length != 4) {
                throw new IllegalArgumentException("'" + addr + "' is not an IPv4 or IPv6 address");
            }
            byte[] out = new byte[4];
            for (int i = 0; i < 4; i++) {
                if (!parts[i].matches("\\d{1,3}") || Integer.parseInt(parts[i]) > 255) {
                    throw new IllegalArgumentException("'" + addr + "' is not an IPv4 or IPv6 address");
                }
                out[i] = (byte) Integer.parseInt(parts[i]);
            }
            return out;
        }
    }
}

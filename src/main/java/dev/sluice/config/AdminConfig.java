package dev.sluice.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Settings of the admin HTTP API besides its address.
 *
 * <p>Contract: when {@code token} is present, every admin request except the health probes
 * ({@code /health/live}, {@code /health/ready}) must carry {@code Authorization: Bearer <token>}.
 * When {@code admin_listen} is not a loopback address ({@link #isLoopback}), the configuration is
 * refused unless a token is set, so the API is never reachable from the network without one.
 *
 * @param token the bearer token ({@code admin_token}), empty when none is set
 */
public record AdminConfig(Optional<String> token) {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    public AdminConfig {
        Objects.requireNonNull(token);
    }

    /** No token. */
    public static AdminConfig none() {
        return new AdminConfig(Optional.empty());
    }

    /**
     * Whether {@code host}, as written in {@code admin_listen}, is a loopback address:
     * {@code localhost}, an IPv4 literal in 127.0.0.0/8 or the IPv6 literal {@code ::1} (brackets
     * allowed). Any other name is taken as not loopback without asking DNS, and so are the
     * wildcards ({@code 0.0.0.0}, {@code ::}), which listen on every interface.
     */
    public static boolean isLoopback(String host) {
        String h = host.strip();
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        if (h.toLowerCase(Locale.ROOT).equals("localhost")) {
            return true;
        }
        if (!IPV4.matcher(h).matches() && h.indexOf(':') < 0) {
            return false; // a host name: never resolved here
        }
        try {
            // a literal: getByName parses it without a DNS look-up
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (UnknownHostException | SecurityException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return "AdminConfig[token=" + (token.isPresent() ? "***" : "none") + "]";
    }
}

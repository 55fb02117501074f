package dev.sluice.config;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A libpq-style connection URL naming one upstream database:
 * {@code postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE} (also {@code postgres://}). User,
 * password and database are percent-decoded; the port defaults to 5432. Query parameters are
 * refused rather than silently ignored.
 */
record UpstreamUrl(String user, Optional<String> password, String host, int port, String database) {

    private static final String FORM = "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE";

    @Override
    public String toString() {
        return "UpstreamUrl[" + user + "@" + host + ":" + port + "/" + database + "]";
    }

    static UpstreamUrl parse(String label, String text) throws ConfigException {
        String t = text.strip();
        String rest;
        if (t.startsWith("postgresql://")) {
            rest = t.substring("postgresql://".length());
        } else if (t.startsWith("postgres://")) {
            rest = t.substring("postgres://".length());
        } else {
            throw bad(label, text, "is not a postgresql:// URL");
        }
        // the last '@' ends the user info, so an unencoded '@' or '/' in a password still works
        int at = rest.lastIndexOf('@');
        if (at < 0) {
            throw bad(label, text, "has no user");
        }
        String userInfo = rest.substring(0, at);
        String hostPart = rest.substring(at + 1);
        int colon = userInfo.indexOf(':');
        String user = decode(label, text, colon < 0 ? userInfo : userInfo.substring(0, colon));
        Optional<String> password = colon < 0
                ? Optional.empty()
                : Optional.of(decode(label, text, userInfo.substring(colon + 1)));
        if (user.isEmpty()) {
            throw bad(label, text, "has no user");
        }
        int slash = hostPart.indexOf('/');
        if (slash < 0 || slash == hostPart.length() - 1) {
            throw bad(label, text, "has no database");
        }
        String authority = hostPart.substring(0, slash);
        String path = hostPart.substring(slash + 1);
        if (path.indexOf('?') >= 0 || path.indexOf('#') >= 0) {
            throw bad(label, text, "has query parameters, which are not supported");
        }
        String database = decode(label, text, path);
        if (database.isEmpty() || database.indexOf('/') >= 0) {
            throw bad(label, text, "has no single database name");
        }
        String host;
        String port = "";
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0) {
                throw bad(label, text, "has a malformed host");
            }
            host = authority.substring(1, close);
            String after = authority.substring(close + 1);
            if (!after.isEmpty()) {
                if (!after.startsWith(":")) {
                    throw bad(label, text, "has a malformed host");
                }
                port = after.substring(1);
            }
        } else {
            int c = authority.indexOf(':');
            host = c < 0 ? authority : authority.substring(0, c);
            port = c < 0 ? "" : authority.substring(c + 1);
        }
        if (host.isEmpty()) {
            throw bad(label, text, "has no host");
        }
        int portNumber = 5432;
        if (!port.isEmpty()) {
            if (port.length() > 5 || !port.chars().allMatch(Character::isDigit)
                    || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
                throw bad(label, text, "has a port outside 1 to 65535");
            }
            portNumber = Integer.parseInt(port);
        }
        return new UpstreamUrl(user, password, host, portNumber, database);
    }

    private static ConfigException bad(String label, String text, String problem) {
        return new ConfigException(label + ": " + Values.show(masked(text)) + " " + problem + " (expected " + FORM + ")");
    }

    /** The URL with any password replaced by {@code ***}, for messages. */
    static String masked(String text) {
        int scheme = text.indexOf("://");
        int at = text.lastIndexOf('@');
        if (scheme < 0 || at < scheme) {
            return text;
        }
        int colon = text.indexOf(':', scheme + 3);
        if (colon < 0 || colon > at) {
            return text;
        }
        return text.substring(0, colon + 1) + "***" + text.substring(at);
    }

    private static String decode(String label, String text, String s) throws ConfigException {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                int hi = i + 1 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
                int lo = i + 2 < s.length() ? Character.digit(s.charAt(i + 2), 16) : -1;
                if (hi < 0 || lo < 0) {
                    throw bad(label, text, "has a malformed percent-encoding");
                }
                bytes.write(hi * 16 + lo);
                i += 2;
            } else {
                byte[] utf8 = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                if (Character.isHighSurrogate(c) && i + 1 < s.length()) {
                    utf8 = s.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                    i++;
                }
                bytes.writeBytes(utf8);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw bad(label, text, "has percent-encoded bytes that are not UTF-8");
        }
    }
}

package dev.sluice.protocol.auth;

/**
 * Reads the comma-separated {@code name=value} attributes of a SCRAM message (RFC 5802 section 7)
 * from left to right. Error messages name the attribute expected, never a value.
 */
final class ScramReader {

    private final String message;
    private int position;

    ScramReader(String message) throws AuthException {
        if (message == null || message.isEmpty()) {
            throw new AuthException("malformed SCRAM message: empty message");
        }
        this.message = message;
    }

    boolean atEnd() {
        return position == message.length();
    }

    int position() {
        return position;
    }

    /** The next character, or 0 at the end. */
    char peek() {
        return atEnd() ? 0 : message.charAt(position);
    }

    void expect(char c) throws AuthException {
        if (peek() != c) {
            throw new AuthException("malformed SCRAM message: expected '" + c + "' at position " + position);
        }
        position++;
    }

    /** Reads {@code name=value} and the comma after it; returns the value. */
    String attribute(char name) throws AuthException {
        if (peek() != name) {
            throw new AuthException("malformed SCRAM message: expected attribute '" + name + "'");
        }
        return readValue(name);
    }

    /** One {@code name=value} pair. */
    record Attribute(char name, String value) {
    }

    /** Reads any attribute and the comma after it. */
    Attribute anyAttribute() throws AuthException {
        char name = peek();
        if (!(name >= 'a' && name <= 'z' || name >= 'A' && name <= 'Z')) {
            throw new AuthException("malformed SCRAM message: expected an attribute at position " + position);
        }
        return new Attribute(name, readValue(name));
    }

    private String readValue(char name) throws AuthException {
        position++;
        expect('=');
        int end = message.indexOf(',', position);
        if (end < 0) {
            end = message.length();
        }
        String value = message.substring(position, end);
        position = end;
        if (!atEnd()) {
            position++;
            if (atEnd()) {
                throw new AuthException("malformed SCRAM message: trailing comma after attribute '" + name + "'");
            }
        }
        return value;
    }

    /** Whether {@code nonce} is a valid SCRAM nonce: printable ASCII except comma, not empty. */
    static boolean isValidNonce(String nonce) {
        return !nonce.isEmpty() && nonce.chars().allMatch(c -> c >= 0x21 && c <= 0x7E && c != ',');
    }
}

package dev.sluice.config;

/**
 * An impossible configuration value: Sluice refuses to start. The message is one line that names
 * the key (or the environment variable or file it came from), the value, and what is allowed, for
 * example {@code pool.size: 0 is not allowed (expected an integer from 1 to 10000)}. Passwords
 * never appear in it.
 */
public final class ConfigException extends Exception {

    /** @param message one line: key, value and what is allowed */
    public ConfigException(String message) {
        super(message);
    }
}

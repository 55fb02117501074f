package dev.sluice.demo;

import dev.sluice.config.SluiceConfig;
import java.io.IOException;

/**
 * An embedded PostgreSQL with a demo database, for {@code sluice run} without an upstream.
 * (Placeholder on the config branch so the command line compiles; the real one lands separately.)
 */
public final class DemoDatabase implements AutoCloseable {

    private DemoDatabase() {
    }

    /** Starts the embedded PostgreSQL and creates the demo database and user. */
    public static DemoDatabase start() throws IOException {
        throw new IOException("the embedded demo database is not part of this build");
    }

    /** The database entry clients use to reach the demo database. */
    public SluiceConfig.DatabaseConfig database() {
        throw new IllegalStateException("not started");
    }

    /** The user clients log in as. */
    public SluiceConfig.UserConfig user() {
        throw new IllegalStateException("not started");
    }

    /** Stops the embedded PostgreSQL. */
    @Override
    public void close() {
    }
}

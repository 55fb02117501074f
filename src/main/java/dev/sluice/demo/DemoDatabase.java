package dev.sluice.demo;

import dev.sluice.config.SluiceConfig;
import java.io.IOException;
import java.util.Optional;

/**
 * The database {@code sluice run} serves when no upstream is configured: an
 * {@link EmbeddedPostgres} that accepts only scram-sha-256 logins on 127.0.0.1, with role
 * {@code user} (password {@code password}) owning database {@code demo}, which holds a small table
 * {@code items(id serial primary key, name text, price numeric)} with a few rows.
 */
public final class DemoDatabase implements AutoCloseable {

    static final String DATABASE = "demo";
    static final String USER = "user";
    static final String PASSWORD = "password";

    private static final String SAMPLE_DATA = """
            SET ROLE "user";
            CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, price numeric(10, 2) NOT NULL);
            INSERT INTO items (name, price) VALUES
                ('espresso', 2.20), ('cappuccino', 3.10), ('croissant', 1.90),
                ('bagel', 2.50), ('orange juice', 3.40);
            RESET ROLE;
            """;

    private final EmbeddedPostgres postgres;

    private DemoDatabase(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    /** Starts the embedded server and creates the demo role, database and table. */
    public static DemoDatabase start() throws IOException {
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .hbaLine("host all all 127.0.0.1/32 scram-sha-256")
                .serverConfig("password_encryption", "scram-sha-256")
                .initSql("CREATE ROLE \"" + USER + "\" LOGIN PASSWORD '" + PASSWORD + "'")
                .initSql("CREATE DATABASE " + DATABASE + " OWNER \"" + USER + "\"")
                .start();
        try {
            pg.execute(DATABASE, SAMPLE_DATA);
        } catch (IOException | RuntimeException e) {
            pg.close();
            throw e;
        }
        return new DemoDatabase(pg);
    }

    /** The configuration entry clients use to reach the demo database through Sluice. */
    public SluiceConfig.DatabaseConfig database() {
        return new SluiceConfig.DatabaseConfig(DATABASE, postgres.host(), postgres.port(), DATABASE,
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** The demo login: {@code user} / {@code password}. */
    public SluiceConfig.UserConfig user() {
        return new SluiceConfig.UserConfig(USER, PASSWORD);
    }

    public EmbeddedPostgres postgres() {
        return postgres;
    }

    /** Stops the server and deletes its files. */
    @Override
    public void close() {
        postgres.close();
    }
}

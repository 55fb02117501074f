package dev.sluice.frontend;

import io.netty.channel.Channel;
import java.util.concurrent.CompletionStage;

/**
 * The admin console reached through the client port under the database names {@code sluice} and
 * {@code pgbouncer} (as PgBouncer's). The frontend authenticates the client as usual, checks
 * {@link #allowed}, greets it, and hands every simple Query to {@link #execute}; the console
 * writes the answer and the frontend adds ReadyForQuery. Other message types are refused.
 */
public interface AdminConsole {

    /** The database names that reach the console. */
    static boolean isConsoleDatabase(String database) {
        return "sluice".equals(database) || "pgbouncer".equals(database);
    }

    /** Whether {@code user} (authenticated) may use the console ({@code admin_users}). */
    boolean allowed(String user);

    /**
     * Answers one query string of {@code user}: writes RowDescription/DataRow/CommandComplete,
     * or an ErrorResponse, to {@code channel} (without flushing and without ReadyForQuery) and
     * completes once written. May complete later (PAUSE waits); never blocks the calling thread,
     * which is the client's event loop.
     */
    CompletionStage<Void> execute(Channel channel, String user, String sql);
}

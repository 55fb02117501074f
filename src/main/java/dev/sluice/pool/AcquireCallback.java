package dev.sluice.pool;

import dev.sluice.backend.ServerConnection;

/**
 * Result of {@link Pool#acquire}. Exactly one method is called, on the event loop the caller
 * named: directly inside {@code acquire} when an idle connection can be handed over at once,
 * later otherwise.
 */
public interface AcquireCallback {

    /** A server connection is now the caller's until it is released or discarded. */
    void acquired(ServerConnection server);

    /** No server connection could be had; {@code sqlState} and {@code message} go to the client. */
    void failed(String sqlState, String message);
}

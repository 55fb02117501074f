package dev.sluice.backend;

import io.netty.buffer.ByteBuf;

/**
 * The client session a server connection is currently lent to. Calls arrive on the server
 * connection's event loop; an implementation on another loop hops to its own.
 */
public interface ServerListener {

    /** Bytes from PostgreSQL; ownership of {@code data} passes to the listener. */
    void serverRead(ServerConnection server, ByteBuf data);

    /** The server connection closed or failed; {@code reason} says why. */
    void serverClosed(ServerConnection server, String reason);

    /** The server channel's writability changed (backpressure towards PostgreSQL). */
    void serverWritabilityChanged(ServerConnection server, boolean writable);

    /** The id of the client this connection is lent to, for monitoring; 0 when unknown. */
    default int clientId() {
        return 0;
    }
}

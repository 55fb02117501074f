package dev.sluice.frontend;

import dev.sluice.config.SluiceConfig;
import java.time.Duration;

/**
 * The running proxy: a listening socket for clients plus the pools behind it.
 * (Skeleton: the implementation lands with the core proxy.)
 */
public final class ProxyServer implements AutoCloseable {

    private ProxyServer() {
    }

    /** Binds the client port and starts serving; returns once the port is bound. */
    public static ProxyServer start(SluiceConfig config) throws InterruptedException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** The bound client port (useful when the configuration asked for port 0). */
    public int port() {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /**
     * Stops accepting, lets transactions in flight finish for at most {@code timeout}, then closes
     * every connection. Idempotent.
     */
    public void shutdownGracefully(Duration timeout) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** Closes everything at once. */
    @Override
    public void close() {
        shutdownGracefully(Duration.ZERO);
    }
}

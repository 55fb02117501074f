package dev.sluice.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP relay on 127.0.0.1 that passes bytes towards the upstream as they come and bytes from the
 * upstream one at a time, each in its own write with Nagle off. What the network may do to any
 * stream (cut a message anywhere) then happens on nearly every message, so code that must not
 * depend on message boundaries is tested on every byte boundary.
 */
public final class FragmentingRelay implements AutoCloseable {
    private final ServerSocket listener;
    private final String upstreamHost;
    private final int upstreamPort;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Set<Integer> upstreamLocalPorts = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private FragmentingRelay(String upstreamHost, int upstreamPort) throws IOException {
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.upstreamHost = upstreamHost;
        this.upstreamPort = upstreamPort;
    }

    public static FragmentingRelay start(String upstreamHost, int upstreamPort) throws IOException {
        FragmentingRelay r = new FragmentingRelay(upstreamHost, upstreamPort);
        Thread.ofPlatform().daemon().name("relay-accept").start(r::acceptLoop);
        return r;
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** The local ports of the relay's connections to the upstream (PostgreSQL's {@code client_port}). */
    public Set<Integer> upstreamLocalPorts() {
        return Set.copyOf(upstreamLocalPorts);
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket down = listener.accept();
                Socket up = new Socket(upstreamHost, upstreamPort);
                down.setTcpNoDelay(true);
                up.setTcpNoDelay(true);
                sockets.add(down);
                sockets.add(up);
                upstreamLocalPorts.add(up.getLocalPort());
                Thread.ofPlatform().daemon().name("relay-up").start(() -> copy(down, up, false));
                Thread.ofPlatform().daemon().name("relay-down").start(() -> {
                    copy(up, down, true);
                    upstreamLocalPorts.remove(up.getLocalPort());
                });
            } catch (IOException e) {
                if (!closed) {
                    throw new IllegalStateException("relay accept failed", e);
                }
            }
        }
    }

    private void copy(Socket from, Socket to, boolean byteByByte) {
        byte[] buf = new byte[8192];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) > 0) {
                if (byteByByte) {
                    for (int i = 0; i < n; i++) {
                        out.write(buf[i]);
                        out.flush();
                    }
                } else {
                    out.write(buf, 0, n);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // either side went away: the other is closed below, as a real network path would be
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        listener.close();
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }
}

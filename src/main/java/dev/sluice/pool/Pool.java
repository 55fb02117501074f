package dev.sluice.pool;

import dev.sluice.backend.ServerConnection;
import dev.sluice.backend.ServerEndpoint;
import dev.sluice.config.SluiceConfig.PoolConfig;
import dev.sluice.config.SluiceConfig.PoolMode;
import dev.sluice.protocol.SqlState;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server connections for one (database, user) pair.
 *
 * <p>Design notes. Callers on any event loop {@link #acquire} a connection and get it through a
 * callback on their own loop: at once when one is idle, after a new login when the pool is below
 * its size, or when another caller releases one; a waiter whose deadline passes gets 57014.
 * Idle connections are kept per event loop and a caller first takes one from its own loop, so the
 * client and the server connection it uses usually share a thread and bytes move between them
 * without a thread hop. New connections are opened on the asking caller's loop for the same
 * reason. All shared state sits behind one lock held only for a few field updates; connects,
 * callbacks and health checks run outside it.
 */
public final class Pool implements ServerConnection.Owner {
    private static final Logger log = LoggerFactory.getLogger(Pool.class);

    private final String name;
    private final ServerEndpoint endpoint;
    private final PoolMode mode;
    private final int size;
    private final PoolConfig config;
    private final Class<? extends SocketChannel> channelClass;
    private final LoopIndex loops;

    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<ServerConnection>[] idle;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    /** Open plus opening connections. */
    private int total;
    private int idleCount;
    /** Connections being opened for nobody in particular (min idle). */
    private int spare;
    private volatile Map<String, String> serverParams;
    private volatile String lastConnectError;
    private boolean closed;

    @SuppressWarnings({"unchecked", "rawtypes"})
    Pool(String name, ServerEndpoint endpoint, PoolMode mode, int size, PoolConfig config,
         Class<? extends SocketChannel> channelClass, LoopIndex loops) {
        this.name = name;
        this.endpoint = endpoint;
        this.mode = mode;
        this.size = size;
        this.config = config;
        this.channelClass = channelClass;
        this.loops = loops;
        this.idle = new ArrayDeque[loops.size()];
        for (int i = 0; i < idle.length; i++) {
            idle[i] = new ArrayDeque<>();
        }
    }

    public String name() {
        return name;
    }

    public PoolMode mode() {
        return mode;
    }

    public ServerEndpoint endpoint() {
        return endpoint;
    }

    public Class<? extends SocketChannel> channelClass() {
        return channelClass;
    }

    /**
     * The ParameterStatus values PostgreSQL reported to the first connection of this pool, or
     * {@code null} before any connection logged in.
     */
    public Map<String, String> serverParams() {
        return serverParams;
    }

    /**
     * Asks for a server connection; the answer comes through {@code callback} on {@code loop}.
     */
    public void acquire(EventLoop loop, AcquireCallback callback) {
        Waiter w = new Waiter(loop, callback, System.nanoTime() + config.acquireTimeout().toNanos());
        ServerConnection found = null;
        boolean open = false;
        lock.lock();
        try {
            if (closed) {
                w.done = true;
            } else if (waiters.isEmpty() && idleCount > 0) {
                found = takeIdle(loops.index(loop));
                w.done = true;
            } else if (total < size) {
                total++;
                open = true;
                waiters.addLast(w);
            } else {
                waiters.addLast(w);
            }
        } finally {
            lock.unlock();
        }
        if (w.done && found == null) {
            loop.execute(() -> callback.failed(SqlState.ADMIN_SHUTDOWN, "pool " + name + " is closed"));
            return;
        }
        if (found != null) {
            checkThenDeliver(found, w);
            return;
        }
        if (open) {
            openConnection(loop);
        }
        // the deadline is enforced by expireWaiters, run every EXPIRY_PERIOD_MS: no timer per wait
    }

    /** Takes an idle connection, preferring one on {@code loopIndex}; lock held. */
    private ServerConnection takeIdle(int loopIndex) {
        ServerConnection s = idle[loopIndex].pollLast();
        for (int i = 0; s == null && i < idle.length; i++) {
            s = idle[i].pollLast();
        }
        if (s != null) {
            idleCount--;
        }
        return s;
    }

    private void checkThenDeliver(ServerConnection s, Waiter w) {
        long idleNanos = System.nanoTime() - s.idleSinceNanos;
        if (!s.isUsable()) {
            discard(s);
            retry(w);
        } else if (idleNanos >= config.serverCheckDelay().toNanos()) {
            s.runInternal(";", error -> {
                if (error == null) {
                    deliver(w, s);
                } else {
                    log.info("pool {}: health check of {} failed: {}", name, s, error);
                    discard(s);
                    retry(w);
                }
            });
        } else {
            deliver(w, s);
        }
    }

    private void retry(Waiter w) {
        w.done = false;
        acquire(w.loop, w.callback);
    }

    private void deliver(Waiter w, ServerConnection s) {
        if (w.loop.inEventLoop()) {
            w.callback.acquired(s);
        } else {
            w.loop.execute(() -> w.callback.acquired(s));
        }
    }

    private void fail(Waiter w, String sqlState, String message) {
        if (w.loop.inEventLoop()) {
            w.callback.failed(sqlState, message);
        } else {
            w.loop.execute(() -> w.callback.failed(sqlState, message));
        }
    }

    /** How often waiters are checked against their deadline, so a wait may last this much longer. */
    static final long EXPIRY_PERIOD_MS = 50;

    /**
     * Answers 57014 to every waiter whose deadline has passed. Waiters queue in arrival order with
     * the same timeout, so the expired ones are at the head.
     */
    void expireWaiters(long nowNanos) {
        List<Waiter> expired = null;
        lock.lock();
        try {
            Waiter w;
            while ((w = waiters.peekFirst()) != null && nowNanos - w.deadlineNanos >= 0) {
                waiters.pollFirst();
                w.done = true;
                if (expired == null) {
                    expired = new ArrayList<>();
                }
                expired.add(w);
            }
        } finally {
            lock.unlock();
        }
        if (expired == null) {
            return;
        }
        String cause = lastConnectError;
        String message = "waited " + config.acquireTimeout().toMillis() + " ms for a server connection to "
                + endpoint.label() + " without getting one (pool.acquire_timeout, pool size " + size + ")"
                + (cause == null ? "" : "; last connection error: " + cause);
        for (Waiter w : expired) {
            fail(w, SqlState.QUERY_CANCELED, message);
        }
    }

    private void openConnection(EventLoop loop) {
        ServerConnection.connect(endpoint, this, loop, loops.index(loop), channelClass);
    }

    /**
     * Gives a connection back. Connections that are broken, past their lifetime or in a
     * transaction are closed instead; a waiter, if any, gets the connection directly.
     */
    public void release(ServerConnection s) {
        s.listener(null);
        if (s.isUsable() && s.cancelsInFlight().get() > 0) {
            // a cancel may still hit this backend: keep it from other clients until it landed
            s.afterCancels(() -> release(s));
            return;
        }
        if (!s.isUsable() || s.transactionStatus != 'I') {
            discard(s);
            return;
        }
        s.channel().config().setAutoRead(true);
        if (s.resetQuery != null) {
            String q = s.resetQuery;
            s.resetQuery = null;
            s.runInternal(q, error -> {
                if (error == null) {
                    if (!ServerConnection.RESET_SETTINGS.equals(q)) {
                        s.statements().clear();
                    }
                    // not reported by ParameterStatus, so the reset is not seen otherwise
                    s.params().remove("search_path");
                    s.lastSession = null;
                    release(s);
                } else {
                    log.info("pool {}: reset of {} failed: {}", name, s, error);
                    discard(s);
                }
            });
            return;
        }
        long lifetime = config.serverLifetime().toNanos();
        if (lifetime > 0 && System.nanoTime() - s.createdNanos() > lifetime) {
            s.close("server_lifetime reached");
            discard(s);
            return;
        }
        Waiter w;
        lock.lock();
        try {
            w = waiters.pollFirst();
            if (w != null) {
                w.done = true;
            } else if (closed) {
                w = null;
            } else {
                s.idleSinceNanos = System.nanoTime();
                idle[s.loopIndex()].addLast(s);
                idleCount++;
                return;
            }
        } finally {
            lock.unlock();
        }
        if (w == null) {
            s.close("pool closed");
            discard(s);
        } else {
            deliver(w, s);
        }
    }

    /** Forgets a connection that will not be reused and closes it; opens a replacement for a waiter. */
    public void discard(ServerConnection s) {
        s.listener(null);
        s.close("discarded");
        boolean open = false;
        EventLoop loop = null;
        lock.lock();
        try {
            removeIdle(s);
            if (!s.countedOut) {
                s.countedOut = true;
                total--;
            }
            Waiter head = waiters.peekFirst();
            if (head != null && total < size && !closed) {
                total++;
                open = true;
                loop = head.loop;
            }
        } finally {
            lock.unlock();
        }
        if (open) {
            openConnection(loop);
        }
    }

    private boolean removeIdle(ServerConnection s) {
        if (idle[s.loopIndex()].remove(s)) {
            idleCount--;
            return true;
        }
        return false;
    }

    // ---- ServerConnection.Owner ----

    @Override
    public void serverReady(ServerConnection s) {
        if (serverParams == null) {
            serverParams = Map.copyOf(s.params());
        }
        lastConnectError = null;
        lock.lock();
        try {
            if (spare > 0) {
                spare--;
            }
        } finally {
            lock.unlock();
        }
        release(s);
    }

    @Override
    public void serverFailed(ServerConnection s, String reason) {
        log.warn("pool {}: {}", name, reason);
        lastConnectError = reason;
        Waiter w;
        lock.lock();
        try {
            s.countedOut = true;
            total--;
            if (spare > 0) {
                spare--;
            }
            // the connection was opened for the waiter at the head: it learns why at once
            w = waiters.pollFirst();
            if (w != null) {
                w.done = true;
            }
        } finally {
            lock.unlock();
        }
        if (w != null) {
            fail(w, SqlState.CONNECTION_FAILURE, reason);
        }
        EventLoop next = null;
        lock.lock();
        try {
            Waiter head = waiters.peekFirst();
            if (head != null && total < size && !closed) {
                total++;
                next = head.loop;
            }
        } finally {
            lock.unlock();
        }
        if (next != null) {
            openConnection(next);
        }
    }

    @Override
    public void serverClosed(ServerConnection s) {
        lock.lock();
        try {
            boolean wasIdle = removeIdle(s);
            if (wasIdle && !s.countedOut) {
                s.countedOut = true;
                total--;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Periodic upkeep: closes connections idle for too long or past their lifetime and opens
     * connections up to the minimum idle count. Called about once a second.
     */
    void maintain(EventLoop loop) {
        long now = System.nanoTime();
        long idleTimeout = config.serverIdleTimeout().toNanos();
        long lifetime = config.serverLifetime().toNanos();
        List<ServerConnection> toClose = new ArrayList<>();
        int toOpen = 0;
        lock.lock();
        try {
            for (ArrayDeque<ServerConnection> q : idle) {
                var it = q.iterator();
                while (it.hasNext()) {
                    ServerConnection s = it.next();
                    boolean tooIdle = idleTimeout > 0 && now - s.idleSinceNanos > idleTimeout && idleCount > config.minIdle();
                    boolean tooOld = lifetime > 0 && now - s.createdNanos() > lifetime;
                    if (tooIdle || tooOld || !s.isUsable()) {
                        it.remove();
                        idleCount--;
                        s.countedOut = true;
                        total--;
                        toClose.add(s);
                    }
                }
            }
            int want = Math.min(config.minIdle(), size) - idleCount - spare;
            while (!closed && want > 0 && total < size && waiters.isEmpty()) {
                total++;
                spare++;
                want--;
                toOpen++;
            }
        } finally {
            lock.unlock();
        }
        for (ServerConnection s : toClose) {
            s.close("server_idle_timeout or server_lifetime reached");
        }
        for (int i = 0; i < toOpen; i++) {
            openConnection(loop);
        }
    }

    /** Closes idle connections and refuses new acquires; connections in use close on release. */
    void close() {
        List<ServerConnection> toClose = new ArrayList<>();
        List<Waiter> toFail;
        lock.lock();
        try {
            closed = true;
            for (ArrayDeque<ServerConnection> q : idle) {
                toClose.addAll(q);
                q.clear();
            }
            idleCount = 0;
            toFail = new ArrayList<>(waiters);
            waiters.clear();
            for (Waiter w : toFail) {
                w.done = true;
            }
        } finally {
            lock.unlock();
        }
        for (ServerConnection s : toClose) {
            s.close("shutting down");
        }
        for (Waiter w : toFail) {
            fail(w, SqlState.ADMIN_SHUTDOWN, "Sluice is shutting down");
        }
    }

    /** Drops every idle connection (they are reopened on demand). */
    public void drainIdle() {
        List<ServerConnection> toClose = new ArrayList<>();
        lock.lock();
        try {
            for (ArrayDeque<ServerConnection> q : idle) {
                for (ServerConnection s : q) {
                    s.countedOut = true;
                    total--;
                    toClose.add(s);
                }
                q.clear();
            }
            idleCount = 0;
        } finally {
            lock.unlock();
        }
        for (ServerConnection s : toClose) {
            s.close("drained");
        }
    }

    /** A point-in-time view for status output and tests. */
    public Snapshot snapshot() {
        lock.lock();
        try {
            return new Snapshot(name, mode, size, total, idleCount, waiters.size());
        } finally {
            lock.unlock();
        }
    }

    /**
     * @param total   open plus opening server connections
     * @param idle    idle server connections
     * @param waiting clients waiting for a server connection
     */
    public record Snapshot(String name, PoolMode mode, int size, int total, int idle, int waiting) {
    }

    Map<String, Object> describe() {
        Snapshot s = snapshot();
        Map<String, Object> m = new HashMap<>();
        m.put("name", s.name());
        m.put("total", s.total());
        m.put("idle", s.idle());
        m.put("waiting", s.waiting());
        return m;
    }

    private static final class Waiter {
        final EventLoop loop;
        final AcquireCallback callback;
        final long deadlineNanos;
        /** Answered (or about to be); guarded by the pool's lock. */
        boolean done;

        Waiter(EventLoop loop, AcquireCallback callback, long deadlineNanos) {
            this.loop = loop;
            this.callback = callback;
            this.deadlineNanos = deadlineNanos;
        }
    }
}

package dev.sluice.pool;

import dev.sluice.backend.ServerConnection;
import dev.sluice.backend.ServerEndpoint;
import dev.sluice.backend.ServerInfo;
import dev.sluice.admission.AdmissionQueue;
import dev.sluice.admission.CircuitBreaker;
import dev.sluice.admission.Priority;
import dev.sluice.admission.Ticker;
import dev.sluice.admission.TokenBucket;
import dev.sluice.config.AdmissionConfig;
import dev.sluice.config.SluiceConfig.PoolConfig;
import dev.sluice.config.SluiceConfig.PoolMode;
import dev.sluice.protocol.SqlState;
import dev.sluice.stats.Traffic;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server connections for one (database, user) pair.
 *
 * <p>Design notes. Callers on any event loop {@link #acquire} a connection and get it through a
 * callback on their own loop: at once when one is idle, after a new login when the pool is below
 * its size, or when another caller releases one. Who waits, and in which order, is admission's
 * decision: a request may be refused at once (its class is shed in emergency mode, its user is
 * over its rate limit, the upstream's circuit is open, the wait queue is full), otherwise it
 * waits in a queue ordered by priority class with aging ({@link AdmissionQueue}) until a
 * connection is free and the upstream is below its concurrency limit ({@link Upstream}), or
 * until its class's deadline passes (57014).
 *
 * <p>Idle connections are kept per event loop and a caller first takes one from its own loop, so
 * the client and the server connection it uses usually share a thread and bytes move between
 * them without a thread hop. New connections are opened on the asking caller's loop for the same
 * reason. All shared state sits behind one lock held only for a few field updates (the admission
 * queue's own lock nests inside it); connects, callbacks and health checks run outside it.
 */
public final class Pool implements ServerConnection.Owner {
    private static final Logger log = LoggerFactory.getLogger(Pool.class);

    private final String name;
    private final String database;
    private final String user;
    private final PoolMode mode;
    private final Upstream upstream;
    // Settings a reload may change (see reconfigure): written under the lock, read where used.
    private volatile ServerEndpoint endpoint;
    private volatile int size;
    private volatile PoolConfig config;
    private volatile AdmissionConfig admission;
    private volatile TokenBucket rateLimit;
    private final Class<? extends SocketChannel> channelClass;
    private final LoopIndex loops;
    private final Traffic traffic;

    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<ServerConnection>[] idle;
    private final AdmissionQueue<Waiter> waiters;
    /** Whether fair shares are configured (waiters may be passed over). */
    private final boolean shares;
    /** Open plus opening connections. */
    private int total;
    private int idleCount;
    /** Connections lent to clients now. */
    private final AtomicInteger leased = new AtomicInteger();
    /** Connections being opened for nobody in particular (min idle). */
    private int spare;
    private EventLoop lastWaiterLoop;
    private volatile Map<String, String> serverParams;
    private volatile String lastConnectError;
    private boolean closed;
    /** Lending stopped by an operator (PAUSE); written under the lock, read without it by giveBack. */
    private volatile boolean paused;
    /** Completed once a pause took effect: no connection lent out any more. */
    private CompletableFuture<Void> pauseDone;
    /** Every connection of this pool, opening ones included, for monitoring. */
    private final Set<ServerConnection> all = ConcurrentHashMap.newKeySet();

    @SuppressWarnings({"unchecked", "rawtypes"})
    Pool(String database, String user, ServerEndpoint endpoint, PoolMode mode, int size, PoolConfig config,
         AdmissionConfig admission, Upstream upstream, TokenBucket rateLimit, Class<? extends SocketChannel> channelClass,
         LoopIndex loops, Traffic traffic) {
        this.traffic = traffic;
        this.name = database + "/" + user;
        this.database = database;
        this.user = user;
        this.endpoint = endpoint;
        this.mode = mode;
        this.size = size;
        this.config = config;
        this.admission = admission;
        this.upstream = upstream;
        this.rateLimit = rateLimit;
        this.channelClass = channelClass;
        this.loops = loops;
        this.idle = new ArrayDeque[loops.size()];
        for (int i = 0; i < idle.length; i++) {
            idle[i] = new ArrayDeque<>();
        }
        this.waiters = new AdmissionQueue<>(
                new AdmissionQueue.Settings(admission.queueSize(), admission.waitTimeouts(), admission.agingStep()),
                Ticker.system());
        this.shares = !admission.shares().isEmpty();
        upstream.register(this);
    }

    /** {@code database/user}. */
    public String name() {
        return name;
    }

    /** The database name clients use for this pool. */
    public String database() {
        return database;
    }

    /** The user its clients log in as. */
    public String user() {
        return user;
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

    /** The upstream this pool's connections go to. */
    public Upstream upstream() {
        return upstream;
    }

    /** As {@link #acquire(EventLoop, Priority, String, AcquireCallback)} for a {@code normal} request. */
    public void acquire(EventLoop loop, AcquireCallback callback) {
        acquire(loop, Priority.NORMAL, null, null, callback);
    }

    /**
     * Withdraws a request that still waits (its client went away), so it holds no place in the
     * queue; {@code ticket} is what {@link #acquire} returned. No callback follows a withdrawal.
     */
    public void cancel(Object ticket) {
        if (ticket instanceof Waiter w) {
            boolean removed = false;
            lock.lock();
            try {
                if (!w.done && waiters.remove(w)) {
                    w.done = true;
                    upstream.waiting(w.shareKey, -1);
                    removed = true;
                }
            } finally {
                lock.unlock();
            }
            if (removed && shares) {
                upstream.dispatchAll(); // a key that stopped waiting may have been holding another back
            }
        }
    }

    /**
     * Asks for a server connection for a request of class {@code priority} from {@code user}
     * (for the rate limit and fair shares; may be null) running as {@code application} (its
     * application_name, for fair shares; may be null); the answer comes through
     * {@code callback} on {@code loop}.
     *
     * @return a ticket for {@link #cancel}
     */
    public Object acquire(EventLoop loop, Priority priority, String user, String application, AcquireCallback callback) {
        return acquire(loop, priority, user, upstream.shareKey(user, application), callback, true);
    }

    private Object acquire(EventLoop loop, Priority priority, String user, String shareKey, AcquireCallback callback,
                           boolean rateLimited) {
        // 1. refusals that need no lock: shed class, rate limit, open circuit
        String refusal = null;
        String sqlState = SqlState.TOO_MANY_CONNECTIONS;
        TokenBucket bucket = rateLimit;
        if (upstream.mode().shouldShed(priority)) {
            refusal = "Sluice is shedding load: upstream " + upstream.label() + " is in emergency mode and requests of class "
                    + priority.configName() + " are refused until it recovers (admission.mode, admission.priority_rules)";
        } else if (bucket != null && user != null && rateLimited) {
            long waitNanos = bucket.tryAcquire(user);
            if (waitNanos > 0) {
                refusal = "rate limit of " + admission.rateLimit() + " requests per second for user \"" + user
                        + "\" exceeded (admission.rate_limit); retry after " + Math.max(1, waitNanos / 1_000_000) + " ms";
            }
        }
        if (refusal == null && !upstream.breaker().tryAcquirePermission()) {
            sqlState = SqlState.CONNECTION_FAILURE;
            refusal = "upstream " + upstream.label() + " unavailable: circuit open after "
                    + admission.breakerFailures() + " consecutive connection failures (admission.breaker_failures); retry after "
                    + Math.max(1, upstream.breaker().retryAfterNanos() / 1_000_000) + " ms"
                    + (lastConnectError == null ? "" : "; last error: " + lastConnectError);
        }
        if (refusal != null) {
            String st = sqlState;
            String msg = refusal;
            loop.execute(() -> callback.failed(st, msg));
            return null;
        }
        // 2. an idle connection at once, or a place in the queue (and maybe a new connection)
        Waiter w = new Waiter(loop, callback, priority, user, shareKey);
        ServerConnection found = null;
        boolean open = false;
        boolean serveNow = false;
        boolean rejected = false;
        Waiter displaced = null;
        lock.lock();
        try {
            if (closed) {
                rejected = true;
            } else if (!paused && waiters.size() == 0 && idleCount > 0 && upstream.belowLimit()
                    && mayLend(priority) && upstream.mayTake(shareKey)) {
                found = takeIdle(loops.index(loop));
                lendLocked(found, shareKey);
                w.done = true;
            } else {
                AdmissionQueue.Offer<Waiter> offer = waiters.offer(w, priority);
                if (offer.rejected()) {
                    rejected = true;
                } else {
                    lastWaiterLoop = loop;
                    upstream.waiting(shareKey, 1);
                    displaced = offer.displaced();
                    if (displaced != null) {
                        displaced.done = true;
                        upstream.waiting(displaced.shareKey, -1);
                    }
                    if (!paused && idleCount > 0) {
                        // idle connections the waiters ahead may not take (reserved for a higher
                        // class, or past their fair share) may be this request's
                        serveNow = true;
                    } else if (!paused && total < size && upstream.belowLimit()) {
                        total++;
                        open = true;
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        if (serveNow) {
            dispatch();
        }
        if (displaced != null) {
            fail(displaced, SqlState.TOO_MANY_CONNECTIONS, "refused to make room for a request of a higher class: "
                    + admission.queueSize() + " requests already wait for a server connection to " + endpoint.label()
                    + " (admission.queue_size)");
        }
        if (rejected) {
            String msg = closed ? "pool " + name + " is closed"
                    : "too many requests waiting for a server connection to " + endpoint.label() + ": "
                    + admission.queueSize() + " already wait (admission.queue_size, pool.size " + size + ")";
            loop.execute(() -> callback.failed(closed ? SqlState.ADMIN_SHUTDOWN : SqlState.TOO_MANY_CONNECTIONS, msg));
            return null;
        }
        if (found != null) {
            checkThenDeliver(found, w);
            return null;
        }
        if (open) {
            openConnection(loop);
        }
        // the deadline is enforced by expireWaiters, run every EXPIRY_PERIOD_MS: no timer per wait
        return w;
    }

    /**
     * Whether a request of class {@code priority} may take a server connection now: the last
     * {@code admission.reserved_connections} of the pool are for {@code high} and {@code critical}.
     */
    private boolean mayLend(Priority priority) {
        int reserved = reserved();
        return reserved == 0 || priority.compareTo(Priority.HIGH) <= 0 || leased.get() < size - reserved;
    }

    /** Of the pool's size, the connections only {@code high} and {@code critical} may take. */
    private int reserved() {
        return Math.min(admission.reservedConnections(), size);
    }

    /** Marks {@code s} as lent to a client of {@code shareKey}; lock held. */
    private void lendLocked(ServerConnection s, String shareKey) {
        s.leased = true;
        s.shareKey = shareKey;
        leased.incrementAndGet();
        upstream.lend(shareKey);
    }

    /** The waiter to serve next: by class and age, among those their fair share allows; lock held. */
    private Waiter pollLocked() {
        Waiter w = shares || reserved() > 0
                ? waiters.poll(x -> mayLend(x.priority) && upstream.mayTake(x.shareKey)) : waiters.poll();
        if (w != null) {
            upstream.waiting(w.shareKey, -1);
        }
        return w;
    }

    /**
     * Hands idle connections to waiters while the upstream is below its limit, and opens a
     * connection if waiters remain and the pool has room. Called when the limit rises or a
     * connection of another pool of the same upstream came back.
     */
    void dispatch() {
        List<Object[]> pairs = null;
        EventLoop openOn = null;
        lock.lock();
        try {
            while (!closed && !paused && waiters.size() > 0 && idleCount > 0 && upstream.belowLimit()) {
                Waiter w = pollLocked();
                if (w == null) {
                    break; // those waiting are held back by their fair share
                }
                ServerConnection s = takeIdle(loops.index(w.loop));
                w.done = true;
                lendLocked(s, w.shareKey);
                if (pairs == null) {
                    pairs = new ArrayList<>();
                }
                pairs.add(new Object[] {s, w});
            }
            if (!closed && !paused && waiters.size() > 0 && idleCount == 0 && total < size && upstream.belowLimit()
                    && lastWaiterLoop != null) {
                total++;
                openOn = lastWaiterLoop;
            }
        } finally {
            lock.unlock();
        }
        if (pairs != null) {
            for (Object[] p : pairs) {
                checkThenDeliver((ServerConnection) p[0], (Waiter) p[1]);
            }
        }
        if (openOn != null) {
            openConnection(openOn);
        }
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
        acquire(w.loop, w.priority, w.user, w.shareKey, w.callback, false);
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

    /** Answers 57014 to every waiter whose class's deadline has passed. */
    void expireWaiters(long nowNanos) {
        List<Waiter> expired;
        lock.lock();
        try {
            expired = waiters.expire(nowNanos);
            for (Waiter w : expired) {
                w.done = true;
                upstream.waiting(w.shareKey, -1);
            }
        } finally {
            lock.unlock();
        }
        if (expired.isEmpty()) {
            return;
        }
        if (shares) {
            upstream.dispatchAll(); // a key that stopped waiting may have been holding another back
        }
        String cause = lastConnectError;
        for (Waiter w : expired) {
            fail(w, SqlState.QUERY_CANCELED, "waited " + admission.waitTimeouts().get(w.priority).toMillis()
                    + " ms for a server connection to " + endpoint.label() + " without getting one (class "
                    + w.priority.configName() + ": admission.wait_timeout." + w.priority.configName()
                    + ", default pool.acquire_timeout; pool size " + size + ")"
                    + (cause == null ? "" : "; last connection error: " + cause));
        }
    }

    /** Requests waiting now, and how long the oldest has waited. */
    int waiting() {
        return waiters.size();
    }

    long oldestWaitNanos() {
        return waiters.oldestWaitNanos();
    }

    int queueCapacity() {
        return waiters.capacity();
    }

    private void openConnection(EventLoop loop) {
        all.add(ServerConnection.connect(endpoint, this, loop, loops.index(loop), channelClass));
    }

    /**
     * Gives a connection back. Connections that are broken, past their lifetime or in a
     * transaction are closed instead; a waiter, if any, gets the connection directly.
     */
    public void release(ServerConnection s) {
        s.listener(null);
        giveBack(s);
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
                    s.appliedParamsKey = null;
                    release(s);
                } else {
                    log.info("pool {}: reset of {} failed: {}", name, s, error);
                    discard(s);
                }
            });
            return;
        }
        long now = System.nanoTime();
        long lifetime = config.serverLifetime().toNanos();
        if (lifetime > 0 && now - s.createdNanos() > lifetime) {
            s.close("server_lifetime reached");
            discard(s);
            return;
        }
        Waiter w;
        boolean surplus;
        lock.lock();
        try {
            // after a reload: above the new pool.size, or logged in with old database settings
            surplus = total > size || stale(s);
            w = upstream.belowLimit() && !paused && !surplus ? pollLocked() : null;
            if (w != null) {
                w.done = true;
                lendLocked(s, w.shareKey);
            } else if (closed || paused || surplus) {
                w = null;
            } else {
                s.idleSinceNanos = now;
                idle[s.loopIndex()].addLast(s);
                idleCount++;
                return;
            }
        } finally {
            lock.unlock();
        }
        if (w == null) {
            s.close(closed ? "pool closed" : paused ? "pool paused (PAUSE)" : "pool settings changed by a reload");
            discard(s);
        } else {
            deliver(w, s);
        }
    }

    /** Forgets a connection that will not be reused and closes it; opens a replacement for a waiter. */
    public void discard(ServerConnection s) {
        s.listener(null);
        s.close("discarded");
        giveBack(s);
        boolean open = false;
        EventLoop loop = null;
        lock.lock();
        try {
            removeIdle(s);
            if (!s.countedOut) {
                s.countedOut = true;
                total--;
            }
            if (waiters.size() > 0 && total < size && !closed && !paused && lastWaiterLoop != null
                    && upstream.belowLimit()) {
                total++;
                open = true;
                loop = lastWaiterLoop;
            }
        } finally {
            lock.unlock();
        }
        if (open) {
            openConnection(loop);
        }
    }

    /**
     * Ends the lease of {@code s} if it was lent out. Only its holder calls this, after the lend
     * (which the pool's lock published), so no lock is needed here.
     */
    private void giveBack(ServerConnection s) {
        if (s.leased) {
            s.leased = false;
            int left = leased.decrementAndGet();
            String key = s.shareKey;
            s.shareKey = null;
            upstream.giveBack(key);
            if (left == 0 && paused) {
                completePause();
            }
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
        traffic.serverLogin();
        upstream.breaker().onSuccess();
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
        all.remove(s);
        log.warn("pool {}: {}", name, reason);
        lastConnectError = reason;
        upstream.breaker().onFailure();
        boolean circuitOpen = upstream.breaker().state() == CircuitBreaker.State.OPEN;
        List<Waiter> toFail = new ArrayList<>();
        EventLoop next = null;
        lock.lock();
        try {
            if (!s.countedOut) {
                s.countedOut = true;
                total--;
            }
            if (spare > 0) {
                spare--;
            }
            // A failed attempt is retried with another connection while the circuit is closed
            // (nothing was sent on it); once the circuit opens, everyone waiting learns why at once.
            if (circuitOpen) {
                Waiter w;
                while ((w = waiters.poll()) != null) {
                    w.done = true;
                    upstream.waiting(w.shareKey, -1);
                    toFail.add(w);
                }
            } else if (waiters.size() > 0 && total < size && !closed && !paused && lastWaiterLoop != null) {
                total++;
                next = lastWaiterLoop;
            }
        } finally {
            lock.unlock();
        }
        for (Waiter w : toFail) {
            fail(w, SqlState.CONNECTION_FAILURE, "upstream " + upstream.label() + " unavailable: circuit open after "
                    + admission.breakerFailures() + " consecutive connection failures (admission.breaker_failures); "
                    + "last error: " + reason);
        }
        if (next != null) {
            openConnection(next);
        }
    }

    @Override
    public void serverClosed(ServerConnection s) {
        all.remove(s);
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
                    boolean surplus = total > size || stale(s);
                    if (tooIdle || tooOld || surplus || !s.isUsable()) {
                        it.remove();
                        idleCount--;
                        s.countedOut = true;
                        total--;
                        toClose.add(s);
                    }
                }
            }
            int want = Math.min(config.minIdle(), size) - idleCount - spare;
            while (!closed && !paused && want > 0 && total < size && waiters.size() == 0) {
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
            toFail = new ArrayList<>();
            Waiter w;
            while ((w = waiters.poll()) != null) {
                w.done = true;
                upstream.waiting(w.shareKey, -1);
                toFail.add(w);
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

    /**
     * After {@link #close()}: closes every remaining connection, lent ones too (shutting down,
     * after the clients were told), and returns their channels so the caller can wait until the
     * sockets are closed.
     */
    List<Channel> closeAll() {
        List<Channel> channels = new ArrayList<>();
        for (ServerConnection s : all) {
            s.close("shutting down");
            if (s.channel() != null) {
                channels.add(s.channel());
            }
        }
        return channels;
    }

    // ---- configuration reload ----

    /**
     * Takes new settings (a configuration reload); clients keep their connections. A larger size
     * opens connections for the clients waiting now; with a smaller one, idle connections above it
     * close at once and connections in use close when given back (never inside a transaction).
     * A new endpoint (database name, user, password, connect timeout...) is used for connections
     * opened from now on; if the login changed (database name, user, password), idle connections
     * logged in with the old one close, busy ones on release.
     * New admission settings apply at once, to waiting requests too (their new deadline counts
     * from their arrival).
     */
    void reconfigure(ServerEndpoint endpoint, int size, PoolConfig config, AdmissionConfig admission,
                     TokenBucket rateLimit) {
        List<ServerConnection> toClose = new ArrayList<>();
        int toOpen = 0;
        EventLoop openOn;
        lock.lock();
        try {
            if (!endpoint.equals(this.endpoint)) {
                this.endpoint = endpoint;
            }
            this.size = size;
            this.config = config;
            this.admission = admission;
            this.rateLimit = rateLimit;
            waiters.settings(new AdmissionQueue.Settings(admission.queueSize(), admission.waitTimeouts(),
                    admission.agingStep()));
            for (ArrayDeque<ServerConnection> q : idle) {
                var it = q.iterator();
                while (it.hasNext()) {
                    ServerConnection s = it.next();
                    if (total > size || stale(s)) {
                        it.remove();
                        idleCount--;
                        s.countedOut = true;
                        total--;
                        toClose.add(s);
                    }
                }
            }
            openOn = lastWaiterLoop;
            while (!closed && !paused && openOn != null && idleCount == 0 && total < size
                    && toOpen < waiters.size() && upstream.belowLimit()) {
                total++;
                toOpen++;
            }
        } finally {
            lock.unlock();
        }
        for (ServerConnection s : toClose) {
            s.close("pool settings changed by a reload");
        }
        for (int i = 0; i < toOpen; i++) {
            openConnection(openOn);
        }
        dispatch();
    }

    /** Whether {@code s} logged in with database settings a reload has changed since. */
    private boolean stale(ServerConnection s) {
        ServerEndpoint now = endpoint;
        ServerEndpoint then = s.endpoint();
        // identity first: the same object until a reload changes the endpoint
        return then != now && !(then.host().equals(now.host()) && then.port() == now.port()
                && then.database().equals(now.database()) && then.user().equals(now.user())
                && Objects.equals(then.password(), now.password()) && then.sslContext() == now.sslContext()
                && then.tlsRequired() == now.tlsRequired() && then.verifyHostname() == now.verifyHostname());
    }

    // ---- operator actions and monitoring ----

    /**
     * Stops lending server connections (PAUSE): requests queue (their deadlines still apply),
     * idle connections close, and connections in use close when their clients give them back.
     *
     * @return completes once no connection of this pool is lent out
     */
    public CompletableFuture<Void> pause() {
        List<ServerConnection> toClose;
        CompletableFuture<Void> done;
        lock.lock();
        try {
            if (!paused) {
                paused = true;
                pauseDone = new CompletableFuture<>();
                log.warn("pool {}: paused by an operator", name);
            }
            done = pauseDone;
            toClose = takeAllIdleLocked();
        } finally {
            lock.unlock();
        }
        for (ServerConnection s : toClose) {
            s.close("pool paused (PAUSE)");
        }
        if (leased.get() == 0) {
            completePause();
        }
        return done;
    }

    /** Lends server connections again after {@link #pause}; waiting requests are served. */
    public void resume() {
        lock.lock();
        try {
            if (!paused) {
                return;
            }
            paused = false;
            pauseDone = null;
            log.warn("pool {}: resumed by an operator", name);
        } finally {
            lock.unlock();
        }
        dispatch();
    }

    public boolean isPaused() {
        return paused;
    }

    private void completePause() {
        CompletableFuture<Void> f;
        lock.lock();
        try {
            f = paused && leased.get() == 0 ? pauseDone : null;
        } finally {
            lock.unlock();
        }
        if (f != null) {
            f.complete(null);
        }
    }

    /**
     * Closes every idle server connection now (connections in use are left alone); min idle is
     * restored by the next upkeep.
     *
     * @return how many were closed
     */
    public int drainIdle() {
        List<ServerConnection> toClose;
        lock.lock();
        try {
            toClose = takeAllIdleLocked();
        } finally {
            lock.unlock();
        }
        for (ServerConnection s : toClose) {
            s.close("drained by an operator");
        }
        return toClose.size();
    }

    /** Removes every idle connection from the pool's books; lock held. The caller closes them. */
    private List<ServerConnection> takeAllIdleLocked() {
        List<ServerConnection> out = new ArrayList<>();
        for (ArrayDeque<ServerConnection> q : idle) {
            for (ServerConnection s : q) {
                s.countedOut = true;
                total--;
                out.add(s);
            }
            q.clear();
        }
        idleCount = 0;
        return out;
    }

    /** Every server connection of this pool as monitoring shows it. */
    public List<ServerInfo> servers() {
        List<ServerInfo> out = new ArrayList<>(all.size());
        for (ServerConnection s : all) {
            out.add(s.info(name));
        }
        return out;
    }

    /** The configured pool size (the most server connections it may open). */
    public int size() {
        return size;
    }

    /** A point-in-time view for status output and tests. */
    public Snapshot snapshot() {
        lock.lock();
        try {
            return new Snapshot(name, mode, size, reserved(), total, idleCount,
                    leased.get(), waiters.size(), waiters.sizes(), paused, waiters.oldestWaitNanos());
        } finally {
            lock.unlock();
        }
    }

    /**
     * @param reserved  of {@code size}, the connections only {@code high} and {@code critical}
     *                  requests may take ({@code admission.reserved_connections}, at most the size)
     * @param total     open plus opening server connections
     * @param idle      idle server connections
     * @param inUse     server connections lent to clients
     * @param waiting   clients waiting for a server connection
     * @param byClass   of those, how many per priority class
     * @param paused    whether an operator paused it
     * @param oldestWaitNanos how long the longest-waiting request has waited, 0 when none waits
     */
    public record Snapshot(String name, PoolMode mode, int size, int reserved, int total, int idle, int inUse, int waiting,
                           Map<Priority, Integer> byClass, boolean paused, long oldestWaitNanos) {
    }

    private static final class Waiter implements AdmissionQueue.Member {
        final EventLoop loop;
        final AcquireCallback callback;
        final Priority priority;
        final String user;
        /** Its fair-share key, null when no shares are configured. */
        final String shareKey;
        /** Answered (or about to be); guarded by the pool's lock. */
        boolean done;
        /** Its place in the admission queue; only the queue touches it, under its lock. */
        private Object admissionEntry;

        Waiter(EventLoop loop, AcquireCallback callback, Priority priority, String user, String shareKey) {
            this.loop = loop;
            this.callback = callback;
            this.priority = priority;
            this.user = user;
            this.shareKey = shareKey;
        }

        @Override
        public Object admissionEntry() {
            return admissionEntry;
        }

        @Override
        public void admissionEntry(Object entry) {
            admissionEntry = entry;
        }
    }
}

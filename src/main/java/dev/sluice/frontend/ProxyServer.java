package dev.sluice.frontend;

import dev.sluice.admission.Classifier;
import dev.sluice.config.ConfigChange;
import dev.sluice.config.ReloadReport;
import dev.sluice.config.SluiceConfig;
import dev.sluice.pool.Pool;
import dev.sluice.pool.Pools;
import dev.sluice.pool.Upstream;
import dev.sluice.stats.QueryStats;
import dev.sluice.stats.Traffic;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.EventExecutor;
import java.io.File;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy: a listening socket for clients plus the pools behind it.
 *
 * <p>Threading: one Netty event-loop group (epoll where available) serves clients and server
 * connections alike; a client and the server connections it borrows usually share a loop (see
 * {@link Pool}).
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    /** Replaced by {@link #reconfigure}; sessions read it at login and once per acquire. */
    private volatile SluiceConfig config;
    private final Transport transport;
    private final EventLoopGroup group;
    private final SslContext clientSsl;
    private final Pools pools;
    private volatile Classifier classifier;
    private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<Long, ClientSession> byCancelKey = new ConcurrentHashMap<>();
    private final AtomicInteger clients = new AtomicInteger();
    private final AtomicInteger nextPid = new AtomicInteger(1);
    private final SecureRandom random = new SecureRandom();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private final CompletableFuture<String> loopFailure = new CompletableFuture<>();
    private final Traffic traffic = new Traffic();
    private final QueryStats queryStats;
    private volatile AdminConsole console;
    private volatile Supplier<ReloadReport> reloader;
    private Channel listener;

    private ProxyServer(SluiceConfig config) throws SSLException {
        this.config = config;
        int threads = config.ioThreads() > 0 ? config.ioThreads()
                : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        transport = Transport.of(config.ioTransport());
        group = new MultiThreadIoEventLoopGroup(threads, transport.handlers());
        for (EventExecutor loop : group) {
            loop.terminationFuture().addListener(f -> loopEnded(loop));
        }
        this.queryStats = new QueryStats(config.stats().maxFingerprints(), System::nanoTime);
        this.clientSsl = clientSslContext(config.clientTls());
        this.classifier = new Classifier(config.admission().rules(), config.admission().defaultPriority());
        this.pools = new Pools(config, group, transport.channelClass(), serverSslContext(config.serverTls()), traffic);
    }

    /**
     * An event loop ended while Sluice was not stopping: Netty ends one when an Error escapes its
     * I/O processing (its warning "Unexpected exception from an event executor" names it). The
     * clients and server connections on that loop would wait forever, so Sluice reports itself
     * not live and the {@code run} command exits for a supervisor to restart it.
     */
    private void loopEnded(EventExecutor loop) {
        if (stopping.get()) {
            return;
        }
        String reason = "event loop " + loop + " stopped unexpectedly";
        log.error("{}: its clients and server connections can no longer be served", reason);
        loopFailure.complete(reason);
    }

    /** Completes, with the reason, if an event loop ended while Sluice was not stopping. */
    public CompletableFuture<String> loopFailure() {
        return loopFailure;
    }

    /** The event loops serving clients and server connections. */
    public EventLoopGroup eventLoops() {
        return group;
    }

    /** The network transport the event loops run on. */
    public Transport transport() {
        return transport;
    }

    /** Binds the client port and starts serving; returns once the port is bound. */
    public static ProxyServer start(SluiceConfig config) throws InterruptedException {
        ProxyServer server;
        try {
            server = new ProxyServer(config);
        } catch (SSLException e) {
            throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
        }
        server.bind();
        return server;
    }

    private void bind() throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("session", new ClientSession(ProxyServer.this));
                    }
                });
        var address = new InetSocketAddress(config.listen().host(), config.listen().port());
        var f = b.bind(address).await();
        if (!f.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot listen on " + config.listen() + ": " + f.cause().getMessage(), f.cause());
        }
        listener = f.channel();
        log.info("listening on {} ({} event loops, {})", listener.localAddress(),
                pools.loops().size(), transport.name());
    }

    private static SslContext clientSslContext(SluiceConfig.ClientTls tls) throws SSLException {
        if (tls.mode() == SluiceConfig.ClientTlsMode.DISABLE || tls.certFile().isEmpty() || tls.keyFile().isEmpty()) {
            return null;
        }
        return SslContextBuilder.forServer(new File(tls.certFile().get()), new File(tls.keyFile().get())).build();
    }

    private static SslContext serverSslContext(SluiceConfig.ServerTls tls) throws SSLException {
        return switch (tls.mode()) {
            case DISABLE -> null;
            // libpq semantics: prefer and require encrypt but do not verify the certificate
            case PREFER, REQUIRE -> SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
            case VERIFY_FULL -> SslContextBuilder.forClient().trustManager(new File(tls.caFile().orElseThrow())).build();
        };
    }

    // ---- for sessions ----

    /** The configuration the proxy runs with (the latest reloaded one, restart-only keys as started). */
    public SluiceConfig config() {
        return config;
    }

    /**
     * Applies a newly loaded configuration without dropping clients: the keys that can change
     * while running take effect (new logins, new acquires and new server connections see them;
     * see {@link ConfigChange} for which keys those are), the others keep their running values.
     * Sessions already connected keep going, also those of a removed user or database.
     *
     * @return what changed, and what waits for a restart
     */
    public synchronized ConfigChange reconfigure(SluiceConfig loaded) {
        ConfigChange change = ConfigChange.between(config, loaded);
        if (change.applied().isEmpty()) {
            return change;
        }
        SluiceConfig next = change.effective();
        if (!next.admission().rules().equals(config.admission().rules())
                || next.admission().defaultPriority() != config.admission().defaultPriority()) {
            classifier = new Classifier(next.admission().rules(), next.admission().defaultPriority());
        }
        pools.reconfigure(next);
        config = next;
        return change;
    }

    Pools pools() {
        return pools;
    }

    Classifier classifier() {
        return classifier;
    }

    SslContext clientSsl() {
        return clientSsl;
    }

    /** Counts a new client in; false when {@code max_client_conn} is reached or shutting down. */
    boolean register(ClientSession s) {
        sessions.add(s);
        int n = clients.incrementAndGet();
        return n <= config.pool().maxClientConn() && !stopping.get();
    }

    void unregister(ClientSession s, int pid, int secret) {
        if (sessions.remove(s)) {
            clients.decrementAndGet();
        }
        if (pid != 0) {
            byCancelKey.remove(key(pid, secret), s);
        }
        if (stopping.get() && sessions.isEmpty()) {
            drained.complete(null);
        }
    }

    /** Gives a session its own BackendKeyData (pid in the high half, secret in the low half). */
    long newCancelKey(ClientSession s) {
        while (true) {
            int pid = nextPid.getAndIncrement() & 0x7fffffff;
            if (pid == 0) {
                continue;
            }
            long k = key(pid, random.nextInt());
            if (byCancelKey.putIfAbsent(k, s) == null) {
                return k;
            }
        }
    }

    void cancel(int pid, int secret) {
        ClientSession s = byCancelKey.get(key(pid, secret));
        if (s != null) {
            s.loop().execute(s::cancelRequested);
        }
    }

    private static long key(int pid, int secret) {
        return ((long) pid << 32) | (secret & 0xffffffffL);
    }

    // ---- public surface ----

    /** Process-wide traffic counters. */
    public Traffic traffic() {
        return traffic;
    }

    /** Per-fingerprint statement statistics. */
    public QueryStats queryStats() {
        return queryStats;
    }

    /** The admin console behind the database names {@code sluice} and {@code pgbouncer}, or null. */
    public AdminConsole console() {
        return console;
    }

    /** Installs the admin console; until then those database names are ordinary ones. */
    public void console(AdminConsole c) {
        this.console = c;
    }

    /**
     * Installs what {@link #reload} runs: reads the configuration again from where it came from
     * and applies it (set by {@code sluice run}).
     */
    public void reloader(Supplier<ReloadReport> r) {
        this.reloader = r;
    }

    /** Reloads the configuration (SIGHUP, RELOAD, the admin API). Blocking; not on an event loop. */
    public ReloadReport reload() {
        Supplier<ReloadReport> r = reloader;
        if (r == null) {
            return new ReloadReport(false, List.of(), List.of(), "no configuration source to reload from");
        }
        return r.get();
    }

    /** Every client connection as monitoring shows it. */
    public List<ClientInfo> clients() {
        List<ClientInfo> out = new ArrayList<>(sessions.size());
        for (ClientSession s : sessions) {
            if (s.channel() != null) {
                out.add(s.info());
            }
        }
        return out;
    }

    /**
     * Disconnects the client with this id (ErrorResponse 57P01 first); a transaction it had open is
     * rolled back by closing its server connection.
     *
     * @return whether such a client was connected
     */
    public boolean terminateClient(int id, String reason) {
        ClientSession s = session(id);
        if (s == null) {
            return false;
        }
        s.loop().execute(() -> s.terminate(reason));
        return true;
    }

    /**
     * Cancels the query the client with this id is running, as its own CancelRequest would.
     *
     * @return whether such a client was connected
     */
    public boolean cancelClient(int id) {
        ClientSession s = session(id);
        if (s == null) {
            return false;
        }
        s.loop().execute(s::cancelRequested);
        return true;
    }

    private ClientSession session(int id) {
        if (id == 0) {
            return null;
        }
        for (ClientSession s : sessions) {
            if (s.clientId() == id) {
                return s;
            }
        }
        return null;
    }

    /**
     * Pauses the pools of {@code database}, or every pool when it is null (PgBouncer's PAUSE);
     * pools created later for a paused database start paused.
     *
     * @return completes once none of those pools has a server connection lent out
     */
    public CompletableFuture<Void> pause(String database) {
        return pools.pause(database);
    }

    /** Resumes the pools of {@code database}, or every pool when it is null. */
    public void resume(String database) {
        pools.resume(database);
    }

    /**
     * Closes the idle server connections of {@code database}'s pools, or of every pool.
     *
     * @return how many were closed
     */
    public int drainIdle(String database) {
        int n = 0;
        for (Pool p : pools.all()) {
            if (database == null || p.database().equals(database)) {
                n += p.drainIdle();
            }
        }
        return n;
    }

    /** The bound client port (useful when the configuration asked for port 0). */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Every pool created so far (one per database and user that connected). */
    public List<Pool> poolList() {
        return pools.all();
    }

    /** Every upstream (PostgreSQL host and port) seen so far, with its breaker, limit and mode. */
    public List<Upstream> upstreams() {
        return pools.upstreams();
    }

    /** Number of connected clients. */
    public int clientCount() {
        return clients.get();
    }

    /**
     * Stops accepting, lets transactions in flight finish for at most {@code timeout}, then closes
     * every connection. Idempotent.
     */
    public void shutdownGracefully(Duration timeout) {
        if (!stopping.compareAndSet(false, true)) {
            drained.join();
            return;
        }
        log.info("shutting down: waiting up to {} ms for transactions in flight", timeout.toMillis());
        if (listener != null) {
            listener.close().awaitUninterruptibly();
        }
        for (ClientSession s : sessions) {
            if (!onLoop(s, s::shutdownRequested)) {
                unregister(s, 0, 0); // stranded on a loop that ended: nothing to wait for
            }
        }
        if (sessions.isEmpty()) {
            drained.complete(null);
        }
        try {
            drained.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.warn("shutdown: {} clients still busy after {} ms, closing them", sessions.size(), timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
        List<Channel> closing = new ArrayList<>();
        for (ClientSession s : sessions) {
            if (onLoop(s, () -> s.fatal(dev.sluice.protocol.SqlState.ADMIN_SHUTDOWN, "Sluice is shutting down"))) {
                closing.add(s.channel());
            }
        }
        // Sockets close on their event loops, and with io_uring a close completes only after
        // the kernel cancelled the socket's pending reads: the loops stop once every socket is
        // closed (or 2 s passed), or their sockets would outlive them.
        pools.close(); // no more lending, no new connections, waiters answered
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        awaitClosed(closing, deadline);
        awaitClosed(pools.closeAll(), deadline);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        drained.complete(null);
        log.info("stopped");
    }

    /** Runs {@code task} on the session's loop; false if that loop ended (see {@link #loopEnded}). */
    private static boolean onLoop(ClientSession s, Runnable task) {
        try {
            s.loop().execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    private static void awaitClosed(List<Channel> channels, long deadlineNanos) {
        for (Channel c : channels) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0 || !c.closeFuture().awaitUninterruptibly(left, TimeUnit.NANOSECONDS)) {
                return;
            }
        }
    }

    /** Closes everything at once. */
    @Override
    public void close() {
        shutdownGracefully(Duration.ZERO);
    }
}

package dev.sluice.backend;

import dev.sluice.protocol.BackendType;
import dev.sluice.protocol.FrameBuffer;
import dev.sluice.protocol.Messages;
import dev.sluice.protocol.ProtocolException;
import dev.sluice.protocol.auth.AuthException;
import dev.sluice.protocol.auth.Md5Password;
import dev.sluice.protocol.auth.ScramClient;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection from Sluice to PostgreSQL.
 *
 * <p>Life: {@link #connect} opens the socket on a given event loop, negotiates TLS if asked,
 * logs in (trust, cleartext, md5 or SCRAM-SHA-256), records ParameterStatus and BackendKeyData,
 * and reports to its {@link Owner} at the first ReadyForQuery. From then on it is either idle in
 * its pool, running an internal query ({@link #runInternal}: health check, reset), or lent to a
 * {@link ServerListener} that receives every byte PostgreSQL sends, untouched.
 *
 * <p>Threading: the handler runs on the connection's own event loop. While lent, the state that
 * follows the protocol ({@link #params()}, {@link #statements()}, {@link #transactionStatus}) is
 * owned by the borrowing session; hand-over goes through the pool's lock.
 *
 * <p>ByteBuf ownership: inbound buffers are consumed here during login and internal queries and
 * passed on (ownership included) to the listener while lent.
 */
public final class ServerConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);
    private static final AtomicInteger IDS = new AtomicInteger();

    /** Told about the connection's login result and its end. Called on the connection's event loop. */
    public interface Owner {
        void serverReady(ServerConnection server);

        void serverFailed(ServerConnection server, String reason);

        void serverClosed(ServerConnection server);
    }

    private enum State { CONNECTING, TLS_NEGOTIATION, LOGIN, READY, CLOSED }

    private final int id = IDS.incrementAndGet();
    private final ServerEndpoint endpoint;
    private final Owner owner;
    private final EventLoop loop;
    private final int loopIndex;
    private final long createdNanos = System.nanoTime();
    private final long createdMillis = System.currentTimeMillis();
    private final Map<String, String> params = new HashMap<>();
    private final ServerStatements statements;
    private final AtomicInteger cancelsInFlight = new AtomicInteger();

    private State state = State.CONNECTING;
    /** Set when the connect starts (so a close before it completes closes the socket); read from any thread. */
    private volatile Channel channel;
    private FrameBuffer frames;
    private ScramClient scram;
    private ScheduledFuture<?> loginTimeout;
    private int backendPid;
    private int backendSecret;
    private volatile ServerListener listener;
    /**
     * Who got the last bytes read: a listener, this connection itself (login, internal query,
     * idle), or {@code null} before any. Owned by this connection's loop; see {@link #handOverClean}.
     */
    private Object lastReader;
    /** Bytes passed to listeners, counted on this connection's loop. */
    private long handedOver;
    /**
     * Bytes listeners took ({@link #taken}), counted on the holder's loop. Read here only after a
     * change of {@link #listener} was seen, which orders it after the previous holder's writes.
     */
    private long taken;
    private volatile boolean broken;
    private String closeReason = "server connection closed";
    private Internal internal;

    /** Whether PostgreSQL has a transaction open ('I' idle, 'T' in transaction, 'E' failed). Owned by the holder. */
    public byte transactionStatus = 'I';
    /** Idle since (System.nanoTime), maintained by the pool. */
    public long idleSinceNanos = System.nanoTime();
    /** A query to run before this connection goes back to the pool, or {@code null}. Owned by the holder. */
    public String resetQuery;
    /**
     * The reset query that undoes session-level {@code SET}s but keeps prepared statements. RESET
     * ALL leaves the role and session authorization alone, so they are reset explicitly: a
     * {@code SET ROLE} must never carry over to another client.
     */
    public static final String RESET_SETTINGS = "RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL";
    /**
     * The session that last applied its parameters here and the version it applied, so a client
     * that gets the same connection back skips the comparison. Owned by the holder; cleared
     * whenever the connection's parameters change otherwise.
     */
    public Object lastSession;
    public int lastParamsVersion;
    /** The full parameter set (a session's key) known to be in force here, or {@code null}. */
    public String appliedParamsKey;
    /** Pool bookkeeping: already subtracted from the pool's count. Guarded by the pool's lock. */
    public boolean countedOut;
    /** Pool bookkeeping: lent to a client now. Guarded by the pool's lock. */
    public boolean leased;
    /** Pool bookkeeping: the fair-share key of the client it is lent to, null when none. */
    public String shareKey;
    private Runnable afterCancels;

    private ServerConnection(ServerEndpoint endpoint, Owner owner, EventLoop loop, int loopIndex) {
        this.endpoint = endpoint;
        this.owner = owner;
        this.loop = loop;
        this.loopIndex = loopIndex;
        this.statements = new ServerStatements(endpoint.statementCacheSize());
    }

    /**
     * Opens a connection on {@code loop}; the owner hears {@code serverReady} or
     * {@code serverFailed} within the endpoint's connect timeout.
     */
    public static ServerConnection connect(ServerEndpoint endpoint, Owner owner, EventLoop loop, int loopIndex,
                                           Class<? extends SocketChannel> channelClass) {
        ServerConnection server = new ServerConnection(endpoint, owner, loop, loopIndex);
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(channelClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, endpoint.connectTimeout().toMillis()))
                .handler(server);
        loop.execute(() -> {
            server.loginTimeout = loop.schedule(
                    () -> server.fail("timed out after " + endpoint.connectTimeout().toMillis() + " ms connecting to "
                            + endpoint.label() + " (pool.connect_timeout)"),
                    endpoint.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
            ChannelFuture connecting = b.connect(endpoint.host(), endpoint.port());
            server.channel = connecting.channel();
            connecting.addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    server.fail("could not connect to upstream " + endpoint.label() + ": " + describe(f.cause()));
                }
            });
        });
        return server;
    }

    // ---- accessors ----

    public int id() {
        return id;
    }

    public EventLoop loop() {
        return loop;
    }

    public int loopIndex() {
        return loopIndex;
    }

    public Channel channel() {
        return channel;
    }

    public ServerEndpoint endpoint() {
        return endpoint;
    }

    public long createdNanos() {
        return createdNanos;
    }

    /**
     * What this connection is doing, for monitoring: read from any thread, so the values may be
     * a moment old.
     *
     * @param pool the name of the pool that owns it
     */
    public ServerInfo info(String pool) {
        ServerListener l = listener;
        String s = switch (state) {
            case CONNECTING, TLS_NEGOTIATION, LOGIN -> "login";
            case CLOSED -> "closed";
            case READY -> leased ? (l != null ? "active" : "used") : internal != null ? "tested" : "idle";
        };
        String localAddress = null;
        int localPort = 0;
        Channel c = channel;
        if (c != null && c.localAddress() instanceof java.net.InetSocketAddress a) {
            localAddress = a.getAddress().getHostAddress();
            localPort = a.getPort();
        }
        long now = System.nanoTime();
        long idleMillis = leased ? 0 : (now - idleSinceNanos) / 1_000_000;
        return new ServerInfo(id, pool, endpoint.database(), endpoint.user(), s, endpoint.host(), endpoint.port(),
                localAddress, localPort, createdMillis, System.currentTimeMillis() - idleMillis, backendPid,
                l == null ? 0 : l.clientId(), c != null && c.pipeline().get("tls") != null, statements.size());
    }

    /** Run-time parameters PostgreSQL reported (ParameterStatus) or Sluice set on this connection. */
    public Map<String, String> params() {
        return params;
    }

    public ServerStatements statements() {
        return statements;
    }

    public boolean isUsable() {
        return state == State.READY && !broken && channel.isActive();
    }

    /** Marks the connection as not to be reused (its state is unknown). */
    public void markBroken() {
        broken = true;
    }

    public boolean isBroken() {
        return broken;
    }

    public AtomicInteger cancelsInFlight() {
        return cancelsInFlight;
    }

    /**
     * The holder took {@code bytes} passed to its {@link ServerListener#serverRead} as part of the
     * stream it holds. Bytes a former holder got but did not take (they arrived after it gave the
     * connection back) leave the stream split, and the connection is closed at the next read.
     * Call on the holder's loop.
     */
    public void taken(int bytes) {
        taken += bytes;
    }

    /** Lends the connection to {@code l}, or takes it back with {@code null}. */
    public void listener(ServerListener l) {
        this.listener = l;
    }

    public ServerListener listener() {
        return listener;
    }

    /** Writes and flushes; safe from any thread. */
    public void writeAndFlush(Object msg) {
        channel.writeAndFlush(msg, channel.voidPromise());
    }

    /** Closes the connection politely (Terminate, then close). Safe from any thread. */
    public void close(String reason) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> close(reason));
            return;
        }
        broken = true;
        if (state == State.CLOSED) {
            return;
        }
        closeReason = reason;
        if (channel != null && channel.isActive()) {
            if (state == State.READY) {
                channel.writeAndFlush(Messages.terminate(channel.alloc())).addListener(ChannelFutureListener.CLOSE);
            } else {
                channel.close();
            }
        } else {
            fail(reason);
        }
    }

    /**
     * Opens a separate connection to the same PostgreSQL and sends a CancelRequest for this
     * connection's backend. {@code done} runs (on this connection's loop) once PostgreSQL closed
     * the cancel connection, i.e. after it acted on the request.
     */
    public void sendCancel(Class<? extends SocketChannel> channelClass, Runnable done) {
        cancelsInFlight.incrementAndGet();
        Bootstrap b = new Bootstrap().group(loop).channel(channelClass)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, endpoint.connectTimeout().toMillis()))
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        ctx.writeAndFlush(Messages.untypedCode(ctx.alloc(), Messages.CANCEL_REQUEST_CODE,
                                backendPid, backendSecret));
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        io.netty.util.ReferenceCountUtil.release(msg);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close();
                    }
                });
        b.connect(endpoint.host(), endpoint.port()).addListener((ChannelFutureListener) f -> {
            Channel c = f.channel();
            if (!f.isSuccess()) {
                cancelsInFlight.decrementAndGet();
                done.run();
                runAfterCancels();
                return;
            }
            c.closeFuture().addListener(cf -> {
                cancelsInFlight.decrementAndGet();
                done.run();
                runAfterCancels();
            });
            c.eventLoop().schedule(() -> c.close(), endpoint.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        });
    }

    /** Runs {@code action} on this loop once no cancel request is in flight any more (at once if none is). */
    public void afterCancels(Runnable action) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> afterCancels(action));
            return;
        }
        if (cancelsInFlight.get() == 0) {
            action.run();
        } else {
            afterCancels = action;
        }
    }

    private void runAfterCancels() {
        if (cancelsInFlight.get() == 0 && afterCancels != null) {
            Runnable r = afterCancels;
            afterCancels = null;
            r.run();
        }
    }

    /**
     * Runs {@code sql} as a simple query while no client holds the connection, discarding its
     * results; {@code done} gets {@code null} on success or the error text. Runs on this loop.
     */
    public void runInternal(String sql, Consumer<String> done) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> runInternal(sql, done));
            return;
        }
        if (!isUsable()) {
            done.accept(closeReason);
            return;
        }
        Internal mine = new Internal(done);
        internal = mine;
        channel.writeAndFlush(Messages.query(channel.alloc(), sql), channel.voidPromise());
        // every wait is bounded: a server that does not answer a health check or reset in the
        // connect timeout is closed, and the callback hears why
        loop.schedule(() -> {
            if (internal == mine) {
                fail("no answer from " + endpoint.label() + " to an internal query within "
                        + endpoint.connectTimeout().toMillis() + " ms (pool.connect_timeout)");
            }
        }, endpoint.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    // ---- Netty events ----

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        if (state == State.CLOSED) {
            ctx.close(); // closed (shutdown, timeout) while the connect was under way
            return;
        }
        frames = new FrameBuffer(endpoint.maxMessageLength());
        if (endpoint.sslContext() != null) {
            state = State.TLS_NEGOTIATION;
            ctx.writeAndFlush(Messages.untypedCode(ctx.alloc(), Messages.SSL_REQUEST_CODE));
        } else {
            sendStartup(ctx);
        }
        ctx.fireChannelActive();
    }

    private void sendStartup(ChannelHandlerContext ctx) {
        state = State.LOGIN;
        Map<String, String> startup = new LinkedHashMap<>();
        startup.put("user", endpoint.user());
        startup.put("database", endpoint.database());
        startup.put("application_name", "sluice");
        ctx.writeAndFlush(Messages.startupMessage(ctx.alloc(), startup));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        ServerListener l = listener;
        boolean lent = state == State.READY && internal == null && l != null;
        Object reader = lent ? l : this;
        if (reader != lastReader) {
            if (!handOverClean()) {
                in.release();
                fail("server connection to " + endpoint.label() + " sent data while changing hands"
                        + " (a message not asked for, split between two readers); closed");
                return;
            }
            lastReader = reader;
        }
        if (lent) {
            handedOver += in.readableBytes();
            l.serverRead(this, in);
            return;
        }
        try {
            switch (state) {
                case TLS_NEGOTIATION -> readTlsAnswer(ctx, in);
                case LOGIN, READY -> {
                    frames.add(ctx.alloc(), in);
                    readFrames(ctx);
                }
                default -> in.release();
            }
        } catch (ProtocolException | AuthException e) {
            fail((state == State.READY ? "server connection to " : "login to upstream ") + endpoint.label() + " failed: " + e.getMessage());
        }
    }

    /**
     * Whether the bytes read so far end on a message boundary for whoever read them, so the next
     * bytes may go to another reader. A listener on another loop may give the connection back
     * while bytes it was passed are still on their way to it; those bytes (PostgreSQL speaking
     * unasked, such as a FATAL at shutdown) are then dropped there, and the stream is no longer
     * whole: nobody may read from it again.
     */
    private boolean handOverClean() {
        if (lastReader == null) {
            return true;
        }
        if (lastReader == this) {
            return frames == null || !frames.isReadable();
        }
        return handedOver == taken;
    }

    private void readTlsAnswer(ChannelHandlerContext ctx, ByteBuf in) {
        try {
            byte answer = in.readByte();
            if (in.isReadable()) {
                // Bytes after the one-byte answer and before the handshake could be injected by a
                // man in the middle (CVE-2021-23222): never act on them.
                throw new ProtocolException("unexpected data after the SSLRequest answer");
            }
            if (answer == 'S') {
                SSLEngine engine = endpoint.sslContext().newEngine(ctx.alloc(), endpoint.host(), endpoint.port());
                if (endpoint.verifyHostname()) {
                    SSLParameters p = engine.getSSLParameters();
                    p.setEndpointIdentificationAlgorithm("HTTPS");
                    engine.setSSLParameters(p);
                }
                SslHandler ssl = new SslHandler(engine);
                ctx.pipeline().addFirst("tls", ssl);
                ssl.handshakeFuture().addListener(f -> {
                    if (f.isSuccess()) {
                        sendStartup(ctx);
                    } else {
                        fail("TLS handshake with upstream " + endpoint.label() + " failed: " + describe(f.cause()));
                    }
                });
            } else if (answer == 'N' && !endpoint.tlsRequired()) {
                sendStartup(ctx);
            } else if (answer == 'N') {
                fail("upstream " + endpoint.label() + " does not support TLS (tls.server.mode requires it)");
            } else {
                throw new ProtocolException("unexpected answer to SSLRequest: " + answer);
            }
        } finally {
            in.release();
        }
    }

    private void readFrames(ChannelHandlerContext ctx) throws AuthException {
        int size;
        while (state != State.CLOSED && (size = frames.nextFrame()) > 0) {
            ByteBuf b = frames.buffer();
            int start = b.readerIndex();
            BackendType type = BackendType.of(b.getByte(start));
            if (type == null) {
                throw new ProtocolException("unknown message type " + b.getByte(start));
            }
            try {
                switch (type) {
                    case AUTHENTICATION -> authenticate(ctx, b, start, size);
                    case PARAMETER_STATUS -> {
                        lastSession = null;
                        appliedParamsKey = null;
                        params.put(Messages.cstringAt(b, start + 5, start + size),
                            Messages.cstringAt(b, Messages.skipCstring(b, start + 5, start + size), start + size));
                    }
                    case BACKEND_KEY_DATA -> {
                        backendPid = b.getInt(start + 5);
                        backendSecret = b.getInt(start + 9);
                    }
                    case ERROR_RESPONSE -> errorReceived(b, start, size);
                    case READY_FOR_QUERY -> readyForQuery(b.getByte(start + 5));
                    case NOTICE_RESPONSE, NOTIFICATION_RESPONSE, NEGOTIATE_PROTOCOL_VERSION -> {
                    }
                    default -> {
                        if (internal == null) {
                            throw new ProtocolException("unexpected message '" + (char) type.code()
                                    + "' from an idle server connection");
                        }
                    }
                }
            } finally {
                b.readerIndex(start + size);
            }
        }
        frames.discardIfEmpty();
    }

    private void authenticate(ChannelHandlerContext ctx, ByteBuf b, int start, int size) throws AuthException {
        int code = b.getInt(start + 5);
        String password = endpoint.password();
        switch (code) {
            case Messages.AUTH_OK -> {
            }
            case Messages.AUTH_CLEARTEXT -> {
                requirePassword(password, "a cleartext password");
                if (password.startsWith("md5") && password.length() == 35) {
                    throw new AuthException("upstream asks for a cleartext password but only an md5 hash is configured");
                }
                ctx.writeAndFlush(Messages.passwordMessage(ctx.alloc(), password));
            }
            case Messages.AUTH_MD5 -> {
                requirePassword(password, "an md5 password");
                byte[] salt = new byte[4];
                b.getBytes(start + 9, salt);
                ctx.writeAndFlush(Messages.passwordMessage(ctx.alloc(), Md5Password.response(endpoint.user(), password, salt)));
            }
            case Messages.AUTH_SASL -> {
                requirePassword(password, "SCRAM-SHA-256");
                boolean offered = false;
                int i = start + 9;
                int end = start + size;
                while (i < end && b.getByte(i) != 0) {
                    if ("SCRAM-SHA-256".equals(Messages.cstringAt(b, i, end))) {
                        offered = true;
                    }
                    i = Messages.skipCstring(b, i, end);
                }
                if (!offered) {
                    throw new AuthException("upstream offers no SASL mechanism Sluice supports (SCRAM-SHA-256)");
                }
                scram = new ScramClient(password);
                ctx.writeAndFlush(Messages.saslInitialResponse(ctx.alloc(), "SCRAM-SHA-256", scram.clientFirstMessage()));
            }
            case Messages.AUTH_SASL_CONTINUE -> {
                if (scram == null) {
                    throw new ProtocolException("SASL continue without SASL start");
                }
                String serverFirst = b.toString(start + 9, size - 9, StandardCharsets.UTF_8);
                ctx.writeAndFlush(Messages.saslResponse(ctx.alloc(), scram.clientFinalMessage(serverFirst)));
            }
            case Messages.AUTH_SASL_FINAL -> {
                if (scram == null) {
                    throw new ProtocolException("SASL final without SASL start");
                }
                scram.verifyServerFinal(b.toString(start + 9, size - 9, StandardCharsets.UTF_8));
            }
            default -> throw new AuthException("upstream asks for an unsupported authentication method (code " + code + ")");
        }
    }

    private void requirePassword(String password, String what) throws AuthException {
        if (password == null || password.isEmpty()) {
            throw new AuthException("upstream asks for " + what + " for user \"" + endpoint.user()
                    + "\" but no password is configured for it");
        }
    }

    private void errorReceived(ByteBuf b, int start, int size) {
        String severity = Messages.errorField(b, start, size, 'V');
        String message = Messages.errorField(b, start, size, 'M');
        String code = Messages.errorField(b, start, size, 'C');
        if (state == State.LOGIN) {
            fail("upstream " + endpoint.label() + " refused login: " + message + " (SQLSTATE " + code + ")");
        } else if (internal != null) {
            internal.error = message + " (SQLSTATE " + code + ")";
        } else {
            log.warn("server {} sent {} while idle: {} ({})", id, severity, message, code);
            broken = true;
        }
    }

    private void readyForQuery(byte status) {
        transactionStatus = status;
        if (state == State.LOGIN) {
            state = State.READY;
            if (loginTimeout != null) {
                loginTimeout.cancel(false);
            }
            scram = null;
            owner.serverReady(this);
        } else if (internal != null) {
            Internal done = internal;
            internal = null;
            if (done.error == null && status != 'I') {
                done.error = "connection not idle after internal query (status " + (char) status + ")";
            }
            done.callback.accept(done.error);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ServerListener l = listener;
        if (l != null) {
            l.serverWritabilityChanged(this, ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        closeReason = "server connection to " + endpoint.label() + " failed: " + describe(cause);
        if (cause instanceof java.io.IOException) {
            log.debug("server {}: {}", id, closeReason, cause);
        } else {
            log.error("server {}: internal error, closing the connection", id, cause);
        }
        broken = true;
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state != State.CLOSED) {
            fail(state == State.READY ? closeReason
                    : "upstream " + endpoint.label() + " closed the connection during login");
        }
    }


    private void fail(String reason) {
        if (state == State.CLOSED) {
            return;
        }
        boolean wasReady = state == State.READY;
        state = State.CLOSED;
        broken = true;
        closeReason = reason;
        if (loginTimeout != null) {
            loginTimeout.cancel(false);
        }
        if (frames != null) {
            frames.release();
        }
        if (channel != null) {
            channel.close();
        }
        if (wasReady) {
            if (internal != null) {
                Internal i = internal;
                internal = null;
                i.callback.accept(reason);
            }
            ServerListener l = listener;
            if (l != null) {
                l.serverClosed(this, reason);
            }
            owner.serverClosed(this);
        } else {
            owner.serverFailed(this, reason);
        }
    }

    private static String describe(Throwable t) {
        if (t == null) {
            return "unknown error";
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m;
    }

    @Override
    public String toString() {
        return "server#" + id + "(" + endpoint.user() + "@" + endpoint.label() + ", pid " + backendPid + ")";
    }

    /** The PostgreSQL backend process id of this connection. */
    public int backendPid() {
        return backendPid;
    }

    private static final class Internal {
        final Consumer<String> callback;
        String error;

        Internal(Consumer<String> callback) {
            this.callback = callback;
        }
    }
}

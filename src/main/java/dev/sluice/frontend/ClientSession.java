package dev.sluice.frontend;

import dev.sluice.admission.Classifier;
import dev.sluice.admission.Priority;
import dev.sluice.backend.ServerConnection;
import dev.sluice.backend.ServerListener;
import dev.sluice.backend.StatementKey;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.PoolMode;
import dev.sluice.pool.AcquireCallback;
import dev.sluice.pool.Pool;
import dev.sluice.protocol.BackendType;
import dev.sluice.protocol.FrameBuffer;
import dev.sluice.protocol.FrontendType;
import dev.sluice.protocol.Messages;
import dev.sluice.protocol.ProtocolException;
import dev.sluice.protocol.SqlState;
import dev.sluice.protocol.auth.AuthException;
import dev.sluice.sql.Fingerprinter;
import dev.sluice.sql.StatementKind;
import dev.sluice.stats.Traffic;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: its startup, authentication, and the relay of its traffic to whichever
 * server connection it holds.
 *
 * <h2>Design notes</h2>
 * <p><b>Phases.</b> {@code STARTUP} reads untyped packets (SSLRequest, GSSENCRequest,
 * CancelRequest, StartupMessage) of at most 10,000 bytes; {@code AUTH} runs the password
 * exchange with typed frames of the same bound; {@code LOGIN} waits for the pool to learn the
 * server's parameters; {@code READY} relays. Anything else a client sends in a phase is a protocol
 * violation: ErrorResponse 08P01 and disconnect, never an effect on another client.
 *
 * <p><b>Relay.</b> Both directions are walked frame by frame in place ({@link FrameBuffer}) and
 * forwarded as retained slices covering runs of frames (or, when a run reaches the end of what
 * was read, as the buffer itself); only the few frames a decision needs are
 * read (names in Parse/Bind/Describe/Close in transaction mode, ReadyForQuery status,
 * ParameterStatus, CommandComplete tags, ErrorResponse severity). All state of the session,
 * including both directions and the server connection's protocol state while it is held, is
 * touched only on this client's event loop; bytes from a server connection on another loop hop
 * over ({@link #serverRead}).
 *
 * <p><b>Transaction pooling.</b> A server connection is taken when a message arrives and none is
 * held, and given back when PostgreSQL reported ReadyForQuery 'I', every request sent has been
 * answered ({@link RequestTracker}), and the client has no further complete message waiting.
 * Named prepared statements are renamed per server connection ({@code sluice_<n>}) and prepared
 * again transparently when the client lands on a connection that lacks them; a Parse of a
 * statement the connection already has is answered by Sluice. The client's reported parameters
 * (client_encoding, DateStyle, TimeZone, IntervalStyle, standard_conforming_strings,
 * application_name, search_path) are re-applied with one SET query when they differ on the
 * connection it gets. Session state that cannot move with the client pins the client to its
 * connection until it disconnects (SQL PREPARE, LISTEN, DECLARE CURSOR, CREATE TABLE, session
 * advisory locks); a session-level SET is undone with RESET ALL (plus RESET ROLE and RESET
 * SESSION AUTHORIZATION, which RESET ALL skips) before the connection is reused.
 *
 * <p><b>ByteBuf ownership.</b> {@link #channelRead} and {@link #serverRead} take ownership of
 * their buffer into a {@link FrameBuffer}; forwarded frames leave as retained slices, or as the
 * whole buffer when the last run of a read reaches its end ({@link FrameBuffer#takeRun}); the
 * frame buffers are released when the session closes.
 */
final class ClientSession extends ChannelInboundHandlerAdapter implements ServerListener, AcquireCallback {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    static final int MAX_STARTUP_LENGTH = 10_000;
    /** Bytes a client may send ahead while it waits for a server connection before Sluice stops reading it. */
    static final int WAIT_BUFFER_LIMIT = 256 * 1024;

    /** Parameters re-applied when a client moves between server connections. */
    static final List<String> TRACKED = List.of("client_encoding", "DateStyle", "TimeZone", "IntervalStyle",
            "standard_conforming_strings", "application_name", "search_path");
    /**
     * Startup parameters that need nothing: who and where, and pgjdbc's extra_float_digits (every
     * value above 0 gives the same exact output since PostgreSQL 12).
     */
    private static final Set<String> STARTUP_ACCEPTED = Set.of("user", "database", "replication", "extra_float_digits");
    private static final byte[] ADVISORY_LOCK = "advisory_lock".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SET_CONFIG = "set_config".getBytes(StandardCharsets.US_ASCII);
    /** The server statement name of the Parse that checks a duplicate's text, closed right after. */
    private static final String DUPLICATE_CHECK = "sluice_duplicate";

    private enum Phase { STARTUP, AUTH, LOGIN, READY, CONSOLE, CLOSED }

    private final ProxyServer proxy;
    /**
     * The proxy's configuration, read again at login and at each acquire so that a reload reaches
     * connected clients (users, timeouts, admission); per-session things keep the value they
     * started with.
     */
    private SluiceConfig config;
    private final FrameBuffer fromClient = new FrameBuffer(MAX_STARTUP_LENGTH);
    private final FrameBuffer fromServer;
    private final RequestTracker tracker = new RequestTracker();
    private final Map<String, String> desired = new HashMap<>();
    /** {@code desired}'s application_name as of {@code paramsVersion == applicationVersion} (see application()). */
    private String application;
    private int applicationVersion = -1;
    /** Client statement name to statement identity (transaction mode only). */
    private final Map<String, StatementKey> statements = new HashMap<>();
    private final List<ByteBuf> outToServer = new ArrayList<>(4);
    /**
     * Messages written in place of the client frame being relayed (renamed Bind/Describe, injected
     * Parse/Close); queued after the untouched frames that preceded it, so the order is kept.
     */
    private final List<ByteBuf> rewritten = new ArrayList<>(4);

    private Phase phase = Phase.STARTUP;
    private Channel channel;
    private EventLoop loop;
    private boolean tlsRequested;
    private String user = "";
    private String database = "";
    private ClientAuth auth;
    private Pool pool;
    private boolean transactionMode;
    private int keyPid;
    private int keySecret;

    private ServerConnection server;
    private boolean acquiring;
    private Object acquireTicket;
    /** In an extended-protocol error: drop client messages up to the next Sync (PostgreSQL would). */
    private boolean skipToSync;
    private boolean pinned;
    /** Extended-protocol messages went out since the last Sync was answered. */
    private boolean syncOwed;
    /** Whether request latencies feed the upstream's adaptive limit. */
    private boolean sampling;
    /** The autocommit simple query in flight, kept until its end in case PostgreSQL asks for a retry. */
    private ByteBuf retryFrame;
    private int retryAttempts;
    private boolean retryWanted;
    private boolean retryPending;
    private ByteBuf heldRowDescription;
    /**
     * An autocommit extended-protocol exchange that may be retried: its Bind and Execute as sent
     * (retained slices), kept from the exchange's first message until its ReadyForQuery.
     * {@code extState}: 0 none, 1 collecting, 2 complete up to Sync (retry possible), -1 not retryable.
     */
    private ByteBuf retryBind;
    private ByteBuf retryExecute;
    private int extState;
    /** The exchange collected for a retry holds a Parse of a statement that is safe to run again. */
    private boolean extParsed;
    private boolean extRetryWanted;
    /** Bumped whenever {@link #desired} changes. */
    private int paramsVersion;
    private String paramsKey;
    private int paramsKeyVersion;
    private boolean dirty;
    /** Startup parameters the client gave that Sluice does not apply, warned about at login; null when none. */
    private List<String> notApplied;
    /** Names of this client's prepared statements whose text calls set_config; null while none. */
    private Set<String> configSetters;
    /**
     * A statement that may drop prepared statements (DEALLOCATE, DISCARD) went to the server and
     * may not be answered yet: until everything is, the client's names are in doubt.
     */
    private boolean dropMayRun;
    /** The client's unnamed statement may drop prepared statements (see {@link #dropMayRun}). */
    private boolean unnamedDrops;
    /** Syncs sent on the current server connection: numbers the exchanges a Parse may be skipped in. */
    private int syncsSent;
    /**
     * Server statement names Sluice sent a Parse for and PostgreSQL has not answered yet, with the
     * {@link #syncsSent} of that Parse's exchange; null while none. An error earlier in that
     * exchange makes PostgreSQL skip the Parse, so a later exchange must not count on it.
     */
    private Map<String, Prepared> parsesInFlight;
    private boolean fatalForwarded;
    private boolean shuttingDown;
    private ScheduledFuture<?> idleInTransactionTimer;
    private final Traffic traffic;
    /** Feeds per-fingerprint statistics; null when they are off ({@code stats.enabled}). */
    private StatementTimer timer;
    private final long connectedAtMillis = System.currentTimeMillis();
    /** When the request in flight started (its first message went to a server), 0 when none. */
    private long requestStartNanos;
    private long lastRequestNanos;
    private long acquireStartNanos;
    private Priority priority = Priority.NORMAL;
    /** The class of this client's requests without a hint, as {@code classifiedBy} decided for {@code classifiedApp}. */
    private Priority classified;
    private Classifier classifiedBy;
    private String classifiedApp;
    /** Console: a query is being answered; further input waits. */
    private boolean consoleBusy;
    /** Console: an unsupported extended-protocol message was refused; skip to Sync. */
    private boolean consoleSkipToSync;
    /**
     * The server is in copy-in for this client and the client has not sent its CopyDone or
     * CopyFail yet: PostgreSQL ignores the Syncs it sends meanwhile, so they are not tracked.
     */
    private boolean copyInSyncsIgnored;
    /** The request at the head of the tracker is a copy-in PostgreSQL has not ended yet. */
    private boolean copyInActive;
    /**
     * Syncs of the current copy-in taken as ignored. Right if the copy succeeds; if it fails
     * before PostgreSQL read some of them, it answers those, so a fence follows the failure.
     */
    private int copyDroppedSyncs;
    /** The fence's EmptyQueryResponse came: the next ReadyForQuery is the fence's own. */
    private boolean fenceAnswered;
    /** A ReadyForQuery held back while a fence is out: the client's, unless the fence's answer follows. */
    private ByteBuf heldReady;

    ClientSession(ProxyServer proxy) {
        this.proxy = proxy;
        this.config = proxy.config();
        this.traffic = proxy.traffic();
        this.timer = config.stats().enabled() ? new StatementTimer(proxy.queryStats()) : null;
        this.fromServer = new FrameBuffer(config.maxMessageLength());
    }

    // ------------------------------------------------------------------ Netty events

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        loop = ctx.channel().eventLoop();
        if (!proxy.register(this)) {
            fatal(SqlState.TOO_MANY_CONNECTIONS, "sorry, too many clients already (pool.max_client_conn="
                    + config.pool().maxClientConn() + ")");
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        if (phase == Phase.CLOSED) {
            in.release();
            return;
        }
        traffic.bytesFromClients(in.readableBytes());
        fromClient.add(ctx.alloc(), in);
        if (acquiring && fromClient.buffer().readableBytes() > WAIT_BUFFER_LIMIT) {
            ctx.channel().config().setAutoRead(false); // resumed when a server connection arrives
        }
        try {
            readClient();
        } catch (ProtocolException e) {
            log.atDebug().addKeyValue("client", keyPid).log("client {}: protocol violation: {}", keyPid, e.getMessage());
            fatal(SqlState.PROTOCOL_VIOLATION, e.getMessage());
        }
    }

    private void readClient() {
        while (true) {
            switch (phase) {
                case STARTUP -> {
                    if (!readStartupPacket()) {
                        return;
                    }
                }
                case AUTH -> {
                    if (!readAuthMessage()) {
                        return;
                    }
                }
                case READY -> {
                    relayClient();
                    return;
                }
                case CONSOLE -> {
                    readConsole();
                    return;
                }
                default -> {
                    return;
                }
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // backpressure: a slow client stops reads from its server connection, not memory growth
        ServerConnection s = server;
        if (s != null) {
            s.channel().config().setAutoRead(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            log.atDebug().addKeyValue("client", keyPid).log("client {}: {}", keyPid, cause.toString()); // the peer went away
            ctx.close();
        } else {
            log.atError().addKeyValue("client", keyPid).setCause(cause)
                    .log("client {}: internal error, closing the connection", keyPid);
            fatal(SqlState.INTERNAL_ERROR, "internal error in Sluice: " + cause);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeSession();
        ctx.fireChannelInactive();
    }

    // ------------------------------------------------------------------ startup

    /** Reads one untyped startup-phase packet; false when more bytes are needed. */
    private boolean readStartupPacket() {
        ByteBuf b = fromClient.buffer();
        if (b == null || b.readableBytes() < 4) {
            return false;
        }
        int r = b.readerIndex();
        int length = b.getInt(r);
        if (length < 8 || length > MAX_STARTUP_LENGTH) {
            throw new ProtocolException("invalid startup packet length: " + length + " (expected: 8 to "
                    + MAX_STARTUP_LENGTH + ")");
        }
        if (b.readableBytes() < length) {
            return false;
        }
        int code = b.getInt(r + 4);
        b.readerIndex(r + length);
        switch (code) {
            case Messages.SSL_REQUEST_CODE -> sslRequest(length, b);
            case Messages.GSSENC_REQUEST_CODE -> channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}));
            case Messages.CANCEL_REQUEST_CODE -> {
                if (length != 16) {
                    throw new ProtocolException("invalid CancelRequest length: " + length + " (expected: 16)");
                }
                proxy.cancel(b.getInt(r + 8), b.getInt(r + 12));
                phase = Phase.CLOSED;
                channel.close();
                return false;
            }
            default -> {
                if (code >>> 16 != 3) {
                    throw new ProtocolException("unsupported frontend protocol " + (code >>> 16) + "." + (code & 0xffff)
                            + ": server supports 3.0");
                }
                startupMessage(b, r + 8, r + length, code & 0xffff);
            }
        }
        fromClient.discardIfEmpty();
        return phase != Phase.CLOSED;
    }

    private void sslRequest(int length, ByteBuf b) {
        if (length != 8 || tlsRequested) {
            throw new ProtocolException("unexpected SSLRequest");
        }
        tlsRequested = true;
        if (proxy.clientSsl() == null) {
            channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}));
            return;
        }
        if (b.isReadable()) {
            // bytes sent before the TLS handshake were not protected by it and could have been
            // injected by a man in the middle (CVE-2021-23214): refuse, never process them
            throw new ProtocolException("received unencrypted data after SSL request");
        }
        // startTls: the 'S' answer below still goes out in plain text, everything after is encrypted
        SslHandler ssl = new SslHandler(proxy.clientSsl().newEngine(channel.alloc()), true);
        channel.pipeline().addFirst("tls", ssl);
        channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'S'}));
    }

    private void startupMessage(ByteBuf b, int from, int end, int minor) {
        Map<String, String> params = new LinkedHashMap<>();
        List<String> unsupportedOptions = new ArrayList<>();
        int i = from;
        while (true) {
            if (i >= end) {
                throw new ProtocolException("invalid startup packet layout: expected terminator as last byte");
            }
            if (b.getByte(i) == 0) {
                if (i != end - 1) {
                    throw new ProtocolException("invalid startup packet layout: data after terminator");
                }
                break;
            }
            String key = Messages.cstringAt(b, i, end);
            i = Messages.skipCstring(b, i, end);
            if (i >= end) {
                throw new ProtocolException("invalid startup packet layout: expected terminator as last byte");
            }
            String value = Messages.cstringAt(b, i, end);
            i = Messages.skipCstring(b, i, end);
            if (key.startsWith("_pq_.")) {
                unsupportedOptions.add(key);
            } else {
                params.put(key, value);
            }
        }
        config = proxy.config();
        if (config.clientTls().mode() == SluiceConfig.ClientTlsMode.REQUIRE && channel.pipeline().get(SslHandler.class) == null) {
            fatal(SqlState.INVALID_AUTHORIZATION, "connection requires TLS (tls.client.mode=require)");
            return;
        }
        user = params.getOrDefault("user", "");
        if (user.isEmpty()) {
            fatal(SqlState.INVALID_AUTHORIZATION, "no PostgreSQL user name specified in startup packet");
            return;
        }
        if (params.containsKey("replication") && !"false".equals(params.get("replication"))
                && !"0".equals(params.get("replication"))) {
            fatal(SqlState.FEATURE_NOT_SUPPORTED, "replication connections are not supported by Sluice");
            return;
        }
        database = params.getOrDefault("database", "");
        if (database.isEmpty()) {
            database = user;
        }
        for (Map.Entry<String, String> e : params.entrySet()) {
            // setting names are case-insensitive (libpq sends datestyle and timezone from PGDATESTYLE and PGTZ)
            String tracked = trackedName(e.getKey());
            if (tracked != null) {
                desired.put(tracked, e.getValue());
            } else if (!STARTUP_ACCEPTED.contains(e.getKey().toLowerCase(Locale.ROOT))
                    && !("options".equals(e.getKey()) && e.getValue().isBlank())) {
                if (notApplied == null) {
                    notApplied = new ArrayList<>(2);
                }
                notApplied.add(e.getKey());
            }
        }
        paramsVersion++;
        if (minor > 0 || !unsupportedOptions.isEmpty()) {
            channel.write(Messages.negotiateProtocolVersion(channel.alloc(), 0, unsupportedOptions));
        }
        String stored = config.user(user).map(SluiceConfig.UserConfig::password).orElse(null);
        auth = new ClientAuth(config.authType(), user, stored);
        channel.write(auth.begin(channel.alloc()));
        if (auth.isTrust()) {
            authenticated();
        } else {
            phase = Phase.AUTH;
            channel.flush();
        }
    }

    /** Reads one password-type message; false when more bytes are needed. */
    private boolean readAuthMessage() {
        int size = fromClient.nextFrame();
        if (size == 0) {
            return false;
        }
        ByteBuf b = fromClient.buffer();
        int start = b.readerIndex();
        byte type = b.getByte(start);
        try {
            if (type != FrontendType.PASSWORD.code()) {
                throw new ProtocolException("expected password response, got message type '" + (char) type + "'");
            }
            ByteBuf reply = auth.onMessage(channel.alloc(), b, start, size);
            channel.write(reply);
            if (auth.isDone()) {
                authenticated();
            } else {
                channel.flush();
            }
        } catch (AuthException e) {
            fatal(SqlState.INVALID_PASSWORD, e.getMessage());
            return false;
        } finally {
            if (b.refCnt() > 0) {
                b.readerIndex(start + size);
            }
        }
        fromClient.discardIfEmpty();
        return phase != Phase.CLOSED;
    }

    /** The password checked out: find the pool, learn the server's parameters if needed, greet. */
    private void authenticated() {
        auth = null;
        // user, database, application name and the parameters key are interned (once logged in,
        // so that clients who fail to log in add nothing to the JVM's string table): per statement
        // or transaction they are compared with other sessions' (statistics sources, the
        // parameters a server connection has), and one shared instance answers by identity
        // without reading another session's copy
        user = user.intern();
        database = database.intern();
        traffic.clientLogin();
        AdminConsole console = proxy.console();
        if (console != null && AdminConsole.isConsoleDatabase(database)) {
            if (!console.allowed(user)) {
                fatal(SqlState.INSUFFICIENT_PRIVILEGE, "permission denied: user \"" + user
                        + "\" is not an admin user of the Sluice console (admin_users)");
                return;
            }
            greetConsole();
            return;
        }
        var p = proxy.pools().pool(database, user);
        if (p.isEmpty()) {
            fatal(SqlState.INVALID_CATALOG_NAME, "database \"" + database + "\" does not exist");
            return;
        }
        pool = p.get();
        transactionMode = pool.mode() == PoolMode.TRANSACTION;
        sampling = pool.upstream().adaptiveLimit() != null;
        fromClient.maxLength(config.maxMessageLength());
        phase = Phase.LOGIN;
        if (pool.serverParams() == null) {
            channel.flush();
            requestServer();
        } else {
            greet();
        }
    }

    /** The name in {@link #TRACKED} that {@code key} spells in any letter case, or null. */
    private static String trackedName(String key) {
        for (String t : TRACKED) {
            if (t.equalsIgnoreCase(key)) {
                return t;
            }
        }
        return null;
    }

    private void greet() {
        phase = Phase.READY;
        long key = proxy.newCancelKey(this);
        keyPid = (int) (key >>> 32);
        keySecret = (int) key;
        Map<String, String> params = new LinkedHashMap<>(pool.serverParams());
        // what the client did not ask for, it gets as a fresh connection would have it, and keeps
        // on every server connection it lands on (never what the previous client set there)
        for (String k : TRACKED) {
            String v = pool.serverParams().get(k);
            if (v != null && !desired.containsKey(k)) {
                desired.put(k, v);
            }
        }
        paramsVersion++;
        for (Map.Entry<String, String> e : desired.entrySet()) {
            if (!"search_path".equals(e.getKey())) {
                params.put(e.getKey(), e.getValue());
            }
        }
        ByteBuf out = channel.alloc().buffer(512);
        Messages.parameterStatuses(out, params);
        channel.write(out);
        channel.write(Messages.backendKeyData(channel.alloc(), keyPid, keySecret));
        if (notApplied != null) {
            // PostgreSQL would apply them; Sluice's server connections are shared, so say so
            channel.write(Messages.noticeResponse(channel.alloc(), "WARNING", SqlState.WARNING,
                    "Sluice does not apply startup parameter" + (notApplied.size() > 1 ? "s " : " ")
                            + String.join(", ", notApplied) + ": server connections are shared, and only "
                            + String.join(", ", TRACKED) + " are kept per client; set others with ALTER ROLE ... SET,"
                            + " ALTER DATABASE ... SET or SET LOCAL inside a transaction"));
            notApplied = null;
        }
        channel.writeAndFlush(Messages.readyForQuery(channel.alloc(), (byte) 'I'));
    }

    // ------------------------------------------------------------------ acquiring a server

    private void requestServer() {
        requestServer(null);
    }

    /**
     * Asks the pool for a server connection, classified by the rules and, when the message about
     * to be sent starts with a {@code /* sluice: priority=... *}{@code /} hint, by that hint.
     */
    private void requestServer(String hint) {
        if (acquiring || phase == Phase.CLOSED) {
            return;
        }
        acquiring = true;
        acquireStartNanos = System.nanoTime();
        config = proxy.config();
        Classifier classifier = proxy.classifier();
        String app = application();
        if (hint != null) {
            priority = classifier.classify(new Classifier.Client(database, user, app, remoteAddress()), hint);
        } else {
            // without a hint the class depends only on who the client is: classified again only
            // when the rules (a reload) or its application_name changed
            if (classifiedBy != classifier || classifiedApp != app) {
                classified = classifier.classify(new Classifier.Client(database, user, app, remoteAddress()), null);
                classifiedBy = classifier;
                classifiedApp = app;
            }
            priority = classified;
        }
        // Reading goes on while waiting: a client waits for its answer anyway, and pausing and
        // resuming the socket for every wait costs two epoll_ctl calls; channelRead stops reading
        // only a client that keeps sending (WAIT_BUFFER_LIMIT).
        acquireTicket = pool.acquire(loop, priority, user, app, this);
    }

    /** The client's application_name as it stands now (null when none). */
    private String application() {
        if (applicationVersion != paramsVersion) {
            String name = desired.get("application_name");
            application = name == null ? null : name.intern();
            applicationVersion = paramsVersion;
        }
        return application;
    }

    private InetAddress remoteAddress() {
        return channel.remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
    }

    /** The priority hint of a Query or Parse message whose text starts with a comment, or null. */
    private static String hintOf(ByteBuf b, int start, int size, FrontendType type) {
        int end = start + size;
        int from = type == FrontendType.QUERY ? start + 5
                : type == FrontendType.PARSE ? Messages.skipCstring(b, start + 5, end) : -1;
        if (from < 0) {
            return null;
        }
        while (from < end && (b.getByte(from) == ' ' || b.getByte(from) == '\n' || b.getByte(from) == '\t'
                || b.getByte(from) == '\r')) {
            from++;
        }
        if (from + 2 > end || b.getByte(from) != '/' || b.getByte(from + 1) != '*') {
            return null; // the common case: no comment, no lexing
        }
        int textEnd = b.indexOf(from, end, (byte) 0);
        return Fingerprinter.fingerprint(b, from, textEnd < 0 ? end : textEnd).hints().get("priority");
    }

    @Override
    public void acquired(ServerConnection s) {
        acquiring = false;
        acquireTicket = null;
        long waited = System.nanoTime() - acquireStartNanos;
        traffic.admitted(priority, waited);
        if (timer != null) {
            timer.waited(waited);
        }
        if (phase == Phase.CLOSED) {
            pool.release(s);
            return;
        }
        s.listener(this);
        if (!s.isUsable()) {
            // it died on its way here, before anything was sent on it: get another one
            s.listener(null);
            pool.discard(s);
            requestServer();
            return;
        }
        server = s;
        if (!channel.isWritable()) {
            s.channel().config().setAutoRead(false);
        }
        channel.config().setAutoRead(true);
        if (phase == Phase.LOGIN) {
            greet();
        }
        applyParameters();
        relayClient();
        maybeRelease();
    }

    @Override
    public void failed(String sqlState, String message) {
        acquiring = false;
        acquireTicket = null;
        if (phase == Phase.CLOSED) {
            return;
        }
        if (phase == Phase.LOGIN || SqlState.CONNECTION_FAILURE.equals(sqlState) && !transactionMode) {
            fatal(sqlState, message);
            return;
        }
        traffic.refusal(sqlState);
        // The client keeps its connection: answer what it sent with one error, as PostgreSQL
        // would after a failed statement, and drop the messages up to its next Sync.
        channel.config().setAutoRead(true);
        failPending(sqlState, message);
    }

    /** Discards the client's waiting messages after a refusal and answers them with one error. */
    private void failPending(String sqlState, String message) {
        boolean sync = false;
        boolean any = false;
        int size;
        while ((size = fromClient.nextFrame()) > 0) {
            ByteBuf b = fromClient.buffer();
            byte type = b.getByte(b.readerIndex());
            b.skipBytes(size);
            any = true;
            if (type == FrontendType.TERMINATE.code()) {
                channel.close();
                return;
            }
            if (type == FrontendType.SYNC.code() || type == FrontendType.QUERY.code()
                    || type == FrontendType.FUNCTION_CALL.code()) {
                sync = true;
                break;
            }
        }
        fromClient.discardIfEmpty();
        if (any) {
            channel.write(Messages.errorResponse(channel.alloc(), "ERROR", sqlState, message));
            if (sync) {
                channel.write(Messages.readyForQuery(channel.alloc(), (byte) 'I'));
            } else {
                skipToSync = true;
            }
            channel.flush();
        }
        if (fromClient.isReadable()) {
            readClient();
        }
    }

    /**
     * Re-applies the client's parameters that differ on the server connection it just got, with
     * one {@code set_config} query whose answers are swallowed. Values travel as escaped string
     * literals, so nothing a client put in its startup packet is ever run as SQL.
     */
    private void applyParameters() {
        if (server.lastSession == this && server.lastParamsVersion == paramsVersion) {
            return; // the connection still has exactly what this session set last time
        }
        String key = paramsKey();
        if (key.equals(server.appliedParamsKey)) {
            // another client with the same parameters set them here last: nothing to compare
            server.lastSession = this;
            server.lastParamsVersion = paramsVersion;
            return;
        }
        StringBuilder sql = null;
        List<String> keys = null;
        Map<String, String> have = server.params();
        for (Map.Entry<String, String> e : desired.entrySet()) {
            String value = e.getValue();
            if (!value.equals(have.get(e.getKey()))) {
                if (sql == null) {
                    sql = new StringBuilder(96).append("SELECT ");
                    keys = new ArrayList<>(4);
                } else {
                    sql.append(", ");
                }
                sql.append("pg_catalog.set_config('").append(e.getKey()).append("', E'");
                for (int i = 0; i < value.length(); i++) {
                    char c = value.charAt(i);
                    if (c == '\\' || c == '\'') {
                        sql.append('\\');
                    }
                    sql.append(c);
                }
                sql.append("', false)");
                keys.add(e.getKey());
                if ("search_path".equals(e.getKey())) {
                    // not reported by ParameterStatus: what was set is all Sluice will know
                    have.put(e.getKey(), value);
                }
            }
        }
        if (!desired.containsKey("search_path") && have.remove("search_path") != null) {
            // a previous client's search_path (never reported by PostgreSQL) must not stay
            sql = sql == null ? new StringBuilder("RESET search_path") : sql.insert(0, "RESET search_path; ");
            keys = keys == null ? new ArrayList<>(1) : keys;
        }
        if (sql != null) {
            tracker.add(RequestTracker.INJECTED_QUERY, keys);
            outToServer.add(Messages.query(channel.alloc(), sql.toString()));
            server.appliedParamsKey = null; // known once PostgreSQL confirmed (adoptServerValues)
        } else {
            server.appliedParamsKey = key;
        }
        server.lastSession = this;
        server.lastParamsVersion = paramsVersion;
    }

    /** All of {@link #desired} as one string, rebuilt only when it changed. */
    private String paramsKey() {
        if (paramsKey == null || paramsKeyVersion != paramsVersion) {
            StringBuilder sb = new StringBuilder(128);
            for (Map.Entry<String, String> e : new java.util.TreeMap<>(desired).entrySet()) {
                sb.append(e.getKey()).append('=').append(e.getValue()).append('\u0000');
            }
            paramsKey = sb.toString().intern();
            paramsKeyVersion = paramsVersion;
        }
        return paramsKey;
    }

    /**
     * PostgreSQL refused a parameter the client asked for (say, an unknown time zone in its
     * startup packet): nothing of that query took effect, so those parameters stop following the
     * client, which is told with a warning.
     */
    private void parametersRefused(Object keys, ByteBuf b, int start, int size) {
        if (keys instanceof List<?> list) {
            for (Object k : list) {
                desired.remove(k);
                server.params().remove(k);
            }
        }
        server.lastSession = null;
        server.appliedParamsKey = null;
        paramsVersion++;
        String message = Messages.errorField(b, start, size, 'M');
        channel.write(Messages.noticeResponse(channel.alloc(), "WARNING", SqlState.INVALID_PARAMETER_VALUE,
                "Sluice could not apply a connection parameter on a server connection: " + message), channel.voidPromise());
    }

    /**
     * After the SET that re-applied the client's parameters: the client's values become the
     * server's reported ones. PostgreSQL reports a parameter only when its value changes and
     * normalises what it is given ({@code DateStyle 'ISO'} keeps the current field order), so a
     * value as the client first sent it may differ from, and mean less than, the one in force.
     */
    private void adoptServerValues() {
        Map<String, String> have = server.params();
        for (Map.Entry<String, String> e : desired.entrySet()) {
            String actual = have.get(e.getKey());
            if (actual != null && !"search_path".equals(e.getKey()) && !actual.equals(e.getValue())) {
                e.setValue(actual);
                paramsVersion++;
            }
        }
    }

    // ------------------------------------------------------------------ client -> server

    /** Forwards every complete client message, rewriting only what transaction pooling needs. */
    private void relayClient() {
        if (retryPending) {
            return; // resumed once the retried statement is answered (serverRead)
        }
        ByteBuf b = fromClient.buffer();
        int runStart = -1;
        int size;
        long now = 0; // one clock reading serves every message of this batch
        try {
            while (phase == Phase.READY && (size = nextClientFrame()) > 0) {
                int start = b.readerIndex();
                FrontendType type = FrontendType.of(b.getByte(start));
                if (type == FrontendType.TERMINATE) {
                    runStart = flushClientRun(b, runStart, start);
                    sendToServer();
                    b.skipBytes(size);
                    phase = Phase.CLOSED;
                    channel.close();
                    return;
                }
                if (skipToSync) {
                    runStart = flushClientRun(b, runStart, start);
                    b.skipBytes(size);
                    if (type == FrontendType.SYNC) {
                        skipToSync = false;
                        if (server == null) {
                            channel.writeAndFlush(Messages.readyForQuery(channel.alloc(), (byte) 'I'));
                        } else {
                            tracker.add(RequestTracker.SYNC);
                            syncsSent++;
                            outToServer.add(b.retainedSlice(start, size));
                        }
                    }
                    continue;
                }
                if (server == null) {
                    runStart = flushClientRun(b, runStart, start);
                    sendToServer();
                    requestServer(hintOf(b, start, size, type));
                    return;
                }
                if (now == 0) {
                    now = System.nanoTime();
                }
                if (requestStartNanos == 0) {
                    requestStartNanos = now;
                    lastRequestNanos = now;
                }
                cancelIdleInTransactionTimer();
                boolean pass = true;
                switch (type) {
                    case QUERY -> {
                        rememberForRetry(b, start, size);
                        tracker.add(RequestTracker.QUERY);
                        if (timer != null) {
                            timer.query(b, start + 5, start + size - 1, now);
                        }
                        if (transactionMode && !pinned) {
                            noteSessionState(b, start, size);
                        }
                    }
                    case FUNCTION_CALL -> {
                        tracker.add(RequestTracker.QUERY);
                        if (timer != null) {
                            timer.untimed();
                        }
                    }
                    case PARSE -> {
                        noteExtended(type, b, start, size);
                        syncOwed = true;
                        pass = parse(b, start, size);
                    }
                    case BIND -> {
                        noteExtended(type, b, start, size);
                        syncOwed = true;
                        pass = bind(b, start, size);
                        if (!pass) {
                            extState = -1; // renamed on the way: not kept for a retry
                        }
                    }
                    case DESCRIBE -> {
                        noteExtended(type, b, start, size);
                        syncOwed = true;
                        pass = describe(b, start, size);
                    }
                    case EXECUTE -> {
                        noteExtended(type, b, start, size);
                        syncOwed = true;
                        tracker.add(RequestTracker.EXECUTE);
                        if (timer != null) {
                            timer.execute(now);
                        }
                    }
                    case CLOSE -> {
                        noteExtended(type, b, start, size);
                        syncOwed = true;
                        pass = close(b, start, size);
                    }
                    case SYNC -> {
                        if (copyInSyncsIgnored) {
                            copyDroppedSyncs++;
                        } else {
                            tracker.add(RequestTracker.SYNC);
                            syncsSent++;
                        }
                        extState = extState == 1 && retryExecute != null && extParsed ? 2 : -1;
                    }
                    case COPY_DONE, COPY_FAIL -> {
                        if (copyInSyncsIgnored) {
                            copyInSyncsIgnored = false;
                        } else {
                            tracker.add(RequestTracker.COPY_END);
                        }
                    }
                    default -> {
                        // Flush, CopyData: no answer of their own
                    }
                }
                if (pass) {
                    if (runStart < 0) {
                        runStart = start;
                    }
                } else {
                    runStart = flushClientRun(b, runStart, start);
                    outToServer.addAll(rewritten);
                    rewritten.clear();
                }
                b.readerIndex(start + size);
                if (!pass) {
                    emitSynthetic();
                }
            }
            ByteBuf run = fromClient.takeRun(runStart);
            if (run != null) {
                outToServer.add(run);
            }
            sendToServer();
        } finally {
            fromClient.discardIfEmpty();
        }
    }

    /**
     * The size of the client's next complete frame, or 0 when incomplete. The type byte is checked
     * as soon as it arrives, as PostgreSQL does: a bad one (say, the zero that starts a second
     * StartupMessage) must not make Sluice wait for however many bytes its length claims.
     */
    private int nextClientFrame() {
        if (!fromClient.isReadable()) {
            return 0;
        }
        ByteBuf b = fromClient.buffer();
        byte code = b.getByte(b.readerIndex());
        FrontendType type = FrontendType.of(code);
        if (type == null || type == FrontendType.PASSWORD) {
            throw new ProtocolException("unexpected message type " + (code >= 0x20 && code < 0x7f
                    ? "'" + (char) code + "'" : String.format("0x%02x", code & 0xff)));
        }
        return fromClient.nextFrame();
    }

    /** Queues the pending run of untouched frames {@code [runStart, end)} for the server. */
    private int flushClientRun(ByteBuf b, int runStart, int end) {
        if (runStart >= 0 && end > runStart) {
            outToServer.add(b.retainedSlice(runStart, end - runStart));
        }
        return -1;
    }

    /** Writes what was queued for the server with one flush (one task when on another loop). */
    private void sendToServer() {
        int n = outToServer.size();
        if (n == 0) {
            return;
        }
        ServerConnection s = server;
        if (s == null) {
            for (ByteBuf buf : outToServer) {
                buf.release();
            }
            outToServer.clear();
            return;
        }
        Channel c = s.channel();
        if (c.eventLoop().inEventLoop()) {
            for (int i = 0; i < n; i++) {
                c.write(outToServer.get(i), c.voidPromise());
            }
            Flusher.flushLater(channel, c);
        } else if (n == 1) {
            c.writeAndFlush(outToServer.get(0), c.voidPromise());
        } else {
            // a CompositeByteBuf starts each part at its reader index: a buffer handed over whole
            // may start mid-way (wrappedUnmodifiableBuffer would read every part from index 0)
            c.writeAndFlush(Unpooled.wrappedBuffer(outToServer.toArray(new ByteBuf[0])), c.voidPromise());
        }
        outToServer.clear();
        if (!c.isWritable()) {
            // backpressure: stop reading the client until PostgreSQL takes its bytes
            channel.config().setAutoRead(false);
        }
    }

    @Override
    public void serverWritabilityChanged(ServerConnection s, boolean writable) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> serverWritabilityChanged(s, writable));
            return;
        }
        if (s == server && writable && !acquiring) {
            channel.config().setAutoRead(true);
        }
    }

    private boolean parse(ByteBuf b, int start, int size) {
        int end = start + size;
        int nameEnd = Messages.skipCstring(b, start + 5, end);
        boolean unnamed = nameEnd == start + 6;
        // the name is decoded only for what looks it up: statistics, or renaming (transaction mode)
        String clientName = unnamed || timer == null && !transactionMode ? ""
                : b.toString(start + 5, nameEnd - start - 6, StandardCharsets.UTF_8);
        if (transactionMode && !unnamed && statements.containsKey(clientName) && !nameInDoubt(clientName)) {
            refuseDuplicate(clientName, b, nameEnd, end);
            return false;
        }
        boolean setsConfig = transactionMode && !pinned && noteSessionState(b, start, size);
        if (timer != null) {
            int textEnd = b.indexOf(nameEnd, end, (byte) 0);
            timer.parse(clientName, b, nameEnd, textEnd < 0 ? end : textEnd);
        }
        if (!transactionMode || unnamed) {
            if (transactionMode) {
                unnamedDrops = StatementKey.mayDropStatements(b, nameEnd, end);
                dropMayRun |= unnamedDrops;
            }
            tracker.add(RequestTracker.PARSE);
            return true;
        }
        StatementKey key = StatementKey.of(b, nameEnd, end - nameEnd);
        dropMayRun |= key.dropsStatements();
        StatementKey previous = statements.put(clientName, key);
        if (setsConfig) {
            if (configSetters == null) {
                configSetters = new HashSet<>();
            }
            configSetters.add(clientName);
        } else if (configSetters != null) {
            configSetters.remove(clientName);
        }
        String onServer = server.statements().get(key);
        if (onServer == null) {
            prepareOnServer(key, RequestTracker.PARSE, clientName, previous);
        } else if (parsedInEarlierExchange(onServer, true) || dropMayBeInFlight()) {
            prepareAgain(key, onServer, RequestTracker.PARSE, clientName, previous);
        } else {
            tracker.add(RequestTracker.SYNTHETIC_PARSE_COMPLETE, new Prepared(key, onServer, clientName, -1, previous));
        }
        return false;
    }

    /**
     * Whether what {@code clientName} means may still change with an answer PostgreSQL has not
     * given yet: a Parse or Close of it in an earlier exchange is skipped if something before it
     * there fails, and a simple Query or a DEALLOCATE or DISCARD may drop every name.
     */
    private boolean nameInDoubt(String clientName) {
        return !tracker.isEmpty() && (dropMayBeInFlight()
                || tracker.anyBeforeLastSync(p -> p instanceof Prepared q && clientName.equals(q.clientName())
                        || p instanceof ClosedName c && clientName.equals(c.clientName())));
    }

    /**
     * Whether something sent and not answered yet may drop prepared statements: a DEALLOCATE or
     * DISCARD (or a text that may be one), or a simple Query, which may run anything.
     */
    private boolean dropMayBeInFlight() {
        return dropMayRun || tracker.hasQuery();
    }

    /**
     * A Parse of a name the client already has (its text from {@code textStart} to {@code end}).
     * PostgreSQL parses and analyses the text first (a syntax error, an unknown table, a failed
     * transaction block are reported as such) and only then refuses the name with 42P05, skipping
     * the rest of the exchange and aborting a transaction block. The server would take the
     * duplicate under the fresh name Sluice gives it, so Sluice sends the text under a scratch name
     * and closes it (an error there reaches the client as is), then a Parse that fails analysis:
     * it stops the exchange at the same point, with the same effects, and its error is answered
     * as PostgreSQL's 42P05. The client's name keeps its first statement.
     */
    private void refuseDuplicate(String clientName, ByteBuf b, int textStart, int end) {
        ByteBuf check = Messages.start(channel.alloc(), FrontendType.PARSE.code(), 32 + end - textStart);
        Messages.cstring(check, DUPLICATE_CHECK);
        check.writeBytes(b, textStart, end - textStart);
        rewritten.add(Messages.finish(check, 0));
        tracker.add(RequestTracker.INJECTED_PARSE);
        // skipped only when the Parse before it failed or was skipped: then there is nothing to close
        rewritten.add(Messages.close(channel.alloc(), (byte) 'S', DUPLICATE_CHECK));
        tracker.add(RequestTracker.INJECTED_CLOSE);
        ByteBuf p = Messages.start(channel.alloc(), FrontendType.PARSE.code(), 96);
        Messages.cstring(p, DUPLICATE_CHECK);
        Messages.cstring(p, "SELECT $0 -- sluice: the client parsed a statement name it already has");
        p.writeShort(0);
        rewritten.add(Messages.finish(p, 0));
        tracker.add(RequestTracker.DUPLICATE_PARSE, clientName);
    }

    /** The server name of {@code key}, preparing it first on this server connection if needed. */
    private String ensurePrepared(StatementKey key) {
        String name = server.statements().get(key);
        if (name == null) {
            return prepareOnServer(key, RequestTracker.INJECTED_PARSE, null, null);
        }
        if (parsedInEarlierExchange(name, false)) {
            prepareAgain(key, name, RequestTracker.INJECTED_PARSE, null, null);
        }
        return name;
    }

    /**
     * Whether {@code name}'s latest Parse went out in an earlier exchange whose answer has not
     * come yet. For a Bind or Describe ({@code clientParse} false) only a Parse Sluice injected
     * counts: if the client's own Parse is skipped, PostgreSQL would not know the name either.
     */
    private boolean parsedInEarlierExchange(String name, boolean clientParse) {
        Prepared p = parsesInFlight == null ? null : parsesInFlight.get(name);
        return p != null && p.exchange() < syncsSent && (clientParse || p.clientName() == null);
    }

    /**
     * Prepares {@code name} again in this exchange: an error earlier in the exchange its Parse went
     * out in may make PostgreSQL skip it. Closing a statement that does not exist is no error, so
     * Close and Parse work whether or not the first Parse ran.
     */
    private void prepareAgain(StatementKey key, String name, byte kind, String clientName, StatementKey previous) {
        sendClose(name);
        sendParse(key, name, kind, clientName, previous);
    }

    private String prepareOnServer(StatementKey key, byte kind, String clientName, StatementKey previous) {
        for (String owed : server.statements().takeClosesOwed()) {
            sendClose(owed);
        }
        String name = server.statements().add(key);
        sendParse(key, name, kind, clientName, previous);
        String evicted = server.statements().evictOne();
        if (evicted != null) {
            sendClose(evicted);
        }
        return name;
    }

    /** Queues a Parse of {@code key} as server statement {@code name}, tracked as in flight. */
    private void sendParse(StatementKey key, String name, byte kind, String clientName, StatementKey previous) {
        ByteBuf p = Messages.start(channel.alloc(), FrontendType.PARSE.code(), 16 + key.bodyLength());
        Messages.cstring(p, name);
        key.writeBody(p);
        rewritten.add(Messages.finish(p, 0));
        Prepared prepared = new Prepared(key, name, clientName, syncsSent, previous);
        tracker.add(kind, prepared);
        if (parsesInFlight == null) {
            parsesInFlight = new HashMap<>();
        }
        parsesInFlight.put(name, prepared);
    }

    /** Queues a Close of server statement {@code name}; its name comes back if the server skips it. */
    private void sendClose(String name) {
        rewritten.add(Messages.close(channel.alloc(), (byte) 'S', name));
        tracker.add(RequestTracker.INJECTED_CLOSE, name);
    }

    private boolean bind(ByteBuf b, int start, int size) {
        int end = start + size;
        int portalEnd = Messages.skipCstring(b, start + 5, end);
        int stmtEnd = Messages.skipCstring(b, portalEnd, end);
        boolean unnamed = stmtEnd == portalEnd + 1;
        String stmtName = unnamed || timer == null && !transactionMode ? ""
                : b.toString(portalEnd, stmtEnd - portalEnd - 1, StandardCharsets.UTF_8);
        if (timer != null) {
            timer.bind(stmtName);
        }
        StatementKey key;
        if (!transactionMode || unnamed || (key = statements.get(stmtName)) == null) {
            dropMayRun |= unnamed && unnamedDrops;
            tracker.add(RequestTracker.BIND);
            return true;
        }
        dropMayRun |= key.dropsStatements();
        if (configSetters != null && configSetters.contains(stmtName)) {
            dirty = true; // it changes settings each time it runs, not only when it was prepared
        }
        String name = ensurePrepared(key);
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        int portalLen = portalEnd - start - 5;
        int restLen = end - stmtEnd;
        ByteBuf head = channel.alloc().buffer(5 + portalLen + nameBytes.length + 1);
        head.writeByte(FrontendType.BIND.code());
        head.writeInt(4 + portalLen + nameBytes.length + 1 + restLen);
        head.writeBytes(b, start + 5, portalLen);
        head.writeBytes(nameBytes);
        head.writeByte(0);
        rewritten.add(head);
        rewritten.add(b.retainedSlice(stmtEnd, restLen));
        tracker.add(RequestTracker.BIND, stmtName); // PostgreSQL's errors name the statement as the client does
        return false;
    }

    private boolean describe(ByteBuf b, int start, int size) {
        byte kind = b.getByte(start + 5);
        String clientName;
        StatementKey key;
        if (!transactionMode || kind != 'S' || size <= 7
                || (key = statements.get(clientName = Messages.cstringAt(b, start + 6, start + size))) == null) {
            tracker.add(RequestTracker.DESCRIBE);
            return true;
        }
        String name = ensurePrepared(key);
        ByteBuf d = Messages.start(channel.alloc(), FrontendType.DESCRIBE.code(), 8 + name.length());
        d.writeByte('S');
        Messages.cstring(d, name);
        rewritten.add(Messages.finish(d, 0));
        tracker.add(RequestTracker.DESCRIBE, clientName);
        return false;
    }

    private boolean close(ByteBuf b, int start, int size) {
        byte kind = b.getByte(start + 5);
        if (timer != null && kind == 'S' && size > 7) {
            timer.close(Messages.cstringAt(b, start + 6, start + size));
        }
        if (!transactionMode || kind != 'S' || size <= 7) {
            tracker.add(RequestTracker.CLOSE);
            return true;
        }
        // the server-side statement stays cached for other clients; this client forgets its name
        String closed = Messages.cstringAt(b, start + 6, start + size);
        StatementKey was = statements.remove(closed);
        boolean setsConfig = configSetters != null && configSetters.remove(closed);
        // kept so that the name comes back if PostgreSQL skips this Close after an earlier error
        tracker.add(RequestTracker.SYNTHETIC_CLOSE_COMPLETE, new ClosedName(closed, was, setsConfig));
        return false;
    }

    /**
     * Session state a statement's text reveals that no CommandComplete tag shows: a session-level
     * advisory lock (pg_[try_]advisory_lock[_shared]) pins the client; {@code set_config(..)}
     * changes settings like SET, so the connection is reset before reuse. A textual check, so a
     * mention in a comment or string counts too (erring on the safe side), in any letter case.
     *
     * @return whether the text calls set_config
     */
    private boolean noteSessionState(ByteBuf b, int start, int size) {
        boolean setsConfig = false;
        // both words contain '_': look for it and compare the whole word only there
        int end = start + size;
        for (int i = b.indexOf(start + 5, end, (byte) '_'); i >= 0; i = b.indexOf(i + 1, end, (byte) '_')) {
            if (!pinned && i - 8 >= start && i + 5 <= end && matchesFolded(b, i - 8, ADVISORY_LOCK)) {
                pin("a session advisory lock");
            } else if (i - 3 >= start && i + 7 <= end && matchesFolded(b, i - 3, SET_CONFIG)) {
                dirty = true;
                setsConfig = true;
            }
        }
        // temporary objects made by statements whose tag does not say so (CREATE TEMP TABLE AS,
        // SELECT INTO TEMP): the keyword TEMP or TEMPORARY, in any case, pins
        for (byte p : TEMP_P) {
            for (int i = b.indexOf(start + 8, end - 1, p); !pinned && i >= 0; i = b.indexOf(i + 1, end - 1, p)) {
                int t = i - 3; // candidate start of "temp"
                if ((b.getByte(t) | 0x20) == 't' && (b.getByte(t + 1) | 0x20) == 'e' && (b.getByte(t + 2) | 0x20) == 'm'
                        && (!isWordByte(b.getByte(t - 1)) || isPgTemp(b, t, start))
                        && (!isWordByte(b.getByte(i + 1)) || endsTemporary(b, i + 1, end) || isPgTemp(b, t, start))) {
                    pin("a temporary object");
                }
            }
        }
        return setsConfig;
    }

    /** Whether the {@code temp} at {@code t} ends the word {@code pg_temp} (the temporary schema, pg_temp_N too). */
    private static boolean isPgTemp(ByteBuf b, int t, int start) {
        return t - 3 >= start + 5 && b.getByte(t - 1) == '_' && (b.getByte(t - 2) | 0x20) == 'g'
                && (b.getByte(t - 3) | 0x20) == 'p' && (t - 3 == start + 5 || !isWordByte(b.getByte(t - 4)));
    }

    private static final byte[] TEMP_P = {'p', 'P'};

    private static boolean endsTemporary(ByteBuf b, int at, int end) {
        if (at + 6 > end) {
            return false;
        }
        String rest = "orary";
        for (int j = 0; j < rest.length(); j++) {
            if ((b.getByte(at + j) | 0x20) != rest.charAt(j)) {
                return false;
            }
        }
        return !isWordByte(b.getByte(at + 5));
    }

    private static boolean isWordByte(byte c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c < 0;
    }

    /** Whether {@code word} (lower case) is at {@code at}, ASCII letters in any case. */
    private static boolean matchesFolded(ByteBuf b, int at, byte[] word) {
        for (int j = 0; j < word.length; j++) {
            byte c = b.getByte(at + j);
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != word[j]) {
                return false;
            }
        }
        return true;
    }

    private void pin(String why) {
        pinned = true;
        log.atDebug().addKeyValue("client", keyPid).log("client {} pinned to its server connection: {}", keyPid, why);
    }

    // ------------------------------------------------------------------ server -> client

    @Override
    public void serverRead(ServerConnection s, ByteBuf data) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> serverRead(s, data));
            return;
        }
        if (s != server || phase == Phase.CLOSED) {
            // PostgreSQL spoke unasked after this session gave the connection back (or lost it):
            // the bytes are not ours, and without them the stream is broken for anyone else
            data.release();
            s.markBroken();
            return;
        }
        int n = data.readableBytes();
        s.taken(n);
        traffic.bytesToClients(n);
        fromServer.add(channel.alloc(), data);
        try {
            relayServer();
        } catch (ProtocolException e) {
            log.atWarn().addKeyValue("client", keyPid)
                    .log("client {}: server {} broke the protocol: {}", keyPid, s, e.getMessage());
            s.markBroken();
            serverLost(s, "server connection sent an invalid message: " + e.getMessage());
            return;
        }
        if (dropMayRun && tracker.isEmpty()) {
            dropMayRun = false; // every DEALLOCATE or DISCARD sent has been answered
        }
        // The server connection goes back (and, if someone waits, on to its next request) before
        // the answer is flushed to this client: PostgreSQL is the scarce resource, and the flush
        // wakes the client, which may take the CPU from this thread for a while.
        maybeRelease();
        if (!retryPending && server != null && phase == Phase.READY && fromClient.isReadable()) {
            relayClient(); // input held back during a retry
        }
        Flusher.flushLater(channel, channel);
    }

    /** Forwards PostgreSQL's answers, swallowing those to injected requests and adding synthetic ones. */
    private void relayServer() {
        ByteBuf b = fromServer.buffer();
        int runStart = -1;
        int size;
        while ((size = fromServer.nextFrame()) > 0) {
            int start = b.readerIndex();
            byte code = b.getByte(start);
            BackendType type = BackendType.of(code);
            byte head = tracker.peek();
            boolean pass = head != RequestTracker.INJECTED_QUERY;
            boolean popped = false;
            if (type == null) {
                throw new ProtocolException("unknown message type '" + (char) code + "' from server");
            }
            switch (type) {
                case PARSE_COMPLETE, BIND_COMPLETE, CLOSE_COMPLETE, NO_DATA, PORTAL_SUSPENDED -> {
                    if (timer != null && head == RequestTracker.EXECUTE) {
                        statementDone(-1, null); // a portal suspended: this Execute's share is done
                    }
                    if (type == BackendType.PARSE_COMPLETE && tracker.peekPayload() instanceof Prepared p) {
                        settled(p);
                    }
                    pass = !RequestTracker.isInjected(tracker.pop());
                    popped = true;
                }
                case ROW_DESCRIPTION -> {
                    if (head == RequestTracker.DESCRIBE) {
                        tracker.pop();
                        popped = true;
                    } else if (head == RequestTracker.QUERY && retryFrame != null && heldRowDescription == null
                            && (b.writerIndex() <= start + size || b.getByte(start + size) == 'E')) {
                        // (when the next message is already here and is not an error, nothing
                        // needs holding: the description goes out with the rows that follow)
                        // PostgreSQL describes the result before running the statement; held back
                        // until a row or the completion shows the statement will not be retried
                        runStart = flushServerRun(b, runStart, start);
                        heldRowDescription = b.retainedSlice(start, size);
                        b.readerIndex(start + size);
                        continue;
                    }
                }
                case EMPTY_QUERY_RESPONSE, COMMAND_COMPLETE -> {
                    if (head == RequestTracker.FENCE) {
                        // the fence's query: what was held back was the fence's Sync being answered
                        runStart = flushServerRun(b, runStart, start);
                        releaseHeldReady(false);
                        fenceAnswered = true;
                        pass = false;
                        b.readerIndex(start + size);
                        continue;
                    }
                    if (copyInActive && type == BackendType.COMMAND_COMPLETE
                            && (head == RequestTracker.EXECUTE || head == RequestTracker.QUERY)) {
                        // the copy-in succeeded: the Syncs sent during it were indeed ignored
                        copyInActive = false;
                        copyDroppedSyncs = 0;
                    }
                    if (type == BackendType.COMMAND_COMPLETE && head != RequestTracker.INJECTED_QUERY) {
                        commandComplete(b, start, size);
                    }
                    if (timer != null) {
                        long rows = type == BackendType.COMMAND_COMPLETE ? StatementTimer.rowsOf(b, start, size) : -1;
                        if (head == RequestTracker.QUERY) {
                            timer.queryRows(rows);
                        } else if (head == RequestTracker.EXECUTE) {
                            statementDone(rows, null);
                        }
                    }
                    if (head == RequestTracker.EXECUTE) {
                        tracker.pop();
                        popped = true;
                    }
                }
                case ERROR_RESPONSE -> {
                    boolean fence = false;
                    if (copyInActive && (head == RequestTracker.EXECUTE || head == RequestTracker.QUERY)) {
                        // the copy-in failed: PostgreSQL answers the Syncs it reads from here on,
                        // and those taken as ignored that it had not read yet
                        copyInActive = false;
                        copyInSyncsIgnored = false;
                        fence = copyDroppedSyncs > 0 && transactionMode;
                        copyDroppedSyncs = 0;
                    }
                    if (head == RequestTracker.EXECUTE && extRetryable(b, start, size)) {
                        runStart = flushServerRun(b, runStart, start);
                        tracker.pop(); // the Execute; its Sync's ReadyForQuery schedules the retry
                        b.readerIndex(start + size);
                        continue;
                    }
                    if (head == RequestTracker.QUERY && retryable(b, start, size)) {
                        runStart = flushServerRun(b, runStart, start);
                        releaseHeldRowDescription();
                        b.readerIndex(start + size);
                        continue; // swallowed: the statement runs again once its ReadyForQuery came
                    }
                    String sqlState = null;
                    ByteBuf renamed = null; // the error in the client's statement names, when they differ
                    String droppedName = null; // a client name whose statement the server no longer has
                    StatementKey dropped = null;
                    if (head != RequestTracker.INJECTED_QUERY) {
                        sqlState = Messages.errorField(b, start, size, 'C');
                        if (head == RequestTracker.DUPLICATE_PARSE && SqlState.UNDEFINED_PARAMETER.equals(sqlState)) {
                            sqlState = SqlState.DUPLICATE_PREPARED_STATEMENT;
                            renamed = Messages.errorResponse(channel.alloc(), "ERROR", sqlState,
                                    "prepared statement \"" + tracker.peekPayload() + "\" already exists");
                        } else if ((head == RequestTracker.BIND || head == RequestTracker.DESCRIBE)
                                && tracker.peekPayload() instanceof String clientName) {
                            renamed = inClientNames(b, start, size, clientName, sqlState);
                            if (renamed != null && SqlState.INVALID_SQL_STATEMENT_NAME.equals(sqlState)) {
                                // not a Parse Sluice saw skipped: the client's session dropped it,
                                // as PostgreSQL would drop the client's own name
                                dropped = server.statements().removeName(serverStatementIn(b, start, size));
                                droppedName = clientName;
                            }
                        }
                        traffic.error(sqlState);
                        if (timer != null && head == RequestTracker.QUERY) {
                            timer.queryError(sqlState);
                        }
                    }
                    popped = serverError(b, start, size, head, sqlState);
                    if (dropped != null) {
                        statements.remove(droppedName, dropped); // once the skipped messages are undone
                    }
                    pass = head != RequestTracker.INJECTED_QUERY || isFatal(b, start, size);
                    if (!pass) {
                        runStart = flushServerRun(b, runStart, start);
                        parametersRefused(tracker.peekPayload(), b, start, size);
                    }
                    if (renamed != null) {
                        runStart = flushServerRun(b, runStart, start);
                        channel.write(renamed, channel.voidPromise());
                        pass = false;
                    }
                    if (fence) {
                        sendFence();
                    }
                }
                case READY_FOR_QUERY -> {
                    byte status = b.getByte(start + 5);
                    server.transactionStatus = status;
                    if (head == RequestTracker.FENCE) {
                        runStart = flushServerRun(b, runStart, start);
                        if (fenceAnswered) {
                            fenceAnswered = false; // the fence's own: the copy's answers are all in
                            tracker.pop();
                            popped = true;
                        } else {
                            releaseHeldReady(true); // a ReadyForQuery came after it: it was the client's
                            heldReady = b.retainedSlice(start, size);
                        }
                        b.readerIndex(start + size);
                        continue;
                    }
                    byte answered = tracker.pop();
                    if (answered == RequestTracker.SYNC) {
                        syncOwed = false; // the extended-protocol exchange is closed
                    }
                    if (answered == RequestTracker.INJECTED_QUERY) {
                        adoptServerValues();
                    }
                    pass = !RequestTracker.isInjected(answered) && !retryScheduled(answered, status)
                            && !extRetryScheduled(answered, status);
                    popped = true;
                    long now = pass ? System.nanoTime() : 0;
                    if (timer != null && pass && answered == RequestTracker.QUERY) {
                        timer.queryDone(now, database, user, application());
                    }
                    if (tracker.isEmpty() && requestStartNanos != 0 && pass) {
                        long took = now - requestStartNanos;
                        requestStartNanos = 0;
                        traffic.query(took);
                        if (status == 'I') {
                            traffic.transaction();
                        }
                        if (sampling) {
                            pool.upstream().sample(took);
                        }
                    }
                }
                case COPY_IN_RESPONSE -> {
                    if (head == RequestTracker.EXECUTE || head == RequestTracker.QUERY) {
                        // PostgreSQL ignores the Syncs the client sent between this request and
                        // its CopyDone or CopyFail: no ReadyForQuery will answer them
                        copyDroppedSyncs = tracker.copyInStarted();
                        copyInSyncsIgnored = !tracker.hasCopyEnd();
                        copyInActive = true;
                    }
                }
                case PARAMETER_STATUS -> {
                    String name = Messages.cstringAt(b, start + 5, start + size);
                    String value = Messages.cstringAt(b, Messages.skipCstring(b, start + 5, start + size), start + size);
                    server.params().put(name, value);
                    server.lastSession = null;
                    server.appliedParamsKey = null;
                    if (desired.containsKey(name) || TRACKED.contains(name) && head != RequestTracker.INJECTED_QUERY) {
                        desired.put(name, value);
                        paramsVersion++;
                    }
                }
                default -> {
                    // rows, copy data, notices, notifications: forwarded untouched
                }
            }
            if (heldRowDescription != null && pass) {
                // the held description goes out before whatever follows it
                runStart = flushServerRun(b, runStart, start);
                channel.write(heldRowDescription, channel.voidPromise());
                heldRowDescription = null;
                dropRetry(); // the client has seen part of the result: never run it again
            }
            if (pass) {
                if (runStart < 0) {
                    runStart = start;
                }
                if (retryFrame != null && type != BackendType.READY_FOR_QUERY && type != BackendType.PARAMETER_STATUS
                        && type != BackendType.NOTICE_RESPONSE && type != BackendType.NOTIFICATION_RESPONSE) {
                    dropRetry(); // something of its result reached the client: never run it again
                }
                if (extState > 0 && head == RequestTracker.EXECUTE && type != BackendType.NOTICE_RESPONSE
                        && type != BackendType.NOTIFICATION_RESPONSE && type != BackendType.PARAMETER_STATUS) {
                    dropExtRetry(); // the Execute's result started to reach the client
                }
            } else {
                runStart = flushServerRun(b, runStart, start);
            }
            b.readerIndex(start + size);
            if (popped && RequestTracker.isSynthetic(tracker.peek())) {
                // an answer Sluice gives itself goes right here in the stream: end the run first
                runStart = flushServerRun(b, runStart, start + size);
                emitSynthetic();
            }
        }
        ByteBuf run = fromServer.takeRun(runStart); // often the whole read: a complete answer
        if (run != null) {
            channel.write(run, channel.voidPromise());
        }
        fromServer.discardIfEmpty();
    }

    private int flushServerRun(ByteBuf b, int runStart, int end) {
        if (runStart >= 0 && end > runStart) {
            channel.write(b.retainedSlice(runStart, end - runStart), channel.voidPromise());
        }
        return -1;
    }

    /** Answers the requests at the head that Sluice answers itself. */
    private void emitSynthetic() {
        byte k;
        boolean wrote = false;
        while ((k = tracker.peek()) != 0 && RequestTracker.isSynthetic(k)) {
            tracker.pop();
            byte type = k == RequestTracker.SYNTHETIC_PARSE_COMPLETE
                    ? BackendType.PARSE_COMPLETE.code() : BackendType.CLOSE_COMPLETE.code();
            channel.write(Messages.empty(channel.alloc(), type), channel.voidPromise());
            wrote = true;
        }
        if (wrote) {
            channel.flush();
        }
    }

    /**
     * An ErrorResponse. In the extended protocol PostgreSQL skips every message up to the next
     * Sync, so their entries go too, and statements whose Parse was skipped are forgotten.
     *
     * @return whether entries were removed
     */
    private boolean serverError(ByteBuf b, int start, int size, byte head, String sqlState) {
        if (isFatal(b, start, size)) {
            fatalForwarded = true;
            server.markBroken();
        }
        if (head == 0 || !RequestTracker.isExtended(head)) {
            return false; // simple query, Sync, or an asynchronous error: ReadyForQuery follows
        }
        boolean charged = false;
        List<Object> undone = null; // the client's Parse and Close messages PostgreSQL skips
        while (!tracker.isEmpty() && tracker.peek() != RequestTracker.SYNC) {
            byte k = tracker.peek();
            Object payload = tracker.peekPayload();
            tracker.pop();
            if (k == RequestTracker.QUERY && timer != null) {
                timer.drop(); // a Query pipelined before the Sync: PostgreSQL skips it
            } else if (k == RequestTracker.EXECUTE && timer != null) {
                // the first Execute of the exchange failed (or ran a statement whose Parse or
                // Bind did); the ones after it never ran
                if (!charged) {
                    statementDone(-1, sqlState);
                    charged = true;
                } else {
                    timer.drop();
                }
            }
            if (k == RequestTracker.INJECTED_CLOSE && payload instanceof String name) {
                server.statements().closeSkipped(name); // still prepared there: closed later
            }
            if (payload instanceof Prepared p && (k == RequestTracker.PARSE || k == RequestTracker.INJECTED_PARSE)) {
                if (settled(p)) {
                    // unless Sluice sent the name again in a later exchange, it is not on the server
                    server.statements().remove(p.key(), p.name());
                }
            }
            if (payload instanceof Prepared p && p.clientName() != null || payload instanceof ClosedName) {
                if (undone == null) {
                    undone = new ArrayList<>(2);
                }
                undone.add(payload);
            }
        }
        if (undone != null) {
            undo(undone);
        }
        if (tracker.isEmpty()) {
            skipToSync = true;
        }
        return true;
    }

    /**
     * What the client's names mean goes back to before the Parse and Close messages PostgreSQL
     * skipped ({@code skipped}, in the order they were sent), latest first. Where a later exchange,
     * not answered yet, parsed or closed the name again, that message decides what the name means
     * now; it learns what the name meant before it instead, for the case PostgreSQL skips it too.
     */
    private void undo(List<Object> skipped) {
        for (int i = skipped.size() - 1; i >= 0; i--) {
            Object x = skipped.get(i);
            String name = x instanceof Prepared p ? p.clientName() : ((ClosedName) x).clientName();
            StatementKey before = x instanceof Prepared p ? p.previous() : ((ClosedName) x).key();
            Object later = tracker.firstPayload(y -> y instanceof Prepared q && name.equals(q.clientName())
                    || y instanceof ClosedName c && name.equals(c.clientName()));
            if (later instanceof Prepared q) {
                q.previous = before;
                continue;
            }
            if (later instanceof ClosedName c) {
                c.key = before;
                continue;
            }
            if (before != null) {
                statements.put(name, before);
            } else {
                statements.remove(name);
            }
            if (x instanceof Prepared && configSetters != null) {
                configSetters.remove(name);
            } else if (x instanceof ClosedName c && c.setsConfig()) {
                configSetters.add(name);
            }
        }
    }

    /**
     * After a failed copy-in whose ignored Syncs PostgreSQL may answer after all: a Sync and an
     * empty Query. Every ReadyForQuery before the query's EmptyQueryResponse is the client's,
     * except the last, the Sync's; the query's own follows it. Then nothing more is owed.
     */
    private void sendFence() {
        ByteBuf sync = Messages.empty(channel.alloc(), FrontendType.SYNC.code());
        ByteBuf query = Messages.query(channel.alloc(), "");
        server.writeAndFlush(Unpooled.wrappedUnmodifiableBuffer(sync, query));
        tracker.add(RequestTracker.FENCE);
        fenceAnswered = false;
    }

    /** Sends the held ReadyForQuery to the client ({@code send}) or drops it. */
    private void releaseHeldReady(boolean send) {
        ByteBuf r = heldReady;
        heldReady = null;
        if (r != null) {
            if (send) {
                channel.write(r, channel.voidPromise());
            } else {
                r.release();
            }
        }
    }

    /** PostgreSQL answered (or skipped) the Parse of {@code p}: later exchanges may rely on what it did. */
    private boolean settled(Prepared p) {
        if (parsesInFlight == null) {
            return true;
        }
        Prepared latest = parsesInFlight.get(p.name());
        if (latest == p) {
            parsesInFlight.remove(p.name());
        }
        return latest == null || latest == p;
    }

    /** The Execute at the head of the statement timer ended. */
    private void statementDone(long rows, String sqlState) {
        timer.done(System.nanoTime(), rows, sqlState, database, user, application());
    }

    private static boolean isFatal(ByteBuf b, int start, int size) {
        String severity = Messages.errorField(b, start, size, 'V');
        return "FATAL".equals(severity) || "PANIC".equals(severity);
    }

    /** Tracks session state a CommandComplete reveals (transaction mode). */
    private void commandComplete(ByteBuf b, int start, int size) {
        int tagLen = size - 6;
        byte first = b.getByte(start + 5);
        switch (first) {
            case 'S' -> {
                if (transactionMode && tagIs(b, start, tagLen, "SET")) {
                    dirty = true;
                }
            }
            case 'D' -> {
                boolean all = tagIs(b, start, tagLen, "DISCARD ALL") || tagIs(b, start, tagLen, "DEALLOCATE ALL");
                if (all || tagIs(b, start, tagLen, "DEALLOCATE")) {
                    // what a later Parse, not answered yet, prepares again stays
                    Set<String> pending = new HashSet<>();
                    tracker.forEachPayload(p -> {
                        if (p instanceof Prepared q) {
                            pending.add(q.name());
                        }
                    });
                    server.statements().retainNames(pending);
                }
                if (all && transactionMode) {
                    forgetClientStatements();
                } else if (transactionMode && tagIs(b, start, tagLen, "DECLARE CURSOR")) {
                    pin("a cursor");
                }
            }
            case 'P' -> {
                if (transactionMode && tagIs(b, start, tagLen, "PREPARE")) {
                    pin("an SQL PREPARE");
                }
            }
            case 'L' -> {
                if (transactionMode && tagIs(b, start, tagLen, "LISTEN")) {
                    pin("LISTEN");
                }
            }
            case 'C' -> {
                if (transactionMode && (tagIs(b, start, tagLen, "CREATE TABLE") || tagIs(b, start, tagLen, "CREATE VIEW")
                        || tagIs(b, start, tagLen, "CREATE SEQUENCE"))) {
                    pin("CREATE TABLE/VIEW/SEQUENCE (a temporary one would not survive a server change)");
                }
            }
            default -> {
            }
        }
    }

    /**
     * PostgreSQL's error to a Bind or Describe Sluice renamed, with the server statement name in
     * its message replaced by the client's {@code clientName}; null when it names none. Only
     * 26000 and 08P01 name the statement; other errors quote parameter values, left as they are.
     */
    private ByteBuf inClientNames(ByteBuf b, int start, int size, String clientName, String sqlState) {
        if (!SqlState.INVALID_SQL_STATEMENT_NAME.equals(sqlState) && !SqlState.PROTOCOL_VIOLATION.equals(sqlState)) {
            return null;
        }
        String message = Messages.errorField(b, start, size, 'M');
        String name = serverStatementIn(message);
        if (name == null) {
            return null;
        }
        int at = message.indexOf('"' + name + '"');
        return Messages.withErrorMessage(channel.alloc(), b, start, size,
                message.substring(0, at + 1) + clientName + message.substring(at + 1 + name.length()));
    }

    /** The first quoted server statement name ({@code "sluice_..."}) in the error's message, or null. */
    private static String serverStatementIn(ByteBuf b, int start, int size) {
        return serverStatementIn(Messages.errorField(b, start, size, 'M'));
    }

    private static String serverStatementIn(String message) {
        int at = message == null ? -1 : message.indexOf("\"sluice_");
        int close = at < 0 ? -1 : message.indexOf('"', at + 1);
        return close < 0 ? null : message.substring(at + 1, close);
    }

    /**
     * The client ran DISCARD ALL or DEALLOCATE ALL: its statement names mean nothing any more,
     * except those a Parse or Close sent after it, not answered yet, gives a meaning; those now
     * start from nothing, for the case PostgreSQL skips them.
     */
    private void forgetClientStatements() {
        Set<String> decided = new HashSet<>();
        tracker.forEachPayload(p -> {
            if (p instanceof Prepared q && q.clientName() != null && decided.add(q.clientName())) {
                q.previous = null;
            } else if (p instanceof ClosedName c && decided.add(c.clientName())) {
                c.key = null;
            }
        });
        statements.keySet().retainAll(decided);
        if (configSetters != null) {
            configSetters.retainAll(decided);
        }
    }

    /** Whether the CommandComplete at {@code start}, whose tag is {@code tagLen} bytes, carries exactly {@code tag}. */
    private static boolean tagIs(ByteBuf b, int start, int tagLen, String tag) {
        int n = tag.length();
        // compare lengths first: a longer candidate must not read past the frame (or the buffer)
        if (tagLen != n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (b.getByte(start + 5 + i) != tag.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ safe retry

    /**
     * Keeps a reference to a simple query that may be retried transparently: one sent outside any
     * transaction with nothing else outstanding, so that PostgreSQL ran it in its own implicit
     * transaction. Costs one retained slice per such query, no copy.
     */
    private void rememberForRetry(ByteBuf b, int start, int size) {
        dropRetry();
        if (config.admission().retryAttempts() > 1 && tracker.onlyInjected() && server.transactionStatus == 'I'
                && !syncOwed) {
            retryFrame = b.retainedSlice(start, size);
            retryAttempts = 1;
        }
    }

    /**
     * Whether this ErrorResponse (to the simple query at the head) is a serialization failure or
     * deadlock that may be retried: nothing of the statement's result has reached the client, the
     * text holds a single statement (so nothing can have committed), attempts remain.
     */
    private boolean retryable(ByteBuf b, int start, int size) {
        if (retryFrame == null || retryAttempts >= config.admission().retryAttempts()) {
            return false;
        }
        String state = Messages.errorField(b, start, size, 'C');
        if (!"40001".equals(state) && !"40P01".equals(state)) {
            return false;
        }
        if (tracker.size() != 1 || fromClient.isReadable()) {
            return false; // the client pipelined more: answers would come back out of order
        }
        int textEnd = retryFrame.writerIndex() - 1;
        var f = Fingerprinter.fingerprint(retryFrame, retryFrame.readerIndex() + 5, textEnd);
        if (f.statements() != 1 || f.kind() != StatementKind.READ && f.kind() != StatementKind.WRITE) {
            return false; // CALL or DO may commit part of their work: never run twice
        }
        retryWanted = true;
        retryPending = true; // client input waits until the retried statement is answered
        return true;
    }

    /**
     * At the ReadyForQuery ending a query whose error was swallowed: schedules the retry with
     * exponential backoff and full jitter, keeping the server connection meanwhile.
     *
     * @return whether the ReadyForQuery is to be swallowed too
     */
    private boolean retryScheduled(byte answered, byte status) {
        if (!retryWanted || answered != RequestTracker.QUERY) {
            if (answered == RequestTracker.QUERY) {
                dropRetry();
                retryPending = false;
            }
            return false;
        }
        retryWanted = false;
        if (status != 'I') {
            dropRetry();
            retryPending = false;
            return false;
        }
        tracker.add(RequestTracker.QUERY); // holds the server connection until the retry answered
        sendAgainLater(retryFrame.retainedDuplicate());
        return true;
    }

    /**
     * Sends {@code again} (owned) on the held server connection after a backoff with jitter,
     * unless the session lost that connection meanwhile.
     */
    private void sendAgainLater(ByteBuf again) {
        long delay = backoffNanos(retryAttempts);
        retryAttempts++;
        traffic.retry();
        ServerConnection s = server;
        loop.schedule(() -> {
            if (server == s && phase == Phase.READY) {
                log.atDebug().addKeyValue("client", keyPid).log(
                        "client {}: retrying a statement after a serialization failure or deadlock (attempt {})",
                        keyPid, retryAttempts);
                s.writeAndFlush(again);
            } else {
                again.release();
            }
        }, delay, TimeUnit.NANOSECONDS);
    }

    // ---- retry of an extended-protocol Execute ----

    /**
     * Follows an extended-protocol exchange for a possible retry: it must start with nothing
     * outstanding outside a transaction, and hold one Bind sent as the client wrote it and one
     * Execute; Parse and Describe may come along. Anything else makes it not retryable.
     */
    private void noteExtended(FrontendType type, ByteBuf b, int start, int size) {
        if (!syncOwed) {
            dropExtRetry();
            extState = config.admission().retryAttempts() > 1 && tracker.onlyInjected()
                    && server.transactionStatus == 'I' ? 1 : -1;
            retryAttempts = 1;
        }
        if (extState != 1) {
            return;
        }
        switch (type) {
            case BIND -> {
                if (retryBind != null) {
                    extState = -1;
                } else {
                    retryBind = b.retainedSlice(start, size);
                }
            }
            case EXECUTE -> {
                if (retryExecute != null || retryBind == null) {
                    extState = -1;
                } else {
                    retryExecute = b.retainedSlice(start, size);
                }
            }
            case PARSE -> {
                int end = start + size;
                int textStart = Messages.skipCstring(b, start + 5, end);
                int textEnd = b.indexOf(textStart, end, (byte) 0);
                if (extParsed || !retrySafe(b, textStart, textEnd < 0 ? end : textEnd)) {
                    extState = -1;
                } else {
                    extParsed = true;
                }
            }
            case DESCRIBE -> {
            }
            default -> extState = -1;
        }
    }

    /** Whether this ErrorResponse to the Execute at the head is a serialization failure or deadlock to retry. */
    private boolean extRetryable(ByteBuf b, int start, int size) {
        if (extState != 2 || retryAttempts >= config.admission().retryAttempts()) {
            return false;
        }
        String state = Messages.errorField(b, start, size, 'C');
        if (!"40001".equals(state) && !"40P01".equals(state)) {
            return false;
        }
        if (tracker.size() != 2 || fromClient.isReadable()) {
            return false; // more than [Execute, Sync] outstanding, or more input: order would break
        }
        extRetryWanted = true;
        retryPending = true;
        return true;
    }

    /**
     * At the ReadyForQuery of the Sync after a swallowed Execute error: sends Bind, Execute and
     * Sync again after a backoff with jitter (the Parse stands: statements outlive the aborted
     * implicit transaction), keeping the server connection meanwhile.
     *
     * @return whether the ReadyForQuery is to be swallowed
     */
    private boolean extRetryScheduled(byte answered, byte status) {
        if (answered != RequestTracker.SYNC) {
            return false;
        }
        if (!extRetryWanted) {
            // the exchange is over, retried or not: client input flows again
            dropExtRetry();
            retryPending = false;
            return false;
        }
        extRetryWanted = false;
        if (status != 'I') {
            dropExtRetry();
            retryPending = false;
            return false;
        }
        tracker.add(RequestTracker.INJECTED_BIND);
        tracker.add(RequestTracker.EXECUTE);
        tracker.add(RequestTracker.SYNC);
        syncsSent++;
        syncOwed = true;
        sendAgainLater(Unpooled.wrappedUnmodifiableBuffer(retryBind.retainedDuplicate(), retryExecute.retainedDuplicate(),
                Messages.empty(channel.alloc(), FrontendType.SYNC.code())));
        return true;
    }

    private void dropExtRetry() {
        if (retryBind != null) {
            retryBind.release();
            retryBind = null;
        }
        if (retryExecute != null) {
            retryExecute.release();
            retryExecute = null;
        }
        extState = 0;
        extParsed = false;
        extRetryWanted = false;
    }

    /**
     * Whether the statement text {@code b[from, to)} may run again after a serialization failure:
     * a query or data change (its first keyword SELECT, WITH, VALUES, TABLE, INSERT, UPDATE,
     * DELETE or MERGE), never CALL or DO, which may commit part of their work. Reads the first
     * word in place; a text starting with a comment is lexed.
     */
    private static boolean retrySafe(ByteBuf b, int from, int to) {
        int i = from;
        while (i < to && Character.isWhitespace(b.getByte(i))) {
            i++;
        }
        if (i + 1 < to && (b.getByte(i) == '/' && b.getByte(i + 1) == '*' || b.getByte(i) == '-' && b.getByte(i + 1) == '-')) {
            StatementKind k = Fingerprinter.fingerprint(b, from, to).kind();
            return k == StatementKind.READ || k == StatementKind.WRITE;
        }
        int j = i;
        while (j < to && Character.isLetter(b.getByte(j))) {
            j++;
        }
        for (String w : RETRY_SAFE_WORDS) {
            if (w.length() == j - i && matchesIgnoreCase(b, i, w)) {
                return true;
            }
        }
        return false;
    }

    private static final String[] RETRY_SAFE_WORDS = {"select", "with", "values", "table", "insert", "update", "delete",
        "merge"};

    private static boolean matchesIgnoreCase(ByteBuf b, int at, String lowerWord) {
        for (int k = 0; k < lowerWord.length(); k++) {
            if ((b.getByte(at + k) | 0x20) != lowerWord.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** Exponential backoff with full jitter: up to 10 ms, 20 ms, 40 ms ... at most 1 s. */
    private static long backoffNanos(int attempt) {
        long base = 10_000_000L << Math.min(6, attempt - 1);
        return (long) (ThreadLocalRandom.current().nextDouble() * Math.min(base, 1_000_000_000L));
    }

    private void dropRetry() {
        if (retryFrame != null) {
            retryFrame.release();
            retryFrame = null;
        }
        retryWanted = false;
    }

    private void releaseHeldRowDescription() {
        if (heldRowDescription != null) {
            heldRowDescription.release();
            heldRowDescription = null;
        }
    }

    // ------------------------------------------------------------------ release, loss, close

    /** In transaction mode, gives the server connection back once nothing is outstanding. */
    private void maybeRelease() {
        ServerConnection s = server;
        if (s == null || tracker.size() > 0 || fromServer.isReadable() || phase != Phase.READY
                || syncOwed || skipToSync) {
            // an extended-protocol exchange without its Sync yet (a cursor fetched with Execute
            // and Flush, or an error awaiting Sync) still owns the backend's implicit transaction
            return;
        }
        if (s.transactionStatus != 'I') {
            armIdleInTransactionTimer();
            return;
        }
        if (shuttingDown) {
            fatal(SqlState.ADMIN_SHUTDOWN, "Sluice is shutting down");
            return;
        }
        if (!transactionMode || pinned || hasCompleteClientFrame()) {
            return;
        }
        if (dirty) {
            s.resetQuery = ServerConnection.RESET_SETTINGS;
            dirty = false;
        }
        server = null;
        pool.release(s);
        readClientAgain();
    }

    /**
     * Resumes reading the client once it holds no server connection. Reading it stops while its
     * server connection cannot take more bytes (sendToServer), and resumes when that connection
     * drains; one given back or lost before it drained (a connection that closed under the
     * write reports itself unwritable and never drains) must not leave the client unread for ever.
     */
    private void readClientAgain() {
        if (!channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
        }
    }

    /** Whether a whole client message waits (a partial one must not hold the server connection). */
    private boolean hasCompleteClientFrame() {
        try {
            return fromClient.nextFrame() > 0;
        } catch (ProtocolException e) {
            return true; // the next read reports it; keep the connection until then
        }
    }

    private void armIdleInTransactionTimer() {
        long ms = config.pool().idleInTransactionTimeout().toMillis();
        if (ms > 0 && idleInTransactionTimer == null) {
            idleInTransactionTimer = loop.schedule(() -> {
                idleInTransactionTimer = null;
                if (server != null && tracker.isEmpty() && server.transactionStatus != 'I') {
                    fatal(SqlState.IDLE_IN_TRANSACTION_TIMEOUT, "terminating connection due to idle-in-transaction timeout ("
                            + "pool.idle_in_transaction_timeout=" + ms + "ms)");
                }
            }, ms, TimeUnit.MILLISECONDS);
        }
    }

    private void cancelIdleInTransactionTimer() {
        if (idleInTransactionTimer != null) {
            idleInTransactionTimer.cancel(false);
            idleInTransactionTimer = null;
        }
    }

    @Override
    public void serverClosed(ServerConnection s, String reason) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> serverClosed(s, reason));
            return;
        }
        if (s == server) {
            serverLost(s, reason);
        }
    }

    /**
     * The held server connection died. Whatever the client had in flight may or may not have run,
     * so nothing is re-sent: the client gets the error and is disconnected, as with PostgreSQL.
     */
    private void serverLost(ServerConnection s, String reason) {
        server = null;
        syncOwed = false;
        retryPending = false;
        pool.discard(s);
        dropRetry();
        dropExtRetry();
        releaseHeldRowDescription();
        boolean nothingInFlight = tracker.isEmpty() && !fromServer.isReadable() && s.transactionStatus == 'I';
        forgetExchanges();
        fromServer.release();
        if (transactionMode && !pinned && nothingInFlight && !fatalForwarded) {
            // the client had no request and no transaction on it: it loses nothing and simply
            // gets another server connection with its next message
            log.atDebug().addKeyValue("client", keyPid)
                    .log("client {}: idle server connection lost ({}), continuing without it", keyPid, reason);
            // while it held the connection every whole message it sent was relayed at once, so
            // nothing waits here but the rest of its socket
            if (phase == Phase.READY) {
                readClientAgain();
            }
            return;
        }
        if (!fatalForwarded) {
            fatal(SqlState.CONNECTION_FAILURE, "server connection lost: " + reason);
        } else {
            channel.close();
            phase = Phase.CLOSED;
        }
    }

    /** Sends a FATAL ErrorResponse and closes the client connection. */
    void fatal(String sqlState, String message) {
        if (phase == Phase.CLOSED && !channel.isActive()) {
            return;
        }
        phase = Phase.CLOSED;
        traffic.refusal(sqlState);
        channel.writeAndFlush(Messages.errorResponse(channel.alloc(), "FATAL", sqlState, message))
                .addListener(ChannelFutureListener.CLOSE);
    }

    private void closeSession() {
        phase = Phase.CLOSED;
        if (acquiring && acquireTicket != null) {
            pool.cancel(acquireTicket); // a client that left holds no place in the wait queue
        }
        dropRetry();
        dropExtRetry();
        releaseHeldRowDescription();
        cancelIdleInTransactionTimer();
        proxy.unregister(this, keyPid, keySecret);
        for (ByteBuf buf : outToServer) {
            buf.release();
        }
        outToServer.clear();
        for (ByteBuf buf : rewritten) {
            buf.release();
        }
        rewritten.clear();
        fromClient.release();
        ServerConnection s = server;
        server = null;
        if (s != null) {
            s.listener(null);
            if (tracker.isEmpty() && !fromServer.isReadable() && s.transactionStatus == 'I' && !syncOwed && !skipToSync) {
                if (!transactionMode || pinned) {
                    String reset = config.pool().serverResetQuery();
                    // a pinned client left state behind by definition: never hand it on uncleaned
                    s.resetQuery = !reset.isBlank() ? reset : pinned ? "DISCARD ALL" : null;
                } else if (dirty) {
                    s.resetQuery = ServerConnection.RESET_SETTINGS;
                }
                s.channel().config().setAutoRead(true);
                pool.release(s);
            } else {
                // mid-transaction or mid-request: the server's state is unknown, never reuse it
                pool.discard(s);
            }
        }
        fromServer.release();
        forgetExchanges();
    }

    /** Forgets every request in flight on the server connection the session no longer has. */
    private void forgetExchanges() {
        tracker.clear();
        copyInSyncsIgnored = false;
        copyInActive = false;
        copyDroppedSyncs = 0;
        fenceAnswered = false;
        releaseHeldReady(false);
        parsesInFlight = null;
        dropMayRun = false;
        syncsSent = 0;
        requestStartNanos = 0;
        if (timer != null) {
            timer.clear();
        }
    }

    // ------------------------------------------------------------------ cancel, shutdown

    /** A CancelRequest carrying this session's key arrived. Runs on this session's loop. */
    void cancelRequested() {
        ServerConnection s = server;
        if (s != null && !tracker.isEmpty()) {
            s.sendCancel(pool.channelClass(), () -> {
            });
        }
    }

    /** Graceful shutdown: idle sessions go now, busy ones when their transaction ends. */
    void shutdownRequested() {
        shuttingDown = true;
        if (phase != Phase.READY) {
            fatal(SqlState.ADMIN_SHUTDOWN, "Sluice is shutting down");
        } else if (server == null || tracker.isEmpty() && server.transactionStatus == 'I') {
            fatal(SqlState.ADMIN_SHUTDOWN, "Sluice is shutting down");
        }
    }

    /** Closes this client on an operator's request (KILL, the admin API). Runs on this session's loop. */
    void terminate(String reason) {
        fatal(SqlState.ADMIN_SHUTDOWN, "terminating connection due to administrator command" + (reason == null ? "" : ": " + reason));
    }

    EventLoop loop() {
        return loop;
    }

    @Override
    public int clientId() {
        return keyPid;
    }

    /** This client as monitoring shows it; called from any thread (see {@link ClientInfo}). */
    ClientInfo info() {
        Channel c = channel;
        String address = null;
        int port = 0;
        String localAddress = null;
        int localPort = 0;
        if (c != null && c.remoteAddress() instanceof InetSocketAddress a) {
            address = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
            port = a.getPort();
        }
        if (c != null && c.localAddress() instanceof InetSocketAddress a) {
            localAddress = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
            localPort = a.getPort();
        }
        ServerConnection s = server;
        Phase p = phase;
        boolean waiting = acquiring;
        String state = switch (p) {
            case STARTUP, AUTH -> "login";
            case LOGIN -> waiting ? "waiting" : "login";
            case CONSOLE -> "console";
            case CLOSED -> "closed";
            case READY -> waiting ? "waiting" : s != null ? "active" : "idle";
        };
        long now = System.nanoTime();
        long last = lastRequestNanos;
        long requestAt = last == 0 ? 0 : System.currentTimeMillis() - (now - last) / 1_000_000;
        long acquireStart = acquireStartNanos;
        // read without caching: this may run on another thread than the session's
        return new ClientInfo(keyPid, user, database, desired.get("application_name"), address, port, localAddress,
                localPort, c != null && c.pipeline().get("tls") != null, state, connectedAtMillis, requestAt,
                waiting && acquireStart != 0 ? now - acquireStart : 0, priority.configName(), s == null ? 0 : s.id(),
                pinned, statements.size());
    }

    // ------------------------------------------------------------------ admin console

    private void greetConsole() {
        phase = Phase.CONSOLE;
        long key = proxy.newCancelKey(this);
        keyPid = (int) (key >>> 32);
        keySecret = (int) key;
        Map<String, String> params = new LinkedHashMap<>();
        params.put("server_version", "15.0 (Sluice console)");
        params.put("server_encoding", "UTF8");
        params.put("client_encoding", "UTF8");
        params.put("DateStyle", "ISO, MDY");
        params.put("TimeZone", "UTC");
        params.put("integer_datetimes", "on");
        params.put("standard_conforming_strings", "on");
        params.put("application_name", desired.getOrDefault("application_name", ""));
        ByteBuf out = channel.alloc().buffer(256);
        Messages.parameterStatuses(out, params);
        channel.write(out);
        channel.write(Messages.backendKeyData(channel.alloc(), keyPid, keySecret));
        channel.writeAndFlush(Messages.readyForQuery(channel.alloc(), (byte) 'I'));
        fromClient.maxLength(config.maxMessageLength());
    }

    /**
     * Console input: one simple Query at a time goes to the console; Terminate closes; the
     * extended protocol is refused once per exchange (answered at its Sync), as PgBouncer does.
     */
    private void readConsole() {
        AdminConsole console = proxy.console();
        int size;
        try {
            while (phase == Phase.CONSOLE && !consoleBusy && (size = nextClientFrame()) > 0) {
                ByteBuf b = fromClient.buffer();
                int start = b.readerIndex();
                FrontendType type = FrontendType.of(b.getByte(start));
                b.readerIndex(start + size);
                switch (type) {
                    case TERMINATE -> {
                        phase = Phase.CLOSED;
                        channel.close();
                        return;
                    }
                    case QUERY -> {
                        String sql = Messages.cstringAt(b, start + 5, start + size);
                        consoleBusy = true;
                        lastRequestNanos = System.nanoTime();
                        console.execute(channel, user, sql).whenComplete((ok, error) -> loop.execute(() -> {
                            if (phase != Phase.CONSOLE) {
                                return;
                            }
                            if (error != null) {
                                log.atWarn().addKeyValue("client", keyPid).setCause(error)
                                        .log("console: '{}' failed", sql);
                                channel.write(Messages.errorResponse(channel.alloc(), "ERROR", SqlState.INTERNAL_ERROR,
                                        "console command failed: " + error));
                            }
                            consoleBusy = false;
                            channel.writeAndFlush(Messages.readyForQuery(channel.alloc(), (byte) 'I'));
                            if (fromClient.isReadable()) {
                                readConsole();
                            }
                        }));
                    }
                    case SYNC -> {
                        consoleSkipToSync = false;
                        channel.writeAndFlush(Messages.readyForQuery(channel.alloc(), (byte) 'I'));
                    }
                    case FLUSH -> channel.flush();
                    default -> {
                        if (!consoleSkipToSync) {
                            consoleSkipToSync = true;
                            channel.write(Messages.errorResponse(channel.alloc(), "ERROR", SqlState.FEATURE_NOT_SUPPORTED,
                                    "the Sluice console supports only the simple query protocol"));
                        }
                    }
                }
            }
        } finally {
            fromClient.discardIfEmpty();
        }
    }

    Channel channel() {
        return channel;
    }

    /**
     * A client's Close of a statement name, until answered; {@code key} is what the name meant
     * before (null: nothing), restored if PostgreSQL skips the Close.
     */
    private static final class ClosedName {
        private final String clientName;
        private StatementKey key;
        private final boolean setsConfig;

        ClosedName(String clientName, StatementKey key, boolean setsConfig) {
            this.clientName = clientName;
            this.key = key;
            this.setsConfig = setsConfig;
        }

        String clientName() {
            return clientName;
        }

        StatementKey key() {
            return key;
        }

        boolean setsConfig() {
            return setsConfig;
        }
    }

    /**
     * A statement Sluice prepared on a server connection (or found there), remembered until its
     * ParseComplete; {@code clientName} is the name the client's own Parse gave it, null for a
     * Parse Sluice injected; {@code exchange} is the {@link #syncsSent} its Parse went out in
     * (-1: no Parse went out); {@code previous} is what the client's name meant before, restored
     * if PostgreSQL skips the Parse.
     */
    private static final class Prepared {
        private final StatementKey key;
        private final String name;
        private final String clientName;
        private final int exchange;
        private StatementKey previous;

        Prepared(StatementKey key, String name, String clientName, int exchange, StatementKey previous) {
            this.key = key;
            this.name = name;
            this.clientName = clientName;
            this.exchange = exchange;
            this.previous = previous;
        }

        StatementKey key() {
            return key;
        }

        String name() {
            return name;
        }

        String clientName() {
            return clientName;
        }

        int exchange() {
            return exchange;
        }

        StatementKey previous() {
            return previous;
        }
    }
}

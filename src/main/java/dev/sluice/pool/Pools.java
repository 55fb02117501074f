package dev.sluice.pool;

import dev.sluice.admission.OperatingMode;
import dev.sluice.admission.Ticker;
import dev.sluice.admission.TokenBucket;
import dev.sluice.backend.ServerEndpoint;
import dev.sluice.config.AdmissionConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.PoolMode;
import dev.sluice.stats.Traffic;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every pool of the process, one per (database, user) pair, created on first use, plus the
 * once-a-second upkeep that trims and tops up idle connections.
 */
public final class Pools implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Pools.class);

    /** Replaced by {@link #reconfigure}; read once per lookup. */
    private volatile SluiceConfig config;
    private final EventLoopGroup group;
    private final Class<? extends SocketChannel> channelClass;
    private final SslContext serverSsl;
    private final LoopIndex loops;
    private final ConcurrentHashMap<String, Pool> pools = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Upstream> upstreams = new ConcurrentHashMap<>();
    private volatile TokenBucket rateLimit;
    private final Traffic traffic;
    private final ScheduledFuture<?> upkeep;
    private final ScheduledFuture<?> expiry;
    private final Set<String> pausedDatabases = ConcurrentHashMap.newKeySet();
    private volatile boolean pausedAll;

    public Pools(SluiceConfig config, EventLoopGroup group, Class<? extends SocketChannel> channelClass,
                 SslContext serverSsl, Traffic traffic) {
        this.config = config;
        this.traffic = traffic;
        this.group = group;
        this.channelClass = channelClass;
        this.serverSsl = serverSsl;
        this.loops = new LoopIndex(group);
        this.rateLimit = rateLimit(config.admission());
        this.upkeep = group.next().scheduleAtFixedRate(() -> {
            for (Pool p : pools.values()) {
                p.maintain(group.next());
            }
        }, 1, 1, TimeUnit.SECONDS);
        this.expiry = group.next().scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            for (Pool p : pools.values()) {
                p.expireWaiters(now);
            }
            for (Upstream u : upstreams.values()) {
                updateMode(u);
            }
        }, Pool.EXPIRY_PERIOD_MS, Pool.EXPIRY_PERIOD_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * The pool for a client of {@code database} logged in as {@code user}, created on first use.
     *
     * @return empty if the database is not configured
     */
    public Optional<Pool> pool(String database, String user) {
        if (config.database(database).isEmpty()) {
            return Optional.empty();
        }
        String key = database + '\u0000' + user;
        Pool p = pools.get(key);
        if (p == null) {
            // with the reload's lock: a reload must not miss a pool created with the settings it replaces
            synchronized (this) {
                SluiceConfig c = config;
                Optional<DatabaseConfig> db = c.database(database);
                if (db.isEmpty()) {
                    return Optional.empty();
                }
                p = pools.computeIfAbsent(key, k -> {
                    Pool created = create(c, db.get(), user);
                    if (pausedAll || pausedDatabases.contains(database)) {
                        created.pause(); // a database paused before its first client stays paused
                    }
                    return created;
                });
            }
        }
        return Optional.of(p);
    }

    /**
     * Applies a reloaded configuration: later lookups see its databases (a removed one is refused,
     * while its pools keep serving the clients they have), and every existing pool takes its new
     * settings (Pool.reconfigure). A pool whose user is no longer configured keeps the
     * password it logs in with, so the sessions it serves go on. The caller keeps restart-only
     * values (TLS, host and port of a database, pool mode...) as they were.
     */
    public synchronized void reconfigure(SluiceConfig next) {
        SluiceConfig previous = config;
        AdmissionConfig a = next.admission();
        AdmissionConfig before = previous.admission();
        TokenBucket bucket = a.rateLimit() == before.rateLimit() && a.rateBurst() == before.rateBurst()
                ? rateLimit : rateLimit(a);
        config = next;
        rateLimit = bucket;
        for (Pool p : pools.values()) {
            Optional<DatabaseConfig> db = next.database(p.database());
            ServerEndpoint endpoint = p.endpoint();
            int size = p.size();
            if (db.isPresent()) {
                ServerEndpoint e = endpoint(next, db.get(), p.user());
                // a removed user's password is gone from the configuration, not from its sessions
                endpoint = e.password() == null && endpoint.password() != null && next.user(e.user()).isEmpty()
                        && db.get().password().isEmpty() ? withPassword(e, endpoint.password()) : e;
                size = db.get().poolSize().orElse(next.pool().size());
            }
            p.reconfigure(endpoint, size, next.pool(), a, bucket);
        }
        OperatingMode.Thresholds thresholds = a.modeThresholds();
        if (!thresholds.equals(before.modeThresholds())) {
            for (Upstream u : upstreams.values()) {
                u.mode().thresholds(thresholds);
            }
        }
        if (!a.forcedMode().equals(before.forcedMode())) {
            for (Upstream u : upstreams.values()) {
                if (a.forcedMode().isPresent()) {
                    u.mode().force(a.forcedMode().get());
                } else {
                    u.mode().auto();
                }
            }
        }
        for (Upstream u : upstreams.values()) {
            var limit = u.adaptiveLimit();
            if (limit != null && upstreamLimit(previous, u.label()) != upstreamLimit(next, u.label())) {
                log.warn("upstream {}: the adaptive limit stays at most {} until a restart (the pool sizes now add up "
                        + "to {})", u.label(), limit.settings().maxLimit(), upstreamLimit(next, u.label()));
            }
        }
    }

    private static TokenBucket rateLimit(AdmissionConfig a) {
        return a.rateLimit() > 0 ? new TokenBucket(a.rateLimit(), a.rateBurst(), Ticker.system()) : null;
    }

    private static ServerEndpoint withPassword(ServerEndpoint e, String password) {
        return new ServerEndpoint(e.host(), e.port(), e.database(), e.user(), password, e.sslContext(), e.tlsRequired(),
                e.verifyHostname(), e.connectTimeout(), e.maxMessageLength(), e.statementCacheSize());
    }

    /** Feeds an upstream's operating mode with its queues' depth and oldest wait. */
    private static void updateMode(Upstream u) {
        int depth = 0;
        int capacity = 0;
        long oldest = 0;
        for (Pool p : u.pools()) {
            depth += p.waiting();
            capacity += p.queueCapacity();
            oldest = Math.max(oldest, p.oldestWaitNanos());
        }
        var limit = u.adaptiveLimit();
        boolean atMinimum = limit != null && limit.limit() <= limit.settings().minLimit() && depth > 0;
        u.mode().update(new OperatingMode.Signals(depth, Math.max(1, capacity), oldest, atMinimum));
    }

    private Pool create(SluiceConfig config, DatabaseConfig db, String clientUser) {
        ServerEndpoint endpoint = endpoint(config, db, clientUser);
        PoolMode mode = db.poolMode().orElse(config.pool().mode());
        int size = db.poolSize().orElse(config.pool().size());
        Upstream upstream = upstreams.computeIfAbsent(db.host() + ":" + db.port(),
                label -> new Upstream(label, config.admission(), upstreamLimit(config, label), Ticker.system()));
        return new Pool(db.name(), clientUser, endpoint, mode, size, config.pool(), config.admission(),
                upstream, rateLimit, channelClass, loops, traffic);
    }

    /** Where and how a pool of {@code db} for {@code clientUser} logs in to PostgreSQL. */
    private ServerEndpoint endpoint(SluiceConfig config, DatabaseConfig db, String clientUser) {
        String serverUser = db.user().orElse(clientUser);
        String password = db.password().orElseGet(
                () -> config.user(serverUser).map(SluiceConfig.UserConfig::password).orElse(null));
        if (password != null && (password.startsWith("SCRAM-SHA-256$") || password.isEmpty())) {
            password = null;
        }
        var tls = config.serverTls();
        return new ServerEndpoint(db.host(), db.port(), db.dbname(), serverUser, password,
                serverSsl, tls.mode() == SluiceConfig.ServerTlsMode.REQUIRE || tls.mode() == SluiceConfig.ServerTlsMode.VERIFY_FULL,
                tls.mode() == SluiceConfig.ServerTlsMode.VERIFY_FULL,
                config.pool().connectTimeout(), config.maxMessageLength(), config.pool().preparedStatementCacheSize());
    }

    /** The most server connections all pools of the upstream {@code host:port} may have: the adaptive limit's ceiling. */
    private static int upstreamLimit(SluiceConfig config, String label) {
        int sum = 0;
        for (DatabaseConfig d : config.databases()) {
            if ((d.host() + ":" + d.port()).equals(label)) {
                sum += d.poolSize().orElse(config.pool().size());
            }
        }
        return Math.max(1, sum);
    }

    /**
     * Pauses the pools of {@code database} (every pool when null), those created later included,
     * until {@link #resume}.
     *
     * @return completes once none of those pools has a server connection lent out
     */
    public synchronized CompletableFuture<Void> pause(String database) {
        if (database == null) {
            pausedAll = true;
        } else {
            pausedDatabases.add(database);
        }
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (Pool p : pools.values()) {
            if (database == null || p.database().equals(database)) {
                all.add(p.pause());
            }
        }
        return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]));
    }

    /** Resumes the pools of {@code database}, or every pool when it is null. */
    public synchronized void resume(String database) {
        if (database == null) {
            pausedAll = false;
            pausedDatabases.clear();
        } else {
            pausedDatabases.remove(database);
        }
        for (Pool p : pools.values()) {
            if (database == null || p.database().equals(database) && !pausedAll) {
                p.resume();
            }
        }
    }

    /** Every pool created so far. */
    public List<Pool> all() {
        return new ArrayList<>(pools.values());
    }

    /** Every upstream seen so far. */
    public List<Upstream> upstreams() {
        return new ArrayList<>(upstreams.values());
    }

    public LoopIndex loops() {
        return loops;
    }

    @Override
    public void close() {
        upkeep.cancel(false);
        expiry.cancel(false);
        for (Pool p : pools.values()) {
            p.close();
        }
    }

    /**
     * After {@link #close()}: closes every remaining server connection, lent ones too (shutting
     * down), and returns their channels so the caller can wait until the sockets are closed
     * before it stops the event loops.
     */
    public List<Channel> closeAll() {
        List<Channel> channels = new ArrayList<>();
        for (Pool p : pools.values()) {
            channels.addAll(p.closeAll());
        }
        return channels;
    }
}

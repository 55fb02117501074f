package dev.sluice.pool;

import dev.sluice.admission.OperatingMode;
import dev.sluice.admission.Ticker;
import dev.sluice.admission.TokenBucket;
import dev.sluice.backend.ServerEndpoint;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.PoolMode;
import dev.sluice.stats.Traffic;
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

/**
 * Every pool of the process, one per (database, user) pair, created on first use, plus the
 * once-a-second upkeep that trims and tops up idle connections.
 */
public final class Pools implements AutoCloseable {
    private final SluiceConfig config;
    private final EventLoopGroup group;
    private final Class<? extends SocketChannel> channelClass;
    private final SslContext serverSsl;
    private final LoopIndex loops;
    private final ConcurrentHashMap<String, Pool> pools = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Upstream> upstreams = new ConcurrentHashMap<>();
    private final TokenBucket rateLimit;
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
        this.rateLimit = config.admission().rateLimit() > 0
                ? new TokenBucket(config.admission().rateLimit(), config.admission().rateBurst(), Ticker.system())
                : null;
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
        Optional<DatabaseConfig> db = config.database(database);
        if (db.isEmpty()) {
            return Optional.empty();
        }
        String key = database + '\u0000' + user;
        Pool p = pools.get(key);
        if (p == null) {
            p = pools.computeIfAbsent(key, k -> {
                Pool created = create(db.get(), user);
                if (pausedAll || pausedDatabases.contains(database)) {
                    created.pause(); // a database paused before its first client stays paused
                }
                return created;
            });
        }
        return Optional.of(p);
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

    private Pool create(DatabaseConfig db, String clientUser) {
        String serverUser = db.user().orElse(clientUser);
        String password = db.password().orElseGet(
                () -> config.user(serverUser).map(SluiceConfig.UserConfig::password).orElse(null));
        if (password != null && (password.startsWith("SCRAM-SHA-256$") || password.isEmpty())) {
            password = null;
        }
        var tls = config.serverTls();
        ServerEndpoint endpoint = new ServerEndpoint(db.host(), db.port(), db.dbname(), serverUser, password,
                serverSsl, tls.mode() == SluiceConfig.ServerTlsMode.REQUIRE || tls.mode() == SluiceConfig.ServerTlsMode.VERIFY_FULL,
                tls.mode() == SluiceConfig.ServerTlsMode.VERIFY_FULL,
                config.pool().connectTimeout(), config.maxMessageLength(), config.pool().preparedStatementCacheSize());
        PoolMode mode = db.poolMode().orElse(config.pool().mode());
        int size = db.poolSize().orElse(config.pool().size());
        Upstream upstream = upstreams.computeIfAbsent(db.host() + ":" + db.port(),
                label -> new Upstream(label, config.admission(), upstreamLimit(db), Ticker.system()));
        return new Pool(db.name(), clientUser, endpoint, mode, size, config.pool(), config.admission(),
                upstream, rateLimit, channelClass, loops, traffic);
    }

    /** The most server connections all pools of {@code db}'s upstream may have: the adaptive limit's ceiling. */
    private int upstreamLimit(DatabaseConfig db) {
        int sum = 0;
        for (DatabaseConfig d : config.databases()) {
            if (d.host().equals(db.host()) && d.port() == db.port()) {
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
    public CompletableFuture<Void> pause(String database) {
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
    public void resume(String database) {
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
}

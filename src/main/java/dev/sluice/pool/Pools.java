package dev.sluice.pool;

import dev.sluice.backend.ServerEndpoint;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.SluiceConfig.DatabaseConfig;
import dev.sluice.config.SluiceConfig.PoolMode;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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
    private final ScheduledFuture<?> upkeep;
    private final ScheduledFuture<?> expiry;

    public Pools(SluiceConfig config, EventLoopGroup group, Class<? extends SocketChannel> channelClass,
                 SslContext serverSsl) {
        this.config = config;
        this.group = group;
        this.channelClass = channelClass;
        this.serverSsl = serverSsl;
        this.loops = new LoopIndex(group);
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
            p = pools.computeIfAbsent(key, k -> create(db.get(), user));
        }
        return Optional.of(p);
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
        return new Pool(db.name() + "/" + clientUser, endpoint, mode, size, config.pool(), channelClass, loops);
    }

    /** Every pool created so far. */
    public List<Pool> all() {
        return new ArrayList<>(pools.values());
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

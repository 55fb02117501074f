package dev.sluice.pool;

import dev.sluice.admission.AdaptiveLimit;
import dev.sluice.admission.CircuitBreaker;
import dev.sluice.admission.FairShare;
import dev.sluice.admission.OperatingMode;
import dev.sluice.admission.Ticker;
import dev.sluice.config.AdmissionConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the pools of one PostgreSQL server (host and port) share: the circuit breaker that stops
 * Sluice from hammering a server that is down, the concurrency limit (fixed at the sum of pool
 * sizes, or adaptive), the operating mode, and the count of server connections lent out now.
 * State changes are logged.
 */
public final class Upstream {
    private static final Logger log = LoggerFactory.getLogger(Upstream.class);

    private final String label;
    private final CircuitBreaker breaker;
    private final AdaptiveLimit limit;
    private final OperatingMode mode;
    private final AtomicInteger inUse = new AtomicInteger();
    private final List<Pool> pools = new CopyOnWriteArrayList<>();
    private final int maxLimit;
    /** Fair shares between users or applications, or null when none are configured. */
    private final FairShare shares;
    private final List<FairShare.Rule> shareRules;
    /** Per share key: connections held and requests waiting, all pools of this upstream together. */
    private final ConcurrentHashMap<String, AtomicInteger> heldByKey = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> waitingByKey = new ConcurrentHashMap<>();

    Upstream(String label, AdmissionConfig config, int maxLimit, Ticker ticker) {
        this.label = label;
        this.maxLimit = maxLimit;
        this.shareRules = config.shares();
        if (shareRules.isEmpty()) {
            this.shares = null;
        } else {
            Map<String, FairShare.Share> byKey = new HashMap<>();
            for (FairShare.Rule r : shareRules) {
                byKey.putIfAbsent(r.key(), r.share());
            }
            this.shares = new FairShare(maxLimit, byKey, new FairShare.Share(0, maxLimit));
        }
        Duration coolDown = config.breakerCoolDown();
        Duration maxCoolDown = coolDown.multipliedBy(12).compareTo(Duration.ofMinutes(1)) > 0
                ? coolDown.multipliedBy(12) : Duration.ofMinutes(1);
        this.breaker = new CircuitBreaker(label,
                new CircuitBreaker.Settings(config.breakerFailures(), coolDown, maxCoolDown, 2.0, 1), ticker,
                (upstream, from, to, reason) -> log.warn("upstream {}: circuit {} -> {} ({})", upstream, from, to, reason));
        if (config.adaptiveLimit()) {
            int min = Math.min(config.minLimit(), maxLimit);
            this.limit = new AdaptiveLimit(AdaptiveLimit.Settings.of(min, maxLimit), ticker);
            this.limit.addListener((oldLimit, newLimit, reason, base, window) -> {
                log.info("upstream {}: concurrency limit {} -> {} ({}, baseline {} us, window {} us)", label,
                        oldLimit, newLimit, reason, base / 1000, window / 1000);
                for (Pool p : pools) {
                    p.dispatch();
                }
            });
        } else {
            this.limit = null;
        }
        this.mode = new OperatingMode(config.modeThresholds(), ticker,
                (from, to, reason) -> log.warn("upstream {}: operating mode {} -> {} ({})", label, from, to, reason));
        config.forcedMode().ifPresent(mode::force);
    }

    public String label() {
        return label;
    }

    public CircuitBreaker breaker() {
        return breaker;
    }

    public OperatingMode mode() {
        return mode;
    }

    /** The adaptive limit, or {@code null} when the limit is the configured pool sizes. */
    public AdaptiveLimit adaptiveLimit() {
        return limit;
    }

    /** Server connections lent to clients now, all pools of this upstream together. */
    public int inUse() {
        return inUse.get();
    }

    /** Whether one more server connection may be lent out now. */
    boolean belowLimit() {
        return limit == null || inUse.get() < limit.limit();
    }

    int lend(String shareKey) {
        if (shareKey != null) {
            counter(heldByKey, shareKey).incrementAndGet();
        }
        return inUse.incrementAndGet();
    }

    // ---- fair shares ----

    /**
     * The share key of a client: that of the first share rule matching its user or
     * application_name, {@code ""} when none matches, {@code null} when no shares are configured.
     */
    String shareKey(String user, String application) {
        if (shares == null) {
            return null;
        }
        for (FairShare.Rule r : shareRules) {
            String v = r.attribute().equals("user") ? user : application;
            if (r.value().equals(v)) {
                return r.key();
            }
        }
        return "";
    }

    /** Whether a request of {@code shareKey} may take a server connection now under the fair shares. */
    boolean mayTake(String shareKey) {
        if (shares == null || shareKey == null) {
            return true;
        }
        List<String> waitingKeys = new ArrayList<>(4);
        waitingByKey.forEach((k, n) -> {
            if (n.get() > 0) {
                waitingKeys.add(k);
            }
        });
        int connections = limit != null ? limit.limit() : maxLimit;
        return shares.mayTake(shareKey, held, inUse.get(), waitingKeys, connections).allowed();
    }

    /** Connections a share key holds now. */
    private final ToIntFunction<String> held = k -> {
        AtomicInteger n = heldByKey.get(k);
        return n == null ? 0 : n.get();
    };

    /** Offers free connections to the waiters of every pool (a key stopped waiting: others may now take more). */
    void dispatchAll() {
        for (Pool p : pools) {
            p.dispatch();
        }
    }

    void waiting(String shareKey, int delta) {
        if (shareKey != null) {
            counter(waitingByKey, shareKey).addAndGet(delta);
        }
    }

    /** Server connections held now per share key (empty when no shares are configured). */
    public Map<String, Integer> heldByShare() {
        Map<String, Integer> out = new TreeMap<>();
        heldByKey.forEach((k, n) -> out.put(k.isEmpty() ? "(other)" : k, n.get()));
        return out;
    }

    private static AtomicInteger counter(ConcurrentHashMap<String, AtomicInteger> map, String key) {
        AtomicInteger n = map.get(key);
        return n != null ? n : map.computeIfAbsent(key, k -> new AtomicInteger());
    }

    void giveBack(String shareKey) {
        inUse.decrementAndGet();
        if (shareKey != null) {
            heldByKey.get(shareKey).decrementAndGet();
        }
        if (limit != null || shares != null) {
            // a waiter of another pool may now fit under the shared limit
            for (Pool p : pools) {
                p.dispatch();
            }
        }
    }

    /** A request (statement or transaction step) took {@code rttNanos} on PostgreSQL. */
    public void sample(long rttNanos) {
        if (limit != null) {
            limit.onSample(rttNanos, inUse.get(), false);
        }
    }

    void register(Pool p) {
        pools.add(p);
    }

    List<Pool> pools() {
        return pools;
    }
}

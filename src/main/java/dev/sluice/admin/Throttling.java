package dev.sluice.admin;

import dev.sluice.admission.AdaptiveLimit;
import dev.sluice.admission.CircuitBreaker;
import dev.sluice.admission.OperatingMode;
import dev.sluice.admission.Priority;
import dev.sluice.config.SluiceConfig;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.pool.Pool;
import dev.sluice.pool.Upstream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Throttling advice for frontends: how hard to push Sluice now, so that they slow down before
 * Sluice must refuse (53300 when a queue is full or a class is shed, 57014 past a wait deadline,
 * 08006 while a circuit is open). A plain function of the load of each upstream
 * ({@link #advise(List, Duration, int)}), plus {@link #loads} which samples that load.
 *
 * <p>Derivation, per upstream (PostgreSQL host and port), from: its circuit, its operating mode,
 * its capacity (the adaptive concurrency limit when on, capped by the sizes of its pools; else the
 * sum of those sizes), the requests waiting for a server connection against the queue capacity
 * ({@code admission.queue_size} per pool), the oldest wait against the deadline {@code D} of the
 * {@code normal} class ({@code admission.wait_timeout.normal}), and paused pools:
 * <ul>
 * <li>{@code shed} (refusals are happening or imminent) when the circuit is open, or the mode is
 *     emergency, or the queue is at least 90% full, or the oldest wait has reached D/2;</li>
 * <li>{@code slow_down} when the circuit is half-open, or the mode is degraded, or the queue is at
 *     least 50% full, or at least as many requests wait as the capacity runs at once, or the
 *     oldest wait has reached D/4, or a pool is paused;</li>
 * <li>{@code none} otherwise.</li>
 * </ul>
 * Suggested concurrency: 0 while the circuit is open; otherwise capacity minus waiting (at least
 * 1), halved under {@code shed}. Suggested delay: 0 under {@code none}; under {@code slow_down}
 * the oldest wait, at least 50 ms; under {@code shed} the oldest wait, at least 500 ms, or the
 * circuit's remaining cool-down when it is open; never more than D. {@code retry_after_s}: the
 * open circuit's remaining cool-down in whole seconds, rounded up, else 0.
 *
 * <p>Overall: the worst level, the sum of the suggested concurrencies, the longest delay and
 * retry-after, and every reason. With no upstream in use yet, the level is {@code none} and the
 * suggested concurrency the sum of the configured databases' pool sizes.
 */
final class Throttling {
    static final long MIN_SLOW_DOWN_DELAY_MS = 50;
    static final long MIN_SHED_DELAY_MS = 500;

    /** Advice levels, mildest first. */
    enum Level {
        NONE, SLOW_DOWN, SHED;

        String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The load of one upstream at one moment.
     *
     * @param capacity        server connections it may lend at once now
     * @param queueCapacity   requests that may wait, all its pools together
     * @param pausedPools     names of its pools an operator paused
     */
    record UpstreamLoad(String upstream, CircuitBreaker.State circuit, long retryAfterNanos, OperatingMode.Mode mode,
                        int capacity, int inUse, int waiting, int queueCapacity, long oldestWaitNanos,
                        List<String> pausedPools) {
        UpstreamLoad {
            pausedPools = List.copyOf(pausedPools);
        }
    }

    /** The advice for one upstream. */
    record UpstreamAdvice(UpstreamLoad load, Level level, int suggestedMaxConcurrency, long delayMillis,
                          long retryAfterSeconds, List<String> reasons) {
    }

    /** The advice for the whole proxy, with its parts. */
    record Advice(Level level, int suggestedMaxConcurrency, long delayMillis, long retryAfterSeconds,
                  List<String> reasons, List<UpstreamAdvice> upstreams) {
    }

    private Throttling() {
    }

    /** The advice over every upstream; {@code idleCapacity} is the suggestion when there is none. */
    static Advice advise(List<UpstreamLoad> loads, Duration deadline, int idleCapacity) {
        if (loads.isEmpty()) {
            return new Advice(Level.NONE, idleCapacity, 0, 0, List.of(), List.of());
        }
        Level level = Level.NONE;
        int concurrency = 0;
        long delay = 0;
        long retryAfter = 0;
        List<String> reasons = new ArrayList<>();
        List<UpstreamAdvice> parts = new ArrayList<>();
        for (UpstreamLoad l : loads) {
            UpstreamAdvice a = advise(l, deadline);
            parts.add(a);
            level = a.level().compareTo(level) > 0 ? a.level() : level;
            concurrency += a.suggestedMaxConcurrency();
            delay = Math.max(delay, a.delayMillis());
            retryAfter = Math.max(retryAfter, a.retryAfterSeconds());
            reasons.addAll(a.reasons());
        }
        return new Advice(level, concurrency, delay, retryAfter, reasons, parts);
    }

    /** The advice for one upstream; see the class notes. */
    static UpstreamAdvice advise(UpstreamLoad l, Duration deadline) {
        String u = "upstream " + l.upstream() + ": ";
        long deadlineMs = Math.max(1, deadline.toMillis());
        long oldestMs = l.oldestWaitNanos() / 1_000_000;
        double fill = l.queueCapacity() <= 0 ? (l.waiting() > 0 ? 1.0 : 0.0) : (double) l.waiting() / l.queueCapacity();
        List<String> shed = new ArrayList<>();
        List<String> slow = new ArrayList<>();
        long retryAfterS = 0;
        switch (l.circuit()) {
            case OPEN -> {
                retryAfterS = (l.retryAfterNanos() + 999_999_999) / 1_000_000_000;
                shed.add(u + "circuit open (PostgreSQL unreachable); requests fail with 08006 for about "
                        + retryAfterS + " s more");
            }
            case HALF_OPEN -> slow.add(u + "circuit half-open: probing PostgreSQL after an outage");
            case CLOSED -> { }
        }
        switch (l.mode()) {
            case EMERGENCY -> shed.add(u + "emergency mode: low and background requests are refused (53300)");
            case DEGRADED -> slow.add(u + "degraded mode");
            case NORMAL -> { }
        }
        String queue = l.waiting() + " of " + l.queueCapacity() + " queue places taken";
        if (fill >= 0.9) {
            shed.add(u + queue + " (refused with 53300 when full)");
        } else if (fill >= 0.5) {
            slow.add(u + queue);
        }
        if (l.waiting() > 0 && l.waiting() >= l.capacity()) {
            slow.add(u + l.waiting() + " requests wait, at least as many as the " + l.capacity()
                    + " that run at once");
        }
        String wait = "oldest request has waited " + oldestMs + " ms of the " + deadlineMs
                + " ms deadline (57014 past it)";
        if (oldestMs * 2 >= deadlineMs && l.waiting() > 0) {
            shed.add(u + wait);
        } else if (oldestMs * 4 >= deadlineMs && l.waiting() > 0) {
            slow.add(u + wait);
        }
        for (String p : l.pausedPools()) {
            slow.add("pool " + p + " is paused: its requests wait until it is resumed");
        }
        Level level = !shed.isEmpty() ? Level.SHED : !slow.isEmpty() ? Level.SLOW_DOWN : Level.NONE;
        int concurrency;
        if (l.circuit() == CircuitBreaker.State.OPEN) {
            concurrency = 0;
        } else {
            concurrency = Math.max(1, l.capacity() - l.waiting());
            if (level == Level.SHED) {
                concurrency = Math.max(1, concurrency / 2);
            }
        }
        long delay = switch (level) {
            case NONE -> 0;
            case SLOW_DOWN -> Math.max(MIN_SLOW_DOWN_DELAY_MS, oldestMs);
            case SHED -> l.circuit() == CircuitBreaker.State.OPEN
                    ? Math.max(MIN_SHED_DELAY_MS, l.retryAfterNanos() / 1_000_000)
                    : Math.max(MIN_SHED_DELAY_MS, oldestMs);
        };
        List<String> reasons = new ArrayList<>(shed);
        reasons.addAll(slow);
        return new UpstreamAdvice(l, level, concurrency, Math.min(delay, deadlineMs), retryAfterS, List.copyOf(reasons));
    }

    /** Samples the load of every upstream in use. */
    static List<UpstreamLoad> loads(ProxyServer proxy) {
        int queueSize = proxy.config().admission().queueSize();
        List<UpstreamLoad> out = new ArrayList<>();
        for (Upstream u : proxy.upstreams()) {
            int sizes = 0;
            int pools = 0;
            int waiting = 0;
            long oldest = 0;
            List<String> paused = new ArrayList<>();
            for (Pool p : proxy.poolList()) {
                if (p.upstream() != u) {
                    continue;
                }
                Pool.Snapshot s = p.snapshot();
                pools++;
                sizes += s.size();
                waiting += s.waiting();
                oldest = Math.max(oldest, s.oldestWaitNanos());
                if (s.paused()) {
                    paused.add(s.name());
                }
            }
            AdaptiveLimit limit = u.adaptiveLimit();
            int capacity = limit == null ? sizes : Math.min(limit.limit(), sizes);
            out.add(new UpstreamLoad(u.label(), u.breaker().state(), u.breaker().retryAfterNanos(), u.mode().mode(),
                    capacity, u.inUse(), waiting, pools * queueSize, oldest, paused));
        }
        return out;
    }

    /** The advice for the running proxy. */
    static Advice advise(ProxyServer proxy) {
        SluiceConfig c = proxy.config();
        int idle = 0;
        for (SluiceConfig.DatabaseConfig d : c.databases()) {
            idle += d.poolSize().orElse(c.pool().size());
        }
        return advise(loads(proxy), c.admission().waitTimeouts().get(Priority.NORMAL), idle);
    }

    /** The advice as the JSON document of {@code GET /api/v1/throttling}. */
    static Map<String, Object> document(Advice a) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("level", a.level().configName());
        doc.put("suggested_max_concurrency", a.suggestedMaxConcurrency());
        doc.put("delay_ms", a.delayMillis());
        doc.put("retry_after_s", a.retryAfterSeconds());
        doc.put("reasons", a.reasons());
        List<Map<String, Object>> ups = new ArrayList<>();
        for (UpstreamAdvice u : a.upstreams()) {
            UpstreamLoad l = u.load();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("upstream", l.upstream());
            m.put("level", u.level().configName());
            m.put("suggested_max_concurrency", u.suggestedMaxConcurrency());
            m.put("delay_ms", u.delayMillis());
            m.put("retry_after_s", u.retryAfterSeconds());
            m.put("circuit", l.circuit().name().toLowerCase(Locale.ROOT));
            m.put("mode", l.mode().configName());
            m.put("capacity", l.capacity());
            m.put("in_use", l.inUse());
            m.put("waiting", l.waiting());
            m.put("queue_capacity", l.queueCapacity());
            m.put("oldest_wait_ms", l.oldestWaitNanos() / 1_000_000);
            m.put("paused_pools", l.pausedPools());
            m.put("reasons", u.reasons());
            ups.add(m);
        }
        doc.put("upstreams", ups);
        return doc;
    }
}

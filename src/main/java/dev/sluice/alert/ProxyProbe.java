package dev.sluice.alert;

import dev.sluice.frontend.ProxyServer;
import dev.sluice.pool.Pool;
import dev.sluice.pool.Upstream;
import dev.sluice.stats.Traffic;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads an {@link Observation} from the running proxy: pool snapshots (each takes its pool's lock
 * briefly), upstream states and the traffic counters (sums of adders, a histogram copy). Runs on
 * the alert thread, once a second; the data path is not touched.
 */
final class ProxyProbe implements AlertEngine.Probe {
    private final ProxyServer proxy;

    ProxyProbe(ProxyServer proxy) {
        this.proxy = proxy;
    }

    @Override
    public Observation observe(long nanos, Instant at) {
        List<Observation.PoolReading> pools = new ArrayList<>();
        for (Pool p : proxy.poolList()) {
            Pool.Snapshot s = p.snapshot();
            pools.add(new Observation.PoolReading(s.name(), s.size(), s.inUse(), s.oldestWaitNanos()));
        }
        List<Observation.UpstreamReading> upstreams = new ArrayList<>();
        for (Upstream u : proxy.upstreams()) {
            upstreams.add(new Observation.UpstreamReading(u.label(), u.breaker().state(), u.mode().mode()));
        }
        Traffic t = proxy.traffic();
        long refusals = 0;
        for (long n : t.refusals().values()) {
            refusals += n;
        }
        TrafficWindow.Sample traffic = new TrafficWindow.Sample(nanos, t.queryLatency().snapshot(), t.queries(),
                t.errorCount(), refusals);
        return new Observation(nanos, at, pools, upstreams, traffic);
    }
}

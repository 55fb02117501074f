package dev.sluice.metrics;

import dev.sluice.frontend.ProxyServer;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

/**
 * The Prometheus metrics of one proxy: every {@code sluice_*} series (connections, pools, queues,
 * upstreams, traffic, latency histograms; listed in docs/metrics.md) plus a few JVM and process
 * series (memory, threads and uptime from Micrometer's binders; garbage collections and process CPU
 * time read from the JVM's management beans).
 *
 * <p>Nothing is pushed from the data path: each {@link #scrape} reads the proxy's counters, pools
 * and upstreams as they are at that moment, on the caller's thread. Holds no resource that needs
 * closing (no listener is registered anywhere), so it may simply be dropped with its proxy.
 *
 * <p>Scrapes may run on any thread, several at once; each reads the proxy at its own moment.
 */
public final class SluiceMetrics {
    /** The Prometheus text exposition format, version 0.0.4, that {@link #scrape} produces. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry;

    /** Binds the metrics of {@code proxy} and the JVM's basics on a registry of its own. */
    public SluiceMetrics(ProxyServer proxy) {
        PrometheusRegistry prometheus = new PrometheusRegistry();
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, prometheus, Clock.SYSTEM);
        // the sluice_* families are built at scrape time by one collector: Micrometer's meters
        // cannot express a histogram computed elsewhere, nor label sets that come and go
        prometheus.register(new ProxyCollector(proxy));
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        garbageCollections(registry);
        processCpu(registry);
    }

    /** Every series as Prometheus text ({@link #CONTENT_TYPE}), read now. */
    public String scrape() {
        return registry.scrape(CONTENT_TYPE);
    }

    // Micrometer's JvmGcMetrics listens to GC notifications and must be closed; counters read from
    // the MXBeans at scrape time need neither, which suits a registry that lives as long as a proxy.
    private static void garbageCollections(MeterRegistry registry) {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            FunctionCounter.builder("jvm.gc.collections", gc, b -> Math.max(0, b.getCollectionCount()))
                    .tag("gc", gc.getName())
                    .description("Collections run by this garbage collector")
                    .register(registry);
            FunctionCounter.builder("jvm.gc.collection", gc, b -> Math.max(0, b.getCollectionTime()) / 1000.0)
                    .tag("gc", gc.getName())
                    .baseUnit("seconds")
                    .description("Approximate accumulated collection elapsed time of this garbage collector")
                    .register(registry);
        }
    }

    /** {@code process_cpu_seconds_total}, under the name Prometheus' own client libraries give it. */
    private static void processCpu(MeterRegistry registry) {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder("process.cpu", os, b -> Math.max(0, b.getProcessCpuTime()) / 1e9)
                    .baseUnit("seconds")
                    .description("CPU time used by the Sluice process")
                    .register(registry);
        }
    }
}

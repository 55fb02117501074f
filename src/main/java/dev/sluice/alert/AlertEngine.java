package dev.sluice.alert;

import dev.sluice.admission.Ticker;
import dev.sluice.config.AlertConfig;
import dev.sluice.frontend.ProxyServer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates the alert rules of {@code alerts.*} once a second on its own daemon thread
 * ({@code sluice-alerts}), never on an event loop; keeps the events of the last 24 hours (at most
 * 10,000, newest first) and hands each event to the webhooks, which deliver it asynchronously.
 *
 * <p>What the rules measure and how hysteresis works is described on the package-private
 * {@code Evaluator} and {@code Tracker} classes and in docs/configuration.md ({@code alerts.*}).
 * Each change of an alert is one {@link AlertEvent}: fired, escalated, deescalated or resolved.
 *
 * <p>Lifecycle: {@link #create} then {@link #start}; {@link #close} stops evaluating and abandons
 * deliveries still pending. With {@code alerts.enabled: off}, {@code start} does nothing and the
 * engine answers with no alerts. Reads ({@link #active}, {@link #history}) are safe from any thread.
 */
public final class AlertEngine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AlertEngine.class);
    static final Duration INTERVAL = Duration.ofSeconds(1);
    static final Duration HISTORY_KEEP = Duration.ofHours(24);
    static final int HISTORY_MAX = 10_000;

    /** Reads what one evaluation looks at. */
    @FunctionalInterface
    interface Probe {
        Observation observe(long nanos, Instant at);
    }

    /**
     * What a webhook has done so far.
     *
     * @param url            the URL without user info, path and query (they often hold a token)
     * @param format         {@code json} or {@code slack}
     * @param delivered      events it accepted (a 2xx answer)
     * @param failedAttempts POSTs that failed, retries included
     * @param givenUp        events abandoned after the last retry
     * @param dropped        events dropped because its queue was full
     * @param queued         events waiting now, the one being sent not included
     */
    public record WebhookStatus(String url, String format, long delivered, long failedAttempts, long givenUp,
                                long dropped, int queued) {
    }

    private final AlertConfig config;
    private final Probe probe;
    private final Ticker ticker;
    private final long originNanos;
    private final long originMillis;
    private final Evaluator evaluator;
    private final History history = new History(HISTORY_KEEP, HISTORY_MAX);
    private final Consumer<AlertEvent> deliver;
    private final WebhookSender sender;
    private ScheduledExecutorService scheduler;
    private volatile List<Alert> active = List.of();
    private boolean failing;

    /** An engine for {@code proxy}, with its {@code config().alerts()}; not running until {@link #start}. */
    public static AlertEngine create(ProxyServer proxy) {
        AlertConfig c = proxy.config().alerts();
        WebhookSender sender = c.enabled() && !c.webhooks().isEmpty() ? new WebhookSender(c) : null;
        return new AlertEngine(c, new ProxyProbe(proxy), Ticker.system(), System.currentTimeMillis(), sender);
    }

    /**
     * @param originMillis wall-clock time at the ticker's current reading; event times are derived
     *                     from the ticker so that one injected clock drives everything in tests
     * @param sender       where events go, or null for none
     */
    AlertEngine(AlertConfig config, Probe probe, Ticker ticker, long originMillis, WebhookSender sender) {
        this.config = config;
        this.probe = probe;
        this.ticker = ticker;
        this.originNanos = ticker.read();
        this.originMillis = originMillis;
        this.evaluator = new Evaluator(config);
        this.sender = sender;
        this.deliver = sender == null ? e -> { } : sender::send;
    }

    /** Starts evaluating once a second; does nothing when alerts are disabled or already started. */
    public synchronized void start() {
        if (!config.enabled() || scheduler != null) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-alerts");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleAtFixedRate(this::tick, INTERVAL.toNanos(), INTERVAL.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void tick() {
        try {
            evaluateOnce();
            if (failing) {
                log.info("alert evaluation works again");
                failing = false;
            }
        } catch (RuntimeException e) {
            // an exception would cancel the schedule: log the first of a run and carry on
            if (!failing) {
                log.warn("alert evaluation failed; retrying every second", e);
                failing = true;
            }
        }
    }

    /** One evaluation: observe, apply the rules, record and deliver the changes. */
    void evaluateOnce() {
        long nanos = ticker.read();
        Observation o = probe.observe(nanos, wallTime(nanos));
        List<AlertEvent> events = evaluator.evaluate(o);
        active = List.copyOf(evaluator.active());
        for (AlertEvent e : events) {
            history.add(e);
            if (e.kind() == AlertEvent.Kind.RESOLVED) {
                log.info("alert {} {}: {}", e.name(), e.state(), e.message());
            } else {
                log.warn("alert {} {} ({}, {}): {}", e.name(), e.state(), e.severity().configName(),
                        e.kind().configName(), e.message());
            }
            deliver.accept(e);
        }
    }

    private Instant wallTime(long nanos) {
        return Instant.ofEpochMilli(originMillis + (nanos - originNanos) / 1_000_000);
    }

    /** The settings it runs with. */
    public AlertConfig config() {
        return config;
    }

    /** Whether rules are evaluated ({@code alerts.enabled}). */
    public boolean enabled() {
        return config.enabled();
    }

    /** The alerts firing as of the last evaluation. */
    public List<Alert> active() {
        return active;
    }

    /** Events of the last 24 hours at or after {@code since} (all when null), newest first. */
    public List<AlertEvent> history(Instant since) {
        return history.since(since, wallTime(ticker.read()));
    }

    /** Delivery counters, one entry per configured webhook (none when alerts are disabled). */
    public List<WebhookStatus> webhooks() {
        if (sender == null) {
            return List.of();
        }
        return sender.status();
    }

    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                scheduler.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (sender != null) {
            sender.close();
        }
    }
}

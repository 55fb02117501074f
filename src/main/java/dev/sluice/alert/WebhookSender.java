package dev.sluice.alert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.AlertConfig;
import dev.sluice.config.AlertConfig.Webhook;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers alert events to webhooks without ever blocking the caller.
 *
 * <p>Each webhook has its own bounded queue and sends one event at a time, in order (so a
 * {@code resolved} never overtakes its {@code firing}), with {@link HttpClient#sendAsync}; a slow
 * or dead webhook delays no other. A POST succeeds on any 2xx answer. A failed one (error status,
 * connection failure, or no answer within the timeout) is tried again after the backoff, which
 * doubles each time ({@code 1 s, 2 s, 4 s} with the defaults), up to {@code retries} more times;
 * then the event is given up. When a queue is full, its oldest waiting event is dropped and
 * counted. Failures are logged at warn once per burst (the first failure after a success), the
 * recovery at info with what the burst cost; the rest at debug.
 *
 * <p>Threads: {@link #send} only enqueues. Sends start and retries wait on one daemon thread
 * ({@code sluice-alert-webhooks}); answers arrive on the HTTP client's threads and hop back to it.
 */
final class WebhookSender implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebhookSender.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration MAX_BACKOFF = Duration.ofMinutes(5);

    private final List<Target> targets = new ArrayList<>();
    private final HttpClient client;
    private final ScheduledExecutorService executor;
    private final Duration timeout;
    private final int retries;
    private final Duration backoff;
    private final int queueSize;

    WebhookSender(AlertConfig config) {
        this.timeout = config.webhookTimeout();
        this.retries = config.webhookRetries();
        this.backoff = config.webhookBackoff();
        this.queueSize = config.webhookQueueSize();
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-alert-webhooks");
            t.setDaemon(true);
            return t;
        });
        this.client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
        for (Webhook w : config.webhooks()) {
            targets.add(new Target(w));
        }
    }

    /** Queues {@code e} for every webhook; returns at once. */
    void send(AlertEvent e) {
        for (Target t : targets) {
            t.offer(new Delivery(body(e, t.hook.format())));
        }
    }

    List<AlertEngine.WebhookStatus> status() {
        List<AlertEngine.WebhookStatus> out = new ArrayList<>();
        for (Target t : targets) {
            out.add(t.status());
        }
        return out;
    }

    @Override
    public void close() {
        executor.shutdownNow();
        client.shutdownNow();
    }

    /**
     * The body for a webhook: Sluice's JSON document ({@link AlertEvent#toMap()} plus
     * {@code "source": "sluice"}), or for Slack {@code {"text": "..."}}.
     */
    static byte[] body(AlertEvent e, AlertConfig.Format format) {
        Object doc;
        if (format == AlertConfig.Format.SLACK) {
            doc = Map.of("text", slackText(e));
        } else {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("source", "sluice");
            m.putAll(e.toMap());
            doc = m;
        }
        try {
            return JSON.writeValueAsBytes(doc);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("cannot write an alert as JSON: " + ex.getMessage(), ex);
        }
    }

    /** {@code [FIRING critical] pool_utilization pool=app/app: <message>} */
    static String slackText(AlertEvent e) {
        StringBuilder b = new StringBuilder();
        b.append('[').append(e.kind() == AlertEvent.Kind.RESOLVED ? "RESOLVED" : "FIRING").append(' ')
                .append(e.severity().configName()).append("] ").append(e.name());
        new TreeMap<>(e.labels()).forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
        if (e.kind() == AlertEvent.Kind.ESCALATED || e.kind() == AlertEvent.Kind.DEESCALATED) {
            b.append(" (").append(e.kind().configName()).append(')');
        }
        return b.append(": ").append(e.message()).toString();
    }

    private static final class Delivery {
        final byte[] body;
        int attempt;

        Delivery(byte[] body) {
            this.body = body;
        }
    }

    /** One webhook: its queue and counters; the queue and {@code busy} are guarded by {@code this}. */
    private final class Target {
        final Webhook hook;
        final String name;
        private final ArrayDeque<Delivery> queue = new ArrayDeque<>();
        private boolean busy;
        private long delivered;
        private long failedAttempts;
        private long givenUp;
        private long dropped;
        // the current burst of trouble, for logging once per burst
        private boolean troubled;
        private long burstFailures;
        private long burstGivenUp;
        private long burstDropped;

        Target(Webhook hook) {
            this.hook = hook;
            this.name = hook.redactedUrl();
        }

        void offer(Delivery d) {
            boolean start;
            synchronized (this) {
                if (queue.size() >= queueSize) {
                    queue.pollFirst();
                    dropped++;
                    burstDropped++;
                    if (!troubled) {
                        troubled = true;
                        log.warn("alert webhook {}: queue full ({} events), dropping the oldest; further drops and "
                                + "failures are logged at debug until a delivery succeeds", name, queueSize);
                    }
                }
                queue.addLast(d);
                start = !busy;
                busy = true;
            }
            if (start) {
                run(this::next);
            }
        }

        /** Sends the next queued event, or goes idle. On the sender thread. */
        private void next() {
            Delivery d;
            synchronized (this) {
                d = queue.pollFirst();
                if (d == null) {
                    busy = false;
                    return;
                }
            }
            attempt(d);
        }

        private void attempt(Delivery d) {
            d.attempt++;
            try {
                HttpRequest request = HttpRequest.newBuilder(hook.url())
                        .timeout(timeout)
                        .header("Content-Type", "application/json")
                        .header("User-Agent", "sluice-alerts")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(d.body))
                        .build();
                client.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                        .whenComplete((response, error) -> run(() -> answered(d, response, error)));
            } catch (RuntimeException e) {
                answered(d, null, e);
            }
        }

        private void answered(Delivery d, HttpResponse<Void> response, Throwable error) {
            if (error == null && response.statusCode() / 100 == 2) {
                synchronized (this) {
                    delivered++;
                    if (troubled) {
                        log.info("alert webhook {}: delivering again (since the trouble began: {} failed attempts, "
                                + "{} given up, {} dropped)", name, burstFailures, burstGivenUp, burstDropped);
                        troubled = false;
                        burstFailures = 0;
                        burstGivenUp = 0;
                        burstDropped = 0;
                    }
                }
                next();
                return;
            }
            String reason = error != null ? String.valueOf(error.getCause() != null ? error.getCause() : error)
                    : "HTTP status " + response.statusCode();
            boolean retry = d.attempt <= retries;
            synchronized (this) {
                failedAttempts++;
                burstFailures++;
                if (!retry) {
                    givenUp++;
                    burstGivenUp++;
                }
                if (!troubled) {
                    troubled = true;
                    log.warn("alert webhook {}: delivery failed ({}); {}; further failures are logged at debug until "
                            + "a delivery succeeds", name, reason, retry ? "retrying" : "giving up this event");
                } else {
                    log.debug("alert webhook {}: attempt {} failed ({})", name, d.attempt, reason);
                }
            }
            if (retry) {
                long wait = backoff.toNanos();
                for (int i = 1; i < d.attempt && wait < MAX_BACKOFF.toNanos(); i++) {
                    wait *= 2;
                }
                wait = Math.min(wait, MAX_BACKOFF.toNanos());
                try {
                    executor.schedule(() -> attempt(d), wait, TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException closed) {
                    // shutting down: the event is dropped with the rest
                }
            } else {
                next();
            }
        }

        synchronized AlertEngine.WebhookStatus status() {
            return new AlertEngine.WebhookStatus(name, hook.format().configName(), delivered, failedAttempts, givenUp,
                    dropped, queue.size());
        }
    }

    private void run(Runnable r) {
        try {
            executor.execute(r);
        } catch (RejectedExecutionException closed) {
            // shutting down: nothing more is sent
        }
    }
}

package dev.sluice.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Alert rules, their thresholds and where alerts are delivered ({@code alerts.*}).
 *
 * <p>Every threshold pair is {@code warning} then {@code critical}, in the rule's unit (percent for
 * pool utilisation and error rate, seconds for latency and queue wait); {@code 0} turns that level
 * off, and when both are on, critical is at least warning.
 *
 * @param enabled         whether the rules are evaluated at all
 * @param holdFor         how long a threshold must be crossed before its alert fires ({@code alerts.for})
 * @param window          span over which latency and error rate are measured
 * @param minQueries      fewest requests in the window for latency and error rate to be judged
 * @param poolUtilization server connections in use over pool size, percent, per pool
 * @param queryLatencyP95 95th percentile of query latency over the window, seconds
 * @param errorRate       errors and refusals over requests in the window, percent
 * @param queueWait       how long the oldest waiting request of a pool has waited, seconds
 * @param circuitOpen     whether an upstream whose circuit is not closed raises a critical alert
 * @param operatingMode   whether an upstream out of normal mode raises an alert (degraded: warning,
 *                        emergency: critical)
 * @param webhooks        where each alert event is POSTed
 * @param webhookTimeout  longest connect plus answer of one webhook POST
 * @param webhookRetries  further attempts after a failed POST
 * @param webhookBackoff  wait before the first retry; doubles before each next one
 * @param webhookQueueSize events that may wait per webhook; when full the oldest is dropped
 */
public record AlertConfig(
        boolean enabled,
        Duration holdFor,
        Duration window,
        int minQueries,
        Thresholds poolUtilization,
        Thresholds queryLatencyP95,
        Thresholds errorRate,
        Thresholds queueWait,
        boolean circuitOpen,
        boolean operatingMode,
        List<Webhook> webhooks,
        Duration webhookTimeout,
        int webhookRetries,
        Duration webhookBackoff,
        int webhookQueueSize) {

    public AlertConfig {
        webhooks = List.copyOf(webhooks);
    }

    /** The built-in defaults (as documented in docs/configuration.md), no webhooks. */
    public static AlertConfig defaults() {
        return new AlertConfig(true, Duration.ofSeconds(10), Duration.ofSeconds(60), 10,
                new Thresholds(80, 95), new Thresholds(1, 5), new Thresholds(1, 5), new Thresholds(1, 5),
                true, true, List.of(), Duration.ofSeconds(5), 3, Duration.ofSeconds(1), 1000);
    }

    /** The same settings with other webhooks. */
    public AlertConfig withWebhooks(List<Webhook> hooks) {
        return new AlertConfig(enabled, holdFor, window, minQueries, poolUtilization, queryLatencyP95, errorRate,
                queueWait, circuitOpen, operatingMode, hooks, webhookTimeout, webhookRetries, webhookBackoff,
                webhookQueueSize);
    }

    /** The same settings with another hold time ({@code alerts.for}). */
    public AlertConfig withHoldFor(Duration d) {
        return new AlertConfig(enabled, d, window, minQueries, poolUtilization, queryLatencyP95, errorRate,
                queueWait, circuitOpen, operatingMode, webhooks, webhookTimeout, webhookRetries, webhookBackoff,
                webhookQueueSize);
    }

    /** The same settings with other delivery timings. */
    public AlertConfig withDelivery(Duration timeout, int retries, Duration backoff, int queueSize) {
        return new AlertConfig(enabled, holdFor, window, minQueries, poolUtilization, queryLatencyP95, errorRate,
                queueWait, circuitOpen, operatingMode, webhooks, timeout, retries, backoff, queueSize);
    }

    /**
     * The two levels of a threshold rule; {@code 0} turns a level off.
     *
     * @param warning  value at which the alert fires as a warning
     * @param critical value at which it fires, or escalates, as critical
     */
    public record Thresholds(double warning, double critical) {
        public Thresholds {
            if (!(warning >= 0) || !(critical >= 0)) {
                throw new IllegalArgumentException("thresholds must be 0 (off) or positive: " + warning + ", " + critical);
            }
            if (warning > 0 && critical > 0 && critical < warning) {
                throw new IllegalArgumentException("critical " + critical + " is below warning " + warning);
            }
        }

        /** Whether at least one level is on. */
        public boolean enabled() {
            return warning > 0 || critical > 0;
        }
    }

    /**
     * One webhook.
     *
     * @param url    http or https URL the events are POSTed to
     * @param format body format: Sluice's JSON document, or Slack's {@code {"text": ...}}
     */
    public record Webhook(URI url, Format format) {
        /** The URL without user info, path and query, which often carry a secret token (Slack's do). */
        public String redactedUrl() {
            String path = url.getRawPath();
            return url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort())
                    + (path == null || path.isEmpty() || path.equals("/") ? "" : "/...");
        }

        @Override
        public String toString() {
            return "Webhook[url=" + redactedUrl() + ", format=" + format.configName() + "]";
        }
    }

    /** Webhook body format. */
    public enum Format {
        JSON, SLACK;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}

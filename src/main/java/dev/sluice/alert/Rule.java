package dev.sluice.alert;

/** The rules Sluice evaluates, by the name alerts carry, with the unit of their values. */
enum Rule {
    POOL_UTILIZATION("pool_utilization", "percent"),
    QUERY_LATENCY_P95("query_latency_p95", "seconds"),
    ERROR_RATE("error_rate", "percent"),
    QUEUE_WAIT("queue_wait", "seconds"),
    CIRCUIT_OPEN("circuit_open", "state"),
    OPERATING_MODE("operating_mode", "state");

    private final String alertName;
    private final String unit;

    Rule(String alertName, String unit) {
        this.alertName = alertName;
        this.unit = unit;
    }

    String alertName() {
        return alertName;
    }

    String unit() {
        return unit;
    }
}

package dev.sluice.alert;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The alert events of the last {@code keep} (24 hours in production), newest first, at most
 * {@code max} of them (the oldest go first). Written by the evaluation thread, read by the admin
 * thread.
 */
final class History {
    private final Duration keep;
    private final int max;
    private final ArrayDeque<AlertEvent> events = new ArrayDeque<>();

    History(Duration keep, int max) {
        this.keep = keep;
        this.max = max;
    }

    synchronized void add(AlertEvent e) {
        events.addFirst(e);
        prune(e.at());
    }

    /** Events at or after {@code since} (all when null), newest first, as of {@code now}. */
    synchronized List<AlertEvent> since(Instant since, Instant now) {
        prune(now);
        List<AlertEvent> out = new ArrayList<>();
        for (AlertEvent e : events) {
            if (since != null && e.at().isBefore(since)) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    private void prune(Instant now) {
        Instant oldest = now.minus(keep);
        while (!events.isEmpty() && (events.size() > max || events.peekLast().at().isBefore(oldest))) {
            events.pollLast();
        }
    }
}

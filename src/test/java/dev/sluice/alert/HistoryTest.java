package dev.sluice.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HistoryTest {
    private static final Instant T0 = Instant.parse("2025-01-31T00:00:00Z");

    private static AlertEvent event(String name, Instant at) {
        return new AlertEvent(AlertEvent.Kind.FIRED, name, Severity.WARNING, Map.of(), 1, 1, "percent", "m", at, at);
    }

    @Test
    void since_isNewestFirst_andFilters() {
        History h = new History(Duration.ofHours(24), 100);
        h.add(event("a", T0));
        h.add(event("b", T0.plusSeconds(10)));
        h.add(event("c", T0.plusSeconds(20)));
        assertThat(h.since(null, T0.plusSeconds(30))).extracting(AlertEvent::name).containsExactly("c", "b", "a");
        assertThat(h.since(T0.plusSeconds(10), T0.plusSeconds(30))).extracting(AlertEvent::name).containsExactly("c", "b");
    }

    @Test
    void keepsOnlyTheLast24Hours() {
        History h = new History(Duration.ofHours(24), 100);
        h.add(event("old", T0));
        h.add(event("new", T0.plus(Duration.ofHours(23))));
        assertThat(h.since(null, T0.plus(Duration.ofHours(24)))).extracting(AlertEvent::name).containsExactly("new", "old");
        assertThat(h.since(null, T0.plus(Duration.ofHours(24)).plusSeconds(1))).extracting(AlertEvent::name)
                .containsExactly("new");
    }

    @Test
    void keepsAtMostMax_droppingTheOldest() {
        History h = new History(Duration.ofHours(24), 3);
        for (int i = 0; i < 5; i++) {
            h.add(event("e" + i, T0.plusSeconds(i)));
        }
        assertThat(h.since(null, T0.plusSeconds(5))).extracting(AlertEvent::name).containsExactly("e4", "e3", "e2");
    }
}

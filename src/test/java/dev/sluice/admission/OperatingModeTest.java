package dev.sluice.admission;

import static dev.sluice.admission.OperatingMode.Mode.DEGRADED;
import static dev.sluice.admission.OperatingMode.Mode.EMERGENCY;
import static dev.sluice.admission.OperatingMode.Mode.NORMAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.admission.OperatingMode.Signals;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OperatingModeTest {
    private final FakeTicker ticker = new FakeTicker();
    private final List<String> changes = new ArrayList<>();
    private final OperatingMode mode = new OperatingMode(OperatingMode.Thresholds.defaults(), ticker,
            (from, to, reason) -> changes.add(from + "->" + to));

    private static Signals queue(int depth) {
        return new Signals(depth, 100, 0, false);
    }

    private static Signals waited(Duration d) {
        return new Signals(1, 100, d.toNanos(), false);
    }

    @Test
    void waitThresholds_areTheOnesGiven_andChangeForTheNextSample() {
        assertThat(mode.update(waited(Duration.ofMillis(300)))).isEqualTo(NORMAL);
        mode.thresholds(OperatingMode.Thresholds.forWaits(Duration.ofMillis(200), Duration.ofSeconds(2)));
        assertThat(mode.update(waited(Duration.ofMillis(300)))).isEqualTo(DEGRADED);
        ticker.advance(Duration.ofMinutes(1));
        // left below a quarter of the degraded wait (50 ms), not the default 250 ms
        assertThat(mode.update(waited(Duration.ofMillis(60)))).isEqualTo(DEGRADED);
        assertThat(mode.update(waited(Duration.ofMillis(40)))).isEqualTo(NORMAL);
        assertThat(mode.update(waited(Duration.ofSeconds(2)))).isEqualTo(EMERGENCY);
        ticker.advance(Duration.ofMinutes(1));
        // emergency is left below two fifths of its wait (800 ms)
        assertThat(mode.update(waited(Duration.ofMillis(900)))).isEqualTo(EMERGENCY);
        assertThat(mode.update(waited(Duration.ofMillis(700)))).isEqualTo(DEGRADED);
        assertThat(changes).containsExactly("NORMAL->DEGRADED", "DEGRADED->NORMAL", "NORMAL->EMERGENCY",
                "EMERGENCY->DEGRADED");
    }

    @Test
    void defaults_areOneAndFiveSeconds_andDegradedMayNotOutlastEmergency() {
        assertThat(OperatingMode.Thresholds.defaults())
                .isEqualTo(OperatingMode.Thresholds.forWaits(Duration.ofSeconds(1), Duration.ofSeconds(5)));
        assertThat(OperatingMode.Thresholds.defaults().degradedWaitLeave()).isEqualTo(Duration.ofMillis(250));
        assertThat(OperatingMode.Thresholds.defaults().emergencyWaitLeave()).isEqualTo(Duration.ofSeconds(2));
        assertThatThrownBy(() -> OperatingMode.Thresholds.forWaits(Duration.ofSeconds(5), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void startsNormal_andStaysNormalUnderLightLoad() {
        assertThat(mode.update(queue(10))).isEqualTo(NORMAL);
        assertThat(changes).isEmpty();
    }

    @Test
    void entersDegraded_andEmergency_atOnce() {
        assertThat(mode.update(queue(50))).isEqualTo(DEGRADED);
        assertThat(mode.update(queue(95))).isEqualTo(EMERGENCY);
        assertThat(changes).containsExactly("NORMAL->DEGRADED", "DEGRADED->EMERGENCY");
    }

    @Test
    void entersEmergency_onWaitTime() {
        assertThat(mode.update(waited(Duration.ofSeconds(5)))).isEqualTo(EMERGENCY);
    }

    @Test
    void limitAtMinimum_degradesButDoesNotMakeAnEmergency() {
        assertThat(mode.update(new Signals(0, 100, 0, true))).isEqualTo(DEGRADED);
    }

    @Test
    void hysteresis_staysInModeBetweenLeaveAndEnterThresholds() {
        mode.update(queue(60));
        ticker.advance(Duration.ofMinutes(1));
        // below the enter threshold (50) but not below the leave threshold (25)
        assertThat(mode.update(queue(30))).isEqualTo(DEGRADED);
        assertThat(mode.update(queue(24))).isEqualTo(NORMAL);
    }

    @Test
    void leaving_waitsForTheMinimumDwell() {
        mode.update(queue(60));
        ticker.advance(Duration.ofSeconds(9));
        assertThat(mode.update(queue(0))).isEqualTo(DEGRADED);
        ticker.advance(Duration.ofSeconds(1));
        assertThat(mode.update(queue(0))).isEqualTo(NORMAL);
    }

    @Test
    void leaving_stepsDownOneModeAtATime() {
        mode.update(queue(95));
        ticker.advance(Duration.ofSeconds(10));
        assertThat(mode.update(queue(0))).isEqualTo(DEGRADED);
        assertThat(mode.update(queue(0))).isEqualTo(DEGRADED);
        ticker.advance(Duration.ofSeconds(10));
        assertThat(mode.update(queue(0))).isEqualTo(NORMAL);
        assertThat(changes).containsExactly("NORMAL->EMERGENCY", "EMERGENCY->DEGRADED", "DEGRADED->NORMAL");
    }

    @Test
    void emergency_shedsLowAndBackgroundOnly() {
        mode.update(queue(95));
        assertThat(mode.shouldShed(Priority.BACKGROUND)).isTrue();
        assertThat(mode.shouldShed(Priority.LOW)).isTrue();
        assertThat(mode.shouldShed(Priority.NORMAL)).isFalse();
        assertThat(mode.shouldShed(Priority.CRITICAL)).isFalse();
    }

    @Test
    void notEmergency_shedsNothing() {
        mode.update(queue(60));
        for (Priority p : Priority.values()) {
            assertThat(mode.shouldShed(p)).isFalse();
        }
    }

    @Test
    void operatorOverride_winsUntilAuto_whileTheAutomaticModeKeepsTracking() {
        mode.force(EMERGENCY);
        assertThat(mode.mode()).isEqualTo(EMERGENCY);
        assertThat(mode.isForced()).isTrue();
        assertThat(mode.update(queue(0))).isEqualTo(EMERGENCY);
        assertThat(mode.shouldShed(Priority.LOW)).isTrue();

        mode.update(queue(60));
        assertThat(mode.automaticMode()).isEqualTo(DEGRADED);
        mode.auto();

        assertThat(mode.mode()).isEqualTo(DEGRADED);
        assertThat(changes).containsExactly("NORMAL->EMERGENCY", "EMERGENCY->DEGRADED");
    }
}

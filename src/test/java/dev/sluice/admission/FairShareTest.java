package dev.sluice.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.admission.FairShare.Share;
import dev.sluice.admission.FairShare.Verdict;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FairShareTest {
    // 10 connections; reports is capped at 4 while others wait; checkout is guaranteed 3
    private final FairShare shares = new FairShare(10,
            Map.of("reports", new Share(0, 4), "checkout", new Share(3, 10)), new Share(0, 10));

    @Test
    void mayTake_noFreeConnection() {
        assertThat(shares.mayTake("checkout", k -> 0, 10, List.of())).isEqualTo(Verdict.NO_FREE_CONNECTION);
    }

    @Test
    void mayTake_aboveMaxShare_allowedWhileNobodyElseWaits() {
        Verdict v = shares.mayTake("reports", k -> 7, 7, List.of("reports"));
        assertThat(v).isEqualTo(Verdict.ALLOW);
        assertThat(v.allowed()).isTrue();
    }

    @Test
    void mayTake_atMaxShare_refusedWhileOthersWait() {
        Map<String, Integer> inUse = Map.of("reports", 4, "web", 2);
        Verdict v = shares.mayTake("reports", k -> inUse.getOrDefault(k, 0), 6, List.of("reports", "web"));
        assertThat(v).isEqualTo(Verdict.AT_MAX_SHARE);
        assertThat(v.allowed()).isFalse();
    }

    @Test
    void mayTake_belowGuaranteedMinimum_allowedEvenWhenOthersWait() {
        Map<String, Integer> inUse = Map.of("checkout", 2, "web", 7);
        assertThat(shares.mayTake("checkout", k -> inUse.getOrDefault(k, 0), 9, List.of("web", "checkout")))
                .isEqualTo(Verdict.ALLOW_GUARANTEED);
    }

    @Test
    void mayTake_lastFreeConnectionsReservedForAWaitingKeyBelowItsMinimum() {
        // 8 in use (web 7, checkout 1): 2 free, both needed to bring checkout to its 3
        Map<String, Integer> inUse = Map.of("checkout", 1, "web", 7);
        assertThat(shares.mayTake("web", k -> inUse.getOrDefault(k, 0), 8, List.of("web", "checkout")))
                .isEqualTo(Verdict.RESERVED_FOR_OTHERS);
        // with checkout at 2, one of the two free connections is spare
        Map<String, Integer> later = Map.of("checkout", 2, "web", 6);
        assertThat(shares.mayTake("web", k -> later.getOrDefault(k, 0), 8, List.of("web", "checkout")))
                .isEqualTo(Verdict.ALLOW);
    }

    @Test
    void mayTake_reservationIgnoredForKeysThatDoNotWait() {
        Map<String, Integer> inUse = Map.of("web", 9);
        assertThat(shares.mayTake("web", k -> inUse.getOrDefault(k, 0), 9, List.of("web", "other")))
                .isEqualTo(Verdict.ALLOW);
    }

    @Test
    void unlimited_allowsWhateverIsFree() {
        FairShare none = FairShare.unlimited(2);
        assertThat(none.mayTake("a", k -> 1, 1, List.of("b"))).isEqualTo(Verdict.ALLOW);
        assertThat(none.mayTake("a", k -> 1, 2, List.of("b"))).isEqualTo(Verdict.NO_FREE_CONNECTION);
    }

    @Test
    void rule_parsesAttributeValueMinMax_andRefusesWhatItCannotRead() {
        FairShare.Rule r = FairShare.Rule.parse("application_name=reports:0:4");
        assertThat(r.key()).isEqualTo("application_name=reports");
        assertThat(r.share()).isEqualTo(new Share(0, 4));
        assertThat(FairShare.Rule.parse("user=svc:with:colons:1:3").value()).isEqualTo("svc:with:colons");
        assertThatThrownBy(() -> FairShare.Rule.parse("address=10.0.0.0/8:1:2"))
                .hasMessageContaining("expected user or application_name");
        assertThatThrownBy(() -> FairShare.Rule.parse("user=a:x:2"))
                .hasMessageContaining("whole numbers");
        assertThatThrownBy(() -> FairShare.Rule.parse("user=a:3:2"))
                .hasMessageContaining("min <= max");
        assertThatThrownBy(() -> FairShare.Rule.parse("reports:1"))
                .hasMessageContaining("ATTRIBUTE=VALUE:MIN:MAX");
    }

    @Test
    void mayTake_withALiveConnectionCount_usesItInsteadOfTheConstructorsOne() {
        FairShare f = new FairShare(10, Map.of("a", new Share(0, 10)), new Share(0, 10));
        assertThat(f.mayTake("a", k -> 2, 2, List.of(), 2)).isEqualTo(Verdict.NO_FREE_CONNECTION);
        assertThat(f.mayTake("a", k -> 2, 2, List.of(), 3)).isEqualTo(Verdict.ALLOW);
    }

    @Test
    void twoKeysAtTheirMaximum_doNotHoldEachOtherBack() {
        FairShare f = new FairShare(10, Map.of("a", new Share(0, 2), "b", new Share(0, 2)), new Share(0, 10));
        // both hold their maximum and both wait: neither could use what the other leaves free
        assertThat(f.mayTake("a", k -> 2, 4, List.of("a", "b"))).isEqualTo(Verdict.ALLOW);
        // b below its maximum and waiting: a stays capped
        assertThat(f.mayTake("a", k -> k.equals("a") ? 2 : 1, 3, List.of("a", "b"))).isEqualTo(Verdict.AT_MAX_SHARE);
    }
}

package dev.sluice.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PriorityTest {

    @Test
    void parse_acceptsConfigNames_caseInsensitive() {
        assertThat(Priority.parse("high")).isEqualTo(Priority.HIGH);
        assertThat(Priority.parse(" BACKGROUND ")).isEqualTo(Priority.BACKGROUND);
        assertThat(Priority.CRITICAL.configName()).isEqualTo("critical");
    }

    @Test
    void parse_unknownName_namesTheValueAndTheChoices() {
        assertThatThrownBy(() -> Priority.parse("urgent"))
                .hasMessage("priority 'urgent' is not one of critical, high, normal, low, background");
    }

    @Test
    void order_isHighestFirst() {
        assertThat(Priority.HIGH.isHigherThan(Priority.NORMAL)).isTrue();
        assertThat(Priority.NORMAL.isHigherThan(Priority.HIGH)).isFalse();
        assertThat(Priority.LOW.raisedBy(2)).isEqualTo(Priority.HIGH);
        assertThat(Priority.HIGH.raisedBy(5)).isEqualTo(Priority.CRITICAL);
    }
}

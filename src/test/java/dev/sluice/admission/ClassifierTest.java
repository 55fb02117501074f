package dev.sluice.admission;

import static dev.sluice.admission.Priority.BACKGROUND;
import static dev.sluice.admission.Priority.CRITICAL;
import static dev.sluice.admission.Priority.HIGH;
import static dev.sluice.admission.Priority.LOW;
import static dev.sluice.admission.Priority.NORMAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.admission.Classifier.Attribute;
import dev.sluice.admission.Classifier.Client;
import dev.sluice.admission.Classifier.Rule;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClassifierTest {

    private static Client client(String db, String user, String app, String address) throws Exception {
        return new Client(db, user, app, address == null ? null : InetAddress.getByName(address));
    }

    @Test
    void parse_commandLineRule() {
        assertThat(Rule.parse("application_name=checkout:high"))
                .isEqualTo(new Rule(Attribute.APPLICATION_NAME, "checkout", HIGH, false));
        assertThat(Rule.parse("user=ops:critical:raise")).isEqualTo(new Rule(Attribute.USER, "ops", CRITICAL, true));
        assertThat(Rule.parse("database=analytics:background"))
                .isEqualTo(new Rule(Attribute.DATABASE, "analytics", BACKGROUND, false));
        assertThat(Rule.parse("address=10.0.0.0/8:low")).isEqualTo(new Rule(Attribute.ADDRESS, "10.0.0.0/8", LOW, false));
        assertThat(Rule.parse("address=fd00::/8:low:raise")).isEqualTo(new Rule(Attribute.ADDRESS, "fd00::/8", LOW, true));
    }

    @Test
    void parse_badRules_nameTheRuleAndTheForm() {
        assertThatThrownBy(() -> Rule.parse("application_name=checkout"))
                .hasMessageStartingWith("priority rule 'application_name=checkout': no ':priority'")
                .hasMessageContaining("expected: database|user|application_name|address=VALUE:PRIORITY[:raise]");
        assertThatThrownBy(() -> Rule.parse("host=x:high")).hasMessageContaining("attribute 'host' is not one of");
        assertThatThrownBy(() -> Rule.parse("user=x:urgent")).hasMessageContaining("priority 'urgent'");
        assertThatThrownBy(() -> Rule.parse("address=10.0.0.0/33:high")).hasMessageContaining("prefix outside 0..32");
        assertThatThrownBy(() -> Rule.parse("address=db.example.com:high")).hasMessageContaining("is not an IPv4");
    }

    @Test
    void classify_firstMatchingRuleWins_elseDefault() throws Exception {
        Classifier c = new Classifier(List.of(
                Rule.parse("application_name=checkout:high"),
                Rule.parse("user=batch:background"),
                Rule.parse("database=analytics:low"),
                Rule.parse("address=10.1.0.0/16:critical")), NORMAL);

        assertThat(c.classify(client("shop", "batch", "checkout", "127.0.0.1"), null)).isEqualTo(HIGH);
        assertThat(c.classify(client("analytics", "batch", "psql", "127.0.0.1"), null)).isEqualTo(BACKGROUND);
        assertThat(c.classify(client("analytics", "web", "psql", "127.0.0.1"), null)).isEqualTo(LOW);
        assertThat(c.classify(client("shop", "web", "psql", "10.1.200.3"), null)).isEqualTo(CRITICAL);
        assertThat(c.classify(client("shop", "web", "psql", "10.2.0.1"), null)).isEqualTo(NORMAL);
        assertThat(c.classify(client("shop", "web", null, null), null)).isEqualTo(NORMAL);
    }

    @Test
    void classify_namesMatchExactly() throws Exception {
        Classifier c = new Classifier(List.of(Rule.parse("application_name=checkout:high")), NORMAL);
        assertThat(c.classify(client("d", "u", "Checkout", null), null)).isEqualTo(NORMAL);
    }

    @Test
    void hint_mayLower() throws Exception {
        Classifier c = new Classifier(List.of(Rule.parse("application_name=checkout:high")), NORMAL);
        assertThat(c.classify(client("d", "u", "checkout", null), "low")).isEqualTo(LOW);
        assertThat(c.classify(client("d", "u", "other", null), "background")).isEqualTo(BACKGROUND);
    }

    @Test
    void hint_cannotRaise_unlessTheRuleAllows() throws Exception {
        Classifier c = new Classifier(List.of(
                Rule.parse("application_name=checkout:normal"),
                Rule.parse("user=ops:normal:raise")), NORMAL);

        assertThat(c.classify(client("d", "u", "checkout", null), "critical")).isEqualTo(NORMAL);
        assertThat(c.classify(client("d", "u", "nomatch", null), "high")).isEqualTo(NORMAL);
        assertThat(c.classify(client("d", "ops", "psql", null), "critical")).isEqualTo(CRITICAL);
    }

    @Test
    void hint_thatNamesNoClass_isIgnored() throws Exception {
        Classifier c = new Classifier(List.of(Rule.parse("user=ops:low:raise")), NORMAL);
        assertThat(c.classify(client("d", "ops", "x", null), "urgent")).isEqualTo(LOW);
        assertThat(c.classify(client("d", "ops", "x", null), " ")).isEqualTo(LOW);
        assertThat(c.classify(client("d", "ops", "x", null), "HIGH")).isEqualTo(HIGH);
    }

    @Test
    void address_matchesCidrRanges_v4AndV6_andSingleAddresses() throws Exception {
        Classifier c = new Classifier(List.of(
                Rule.parse("address=192.168.4.0/22:low"),
                Rule.parse("address=fd00::/8:background"),
                Rule.parse("address=127.0.0.1:critical"),
                Rule.parse("address=0.0.0.0/0:high")), NORMAL);

        assertThat(c.classify(client("d", "u", "a", "192.168.7.255"), null)).isEqualTo(LOW);
        assertThat(c.classify(client("d", "u", "a", "192.168.8.0"), null)).isEqualTo(HIGH);
        assertThat(c.classify(client("d", "u", "a", "fd12::1"), null)).isEqualTo(BACKGROUND);
        assertThat(c.classify(client("d", "u", "a", "fe80::1"), null)).isEqualTo(NORMAL);
        assertThat(c.classify(client("d", "u", "a", "127.0.0.1"), null)).isEqualTo(CRITICAL);
        assertThat(c.classify(client("d", "u", "a", "::ffff:127.0.0.1"), null)).isEqualTo(CRITICAL);
    }
}

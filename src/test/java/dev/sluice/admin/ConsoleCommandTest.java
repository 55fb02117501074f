package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConsoleCommandTest {

    @Test
    void parse_verbIsUpperCased_wordsKeepTheirCase() throws Exception {
        ConsoleCommand c = ConsoleCommand.parse("  pause MyDb ;  ");
        assertThat(c.verb()).isEqualTo("PAUSE");
        assertThat(c.words()).containsExactly("MyDb");
        assertThat(c.argument()).isEqualTo("MyDb");
        assertThat(ConsoleCommand.parse("show\tpools").item()).isEqualTo("POOLS");
    }

    @Test
    void parse_quotedNamesMayHoldAnything() throws Exception {
        assertThat(ConsoleCommand.parse("KILL \"my db; \"\"x\"\"\"").words()).containsExactly("my db; \"x\"");
        assertThat(ConsoleCommand.parse("PAUSE app-2.prod").words()).containsExactly("app-2.prod");
    }

    @Test
    void parse_emptyQuery() throws Exception {
        assertThat(ConsoleCommand.parse("").isEmpty()).isTrue();
        assertThat(ConsoleCommand.parse(" ;; ").isEmpty()).isTrue();
        assertThat(ConsoleCommand.parse("RELOAD").words()).isEmpty();
        assertThat(ConsoleCommand.parse("RELOAD").argument()).isNull();
        assertThat(ConsoleCommand.parse("RELOAD").item()).isEmpty();
    }

    @Test
    void parse_set_withEqualsOrTo_andAWordOrString() throws Exception {
        assertThat(ConsoleCommand.parse("SET extra_float_digits = 3")).isEqualTo(
                new ConsoleCommand("SET", List.of("extra_float_digits", "3")));
        assertThat(ConsoleCommand.parse("set application_name to 'it''s me';").words())
                .containsExactly("application_name", "it's me");
        assertThat(ConsoleCommand.parse("SET client_encoding='UTF8'").words()).containsExactly("client_encoding", "UTF8");
    }

    @Test
    void parse_refusesWhatIsNotOneCommand() {
        assertSyntax("SHOW POOLS; SHOW STATS", "one command per query");
        assertSyntax("'SHOW'", "starts with a word");
        assertSyntax("PAUSE 'app'", "unexpected string 'app'");
        assertSyntax("PAUSE = app", "unexpected '='");
        assertSyntax("SET a b", "expected SET key = value");
        assertSyntax("SET a = ", "expected SET key = value");
        assertSyntax("SHOW \"pools", "unterminated quoted name");
        assertSyntax("SET a = 'b", "unterminated string");
    }

    private static void assertSyntax(String sql, String message) {
        assertThatThrownBy(() -> ConsoleCommand.parse(sql)).as(sql)
                .isInstanceOf(ConsoleCommand.SyntaxException.class).hasMessageContaining(message);
    }
}

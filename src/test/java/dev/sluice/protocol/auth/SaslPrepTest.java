package dev.sluice.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SaslPrepTest {

    @Test
    void rfc4013Examples() {
        assertThat(SaslPrep.prepareOrNull("I\u00ADX")).isEqualTo("IX");
        assertThat(SaslPrep.prepareOrNull("user")).isEqualTo("user");
        assertThat(SaslPrep.prepareOrNull("USER")).isEqualTo("USER");
        assertThat(SaslPrep.prepareOrNull("\u00AA")).isEqualTo("a");
        assertThat(SaslPrep.prepareOrNull("\u2168")).isEqualTo("IX");
        assertThat(SaslPrep.prepareOrNull("\u0627\u0031")).isNull();
    }

    @Test
    void pureAscii_unchangedEvenWithControlCharacters() {
        assertThat(SaslPrep.prepareOrNull("a\u0007b")).isEqualTo("a\u0007b");
    }

    @Test
    void nonAsciiSpaces_becomeSpace() {
        assertThat(SaslPrep.prepareOrNull("a\u00A0b\u3000c\u2003d")).isEqualTo("a b c d");
    }

    @Test
    void mappedToNothing_removed() {
        assertThat(SaslPrep.prepareOrNull("p\u200Cw\uFEFFd\u00AD\u00E9")).isEqualTo("pwd\u00E9");
    }

    @Test
    void zeroWidthSpace_inBothTables_becomesSpaceAsInPostgreSql() {
        assertThat(SaslPrep.prepareOrNull("a\u200Bb\u00E9")).isEqualTo("a b\u00E9");
    }

    @Test
    void mapsToNothingAtAll_null() {
        assertThat(SaslPrep.prepareOrNull("\u00AD\u200C")).isNull();
    }

    @Test
    void prohibitedBeforeNormalisation_null_likePostgreSql() {
        // U+0340 (C.8) normalises to U+0300, which is allowed; PostgreSQL checks before normalising
        assertThat(SaslPrep.prepareOrNull("\u00E9\u0340")).isNull();
    }

    @Test
    void nfkc_composesAndFoldsCompatibilityCharacters() {
        assertThat(SaslPrep.prepareOrNull("e\u0301\uFB01")).isEqualTo("\u00E9fi");
    }

    @Test
    void prohibited_null() {
        assertThat(SaslPrep.prepareOrNull("\u00E9\u0007")).isNull();      // ASCII control, in a non-ASCII string
        assertThat(SaslPrep.prepareOrNull("\u00E9\u0085")).isNull();      // non-ASCII control
        assertThat(SaslPrep.prepareOrNull("\u00E9\uE000")).isNull();      // private use
        assertThat(SaslPrep.prepareOrNull("\u00E9\uFDD0")).isNull();      // non-character
        assertThat(SaslPrep.prepareOrNull("\u00E9\u200E")).isNull();      // left-to-right mark
        assertThat(SaslPrep.prepareOrNull("\u00E9\uDB40\uDC01")).isNull(); // U+E0001 language tag
    }

    @Test
    void unassignedInUnicode32_null() {
        assertThat(SaslPrep.prepareOrNull("x\u0221\u00AA")).isNull();
        assertThat(SaslPrep.prepareOrNull("\uD83D\uDE00\u00E9")).isNull(); // U+1F600, an emoji newer than 3.2
    }

    @Test
    void unpairedSurrogate_null() {
        assertThat(SaslPrep.prepareOrNull("\u00E9\uD800")).isNull();
    }

    @Test
    void bidi_rightToLeftNeedsRightToLeftEndsAndNoLeftToRight() {
        assertThat(SaslPrep.prepareOrNull("\u0627\u0031\u0628")).isEqualTo("\u0627\u0031\u0628");
        assertThat(SaslPrep.prepareOrNull("\u0627a\u0628")).isNull();
    }

    @Test
    void prepare_refused_rawUtf8() {
        assertThat(SaslPrep.prepare("x\u0221\u00AA")).isEqualTo("x\u0221\u00AA".getBytes(StandardCharsets.UTF_8));
        assertThat(SaslPrep.prepare("\u2168")).isEqualTo("IX".getBytes(StandardCharsets.UTF_8));
    }
}

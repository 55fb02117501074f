package dev.sluice.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;

/**
 * SASLprep (RFC 4013) of a password, the way PostgreSQL's {@code pg_saslprep} applies it.
 *
 * <p>What is implemented, in order:
 * <ol>
 *   <li>A password of pure ASCII is used unchanged (PostgreSQL's shortcut; it also means ASCII
 *       control characters in an otherwise ASCII password are kept).</li>
 *   <li>A string that is not well-formed UTF-16 (an unpaired surrogate) cannot be prepared.</li>
 *   <li>Code points unassigned in Unicode 3.2 (RFC 3454 table A.1) are prohibited, as for stored
 *       strings.</li>
 *   <li>Mapping: non-ASCII space characters (C.1.2) become U+0020, characters "commonly mapped to
 *       nothing" (B.1) are removed; U+200B, in both tables, becomes a space, as in PostgreSQL. A
 *       password that maps to nothing at all cannot be prepared.</li>
 *   <li>Prohibited characters: tables C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8 and C.9.</li>
 *   <li>Bidirectional check (RFC 3454 section 6): if any character is in D.1 (RandALCat), none may
 *       be in D.2 (LCat), and the first and last characters must be in D.1.</li>
 *   <li>Normalisation form KC, by {@link Normalizer} (the JDK's Unicode version, not 3.2: the
 *       results differ only for the few characters touched by later normalisation corrigenda).</li>
 * </ol>
 * Like PostgreSQL, and unlike RFC 3454 which checks the normalised output, the prohibited and
 * bidirectional checks run on the mapped string before normalisation.
 * When any check fails, the password is used as its raw UTF-8 bytes, as PostgreSQL does (it falls
 * back to the raw bytes rather than refusing the password). An unpaired surrogate is then encoded
 * by the JDK's UTF-8 encoder, which replaces it with {@code '?'}.
 */
final class SaslPrep {

    private static final CodePointSet MAPPED_TO_NOTHING = CodePointSet.parse(
            "00AD 034F 1806 180B-180D 200B-200D 2060 FE00-FE0F FEFF");
    private static final CodePointSet NON_ASCII_SPACE = CodePointSet.parse(
            "00A0 1680 2000-200B 202F 205F 3000");
    // union of tables C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8 and C.9
    private static final CodePointSet PROHIBITED = CodePointSet.parse("""
            0000-001F 007F-00A0 0340-0341 06DD 070F 1680 180E 2000-200F 2028-202F 205F-2063
            206A-206F 2FF0-2FFB 3000 D800-F8FF FDD0-FDEF FEFF FFF9-FFFF 1D173-1D17A 1FFFE-1FFFF
            2FFFE-2FFFF 3FFFE-3FFFF 4FFFE-4FFFF 5FFFE-5FFFF 6FFFE-6FFFF 7FFFE-7FFFF 8FFFE-8FFFF
            9FFFE-9FFFF AFFFE-AFFFF BFFFE-BFFFF CFFFE-CFFFF DFFFE-DFFFF E0001 E0020-E007F EFFFE-10FFFF
            """);

    private SaslPrep() {
    }

    /** The bytes to feed to the key derivation for {@code password}. */
    static byte[] prepare(String password) {
        String prepared = prepareOrNull(password);
        return (prepared != null ? prepared : password).getBytes(StandardCharsets.UTF_8);
    }

    /** The SASLprep output, or {@code null} when the password is not valid for SASLprep. */
    static String prepareOrNull(String password) {
        if (password.chars().allMatch(c -> c < 0x80)) {
            return password;
        }
        StringBuilder mapped = new StringBuilder(password.length());
        for (int i = 0; i < password.length(); ) {
            int cp = password.codePointAt(i);
            i += Character.charCount(cp);
            if ((cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE)
                    || Rfc3454Tables.UNASSIGNED.contains(cp)) {
                return null;
            }
            if (NON_ASCII_SPACE.contains(cp)) {
                mapped.append(' ');
            } else if (!MAPPED_TO_NOTHING.contains(cp)) {
                mapped.appendCodePoint(cp);
            }
        }
        if (mapped.isEmpty()) {
            return null;
        }
        // PostgreSQL checks prohibited characters and bidi on the mapped string before NFKC, where
        // RFC 3454 checks the normalised one; we follow PostgreSQL so that both derive the same key
        int[] cps = mapped.codePoints().toArray();
        boolean hasRandAl = false;
        boolean hasL = false;
        for (int cp : cps) {
            if (PROHIBITED.contains(cp)) {
                return null;
            }
            hasRandAl |= Rfc3454Tables.RAND_AL_CAT.contains(cp);
            hasL |= Rfc3454Tables.L_CAT.contains(cp);
        }
        if (hasRandAl && (hasL
                || !Rfc3454Tables.RAND_AL_CAT.contains(cps[0])
                || !Rfc3454Tables.RAND_AL_CAT.contains(cps[cps.length - 1]))) {
            return null;
        }
        return Normalizer.normalize(mapped, Normalizer.Form.NFKC);
    }
}

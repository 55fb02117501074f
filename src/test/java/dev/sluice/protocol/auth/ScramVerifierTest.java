package dev.sluice.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ScramVerifierTest {

    /**
     * Verifiers PostgreSQL 15.18 stored in pg_authid.rolpassword for {@code ALTER ROLE ... PASSWORD}
     * with these passwords (the Java compiler turns the unicode escapes into the characters): the same
     * password and salt must give the same text.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
        ascii             | pencil                                                        | SCRAM-SHA-256$4096:pPPSfWcOUnWUNyXmIR9ItA==$3Wyb2BO7iViLfH6ThIc2hQdq6OUtB2fY5ByfJ1uAi8I=:44FoW8riA7vysXZ+a+ydL3ChKR05uFUsAC1yEo/G8DA=
        mapped and NFKC   | I\u00ADX\u2168 caf\u00e9\u00A0ok\uFB01                        | SCRAM-SHA-256$4096:TE/SCO4wksho0LlglE794w==$SWplTZQHB/4ufdgCUgjA9Bg89wrVH7W3McRwipu0eTA=:5/RLIXHZ7G2h1a92ypdmkVmUWT/XDT0Cm1mdpYWqgBw=
        combining mark    | e\u0301t\u00e9                                                | SCRAM-SHA-256$4096:t2UKPRV19isFXelB0nAO9g==$vIGODn6B6HzZy5YwewB6QNHa54HjOYLRat1b0Uhf7Mg=:qVVuiUH7u8R7X5Rx7H5+sZwNeQ0I8Uxe3UmJJJsgryc=
        prohibited -> raw | a\u0007\u00e9                                                 | SCRAM-SHA-256$4096:xqPG3mS1KH8CPkjhjkn7SA==$Raglg/GBiaE8BOsbJoYPK9ayhRJKpT8LVCcHyobUeU0=:8bqZjho70H+bxpVY/o4PbAjDK3r3GF387a2vf0JbSKE=
        bidi bad -> raw   | \u0627\u0031                                                  | SCRAM-SHA-256$4096:QXgfFwJxtFdj5LeL7HuB4w==$/Av2Tpgo9MEWlt+3D5Rc2H5niK51azWE6zVeeBm442k=:KT2HAHjMQaU6BWKPMjbcsKDLhKXerNz6wEaz9oEi5mE=
        bidi good         | \u0627\u0031\u0628                                            | SCRAM-SHA-256$4096:/yyvn6oUd7S9FDhR8K/AoA==$LfUT0aLMBgNpNY4oxwzFzDUcwqHvfzlvcaS1xN+gui0=:N/qRSJOqvxtirtfL/PY5tvuFoHkfgZA6V5Xo6wLWRLs=
        unassigned -> raw | x\u0221\u00AA                                                 | SCRAM-SHA-256$4096:c/0z5XZWzQoW2wbvkH/N/A==$gzybEKuUE3JpYV1yb+HF2VtFlg6a+TIuGPeJgQ4N+dQ=:t3/nQPuCCCB+SfR9ulo1Tomh61QMnfTLLmbM6/4MhPE=
        emoji -> raw      | \uD83D\uDE00\u00e9\u2168                                    | SCRAM-SHA-256$4096:avcpk5nyeG/O14WqQ8471g==$1jspYieygoMsaYojNbfEpw2KKmF97lbtKnVZMdYwlRQ=:GQNPNxb9gBczpEXq/71dy2lBCVKD0/XHzV78zy93xwk=
        zero width space  | a\u200Bb\u00e9                                                | SCRAM-SHA-256$4096:zqxHCNpGxWw/8p3xt7jheQ==$X+LtB3cUVZk995cjJ7FUn29AoIQSRDBIHE5jwpahw3o=:dyHyfRPIbzXc2bktRfGzPyUGcP8L00B7GXzIdaOdJ3w=
        nothing -> raw    | \u00AD\u200C                                                  | SCRAM-SHA-256$4096:tVlq8x9+cyUhAtGuKIEmAg==$u/HKsMIentjhGWsPvGqfZEZOSERPAktDb4wH7nXgoK4=:YnoqwEDImlNbneWzc8Nrb2iynEjXyMz9XuXmgPZzs18=
        prenorm -> raw    | \u00e9\u0340                                                  | SCRAM-SHA-256$4096:ES3vhCxe8+a0jpnPbPpRhA==$F8NG1eY7RhTMUzcFpvhF3XHxgwYRG/lr+YDpANeHO8c=:mIaJU9rJFqOlUribhT0rPZtWTwQjwqVbaFfGEOZtiDM=
        """)
    void create_sameAsPostgreSql(String description, String password, String postgresVerifier) {
        String saltBase64 = postgresVerifier.substring(postgresVerifier.indexOf(':') + 1, postgresVerifier.indexOf('$', 14));

        assertThat(ScramVerifier.create(password, Base64.getDecoder().decode(saltBase64), 4096)).isEqualTo(postgresVerifier);
        assertThat(ScramVerifier.isVerifier(postgresVerifier)).isTrue();
    }

    @Test
    void create_randomSalt_4096Iterations_differentEachTime() {
        String first = ScramVerifier.create("pw");
        String second = ScramVerifier.create("pw");

        assertThat(first).matches("SCRAM-SHA-256\\$4096:[A-Za-z0-9+/]{22}==\\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=");
        assertThat(second).isNotEqualTo(first);
        assertThat(ScramVerifier.isVerifier(first)).isTrue();
    }

    @Test
    void create_badParameters_refused() {
        assertThatThrownBy(() -> ScramVerifier.create("pw", new byte[0], 4096)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ScramVerifier.create("pw", new byte[16], 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void create_thenServerChecksLogin() throws AuthException {
        String verifier = ScramVerifier.create("pencil", Rfc7677.SALT, 4096);
        ScramServer server = new ScramServer(verifier, () -> Rfc7677.SERVER_NONCE);

        assertThat(server.handleClientFirst(Rfc7677.CLIENT_FIRST)).isEqualTo(Rfc7677.SERVER_FIRST);
        assertThat(server.handleClientFinal(Rfc7677.CLIENT_FINAL)).isEqualTo(Rfc7677.SERVER_FINAL);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "pencil",
        "md53175bce1d3201d16594cebf9d7eb3f9d",
        "SCRAM-SHA-256$",
        "SCRAM-SHA-1$4096:pPPSfWcOUnWUNyXmIR9ItA==$3Wyb2BO7iViLfH6ThIc2hQdq6OUtB2fY5ByfJ1uAi8I=:44FoW8riA7vysXZ+a+ydL3ChKR05uFUsAC1yEo/G8DA=",
        "SCRAM-SHA-256$0:pPPSfWcOUnWUNyXmIR9ItA==$3Wyb2BO7iViLfH6ThIc2hQdq6OUtB2fY5ByfJ1uAi8I=:44FoW8riA7vysXZ+a+ydL3ChKR05uFUsAC1yEo/G8DA=",
        "SCRAM-SHA-256$x:pPPSfWcOUnWUNyXmIR9ItA==$3Wyb2BO7iViLfH6ThIc2hQdq6OUtB2fY5ByfJ1uAi8I=:44FoW8riA7vysXZ+a+ydL3ChKR05uFUsAC1yEo/G8DA=",
        "SCRAM-SHA-256$99999999999:pPPSfWcOUnWUNyXmIR9ItA==$3Wyb2BO7iViLfH6ThIc2hQdq6OUtB2fY5ByfJ1uAi8I=:44FoW8riA7vysXZ+a+ydL3ChKR05uFUsAC1yEo/G8DA=",
        "SCRAM-SHA-256$4096:$3Wyb2BO7iViLfH6ThIc2hQdq6OUtB2fY5ByfJ1uAi8I=:44FoW8riA7vysXZ+a+ydL3ChKR05uFUsAC1yEo/G8DA=",
        "SCRAM-SHA-256$4096:p*PSfWcOUnWUNyXmIR9ItA==$3Wyb2BO7iViLfH6ThIc2hQdq6OUtB2fY5ByfJ1uAi8I=:44FoW8riA7vysXZ+a+ydL3ChKR05uFUsAC1yEo/G8DA=",
        "SCRAM-SHA-256$4096:pPPSfWcOUnWUNyXmIR9ItA==$3Wyb2BO7iViLfH6ThIc2hQdq6OUtB2fY5ByfJ1uAi8I=",
        "SCRAM-SHA-256$4096:pPPSfWcOUnWUNyXmIR9ItA==$3Wyb2BO7iViLfH6ThIc2hQdq6OUtB2fY5ByfJ1uAi8I=:44FoW8ri",
        "SCRAM-SHA-256$4096:pPPSfWcOUnWUNyXmIR9ItA==$3Wyb2BO7iViLfH6ThIc2hQdq6OUtB2fY5ByfJ1uAi8I=:44FoW8riA7vysXZ+a+ydL3ChKR05uFUsAC1yEo/G8DA=$",
        "SCRAM-SHA-256$4096:pPPSfWcOUnWUNyXmIR9ItA==:x$3Wyb2BO7iViLfH6ThIc2hQdq6OUtB2fY5ByfJ1uAi8I=:44FoW8riA7vysXZ+a+ydL3ChKR05uFUsAC1yEo/G8DA="})
    void isVerifier_notAValidVerifier_false(String stored) {
        assertThat(ScramVerifier.isVerifier(stored)).isFalse();
    }

    @Test
    void isVerifier_null_false() {
        assertThat(ScramVerifier.isVerifier(null)).isFalse();
    }
}

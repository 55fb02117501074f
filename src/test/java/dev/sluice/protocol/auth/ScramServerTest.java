package dev.sluice.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramServerTest {

    private static final String PASSWORD = "correct horse";
    // "r=<client nonce><24 base64 chars of server nonce>,s=<16-byte salt>,i=4096"
    private static final String SERVER_FIRST_SHAPE = "r=abc[A-Za-z0-9+/]{24},s=[A-Za-z0-9+/]{22}==,i=4096";

    @Test
    void rfc7677Vector_proofAcceptedAndServerSignatureMatches() throws AuthException {
        ScramServer server = Rfc7677.server();

        assertThat(server.handleClientFirst(Rfc7677.CLIENT_FIRST)).isEqualTo(Rfc7677.SERVER_FIRST);
        assertThat(server.handleClientFinal(Rfc7677.CLIENT_FINAL)).isEqualTo(Rfc7677.SERVER_FINAL);
    }

    @Test
    void roundTrip_plainPasswordStored_bothSidesAgree() throws AuthException {
        assertThat(login(new ScramServer(PASSWORD), PASSWORD)).isTrue();
    }

    @Test
    void roundTrip_verifierStored_bothSidesAgree() throws AuthException {
        assertThat(login(new ScramServer(ScramVerifier.create(PASSWORD)), PASSWORD)).isTrue();
    }

    @Test
    void roundTrip_nonAsciiPasswordWrittenDifferently_sameAfterSaslPrep() throws AuthException {
        // U+2168 (ROMAN NUMERAL NINE) is "IX" after NFKC; U+00AD (SOFT HYPHEN) maps to nothing
        assertThat(login(new ScramServer("caf\u00e9 \u2168"), "cafe\u0301\u00a0I\u00adX")).isTrue();
    }

    @Test
    void roundTrip_emptyPassword_works() throws AuthException {
        assertThat(login(new ScramServer(""), "")).isTrue();
    }

    @Test
    void handleClientFinal_wrongPassword_fails() throws AuthException {
        assertThat(login(new ScramServer(PASSWORD), "wrong horse")).isFalse();
    }

    @Test
    void handleClientFinal_wrongPassword_messageNamesNoSecret() throws AuthException {
        ScramServer server = new ScramServer(PASSWORD);
        ScramClient client = new ScramClient("wrong horse");
        String clientFinal = client.clientFinalMessage(server.handleClientFirst(client.clientFirstMessage()));

        assertThatThrownBy(() -> server.handleClientFinal(clientFinal))
                .isInstanceOf(AuthException.class)
                .hasMessage("password authentication failed");
    }

    @Test
    void forUnknownUser_evenWithAnyPassword_failsLikeWrongPassword() throws AuthException {
        ScramServer server = ScramServer.forUnknownUser("nobody");
        ScramClient client = new ScramClient(PASSWORD);
        String clientFinal = client.clientFinalMessage(server.handleClientFirst(client.clientFirstMessage()));

        assertThatThrownBy(() -> server.handleClientFinal(clientFinal))
                .isInstanceOf(AuthException.class)
                .hasMessage("password authentication failed");
    }

    @Test
    void forUnknownUser_serverFirst_hasTheShapeOfARealUser() throws AuthException {
        String real = new ScramServer(PASSWORD).handleClientFirst("n,,n=,r=abc");
        String unknown = ScramServer.forUnknownUser("nobody").handleClientFirst("n,,n=,r=abc");

        assertThat(real).matches(SERVER_FIRST_SHAPE);
        assertThat(unknown).matches(SERVER_FIRST_SHAPE);
    }

    @Test
    void forUnknownUser_sameName_sameSalt_otherName_otherSalt() throws AuthException {
        String first = salt(ScramServer.forUnknownUser("nobody").handleClientFirst("n,,n=,r=abc"));
        String again = salt(ScramServer.forUnknownUser("nobody").handleClientFirst("n,,n=,r=abc"));
        String other = salt(ScramServer.forUnknownUser("somebody").handleClientFirst("n,,n=,r=abc"));

        assertThat(again).isEqualTo(first);
        assertThat(other).isNotEqualTo(first);
    }

    @Test
    void md5HashStored_cannotServeScram_failsAtFinalStep() throws AuthException {
        String md5 = Md5Password.storedHash("alice", PASSWORD);

        assertThat(login(new ScramServer(md5), PASSWORD)).isFalse();
    }

    @Test
    void constructor_brokenVerifier_refusedWithoutEchoingIt() {
        String broken = "SCRAM-SHA-256$4096:c2FsdA==$bm90LWEta2V5:bm90LWEta2V5";

        assertThatThrownBy(() -> new ScramServer(broken))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("c2FsdA");
    }

    @Test
    void handleClientFirst_gs2HeaderY_acceptedWithMatchingChannelBindingData() throws AuthException {
        ScramServer server = new ScramServer(ScramVerifier.create(Rfc7677.PASSWORD, Rfc7677.SALT, 4096),
                () -> Rfc7677.SERVER_NONCE);
        String serverFirst = server.handleClientFirst("y,,n=user,r=" + Rfc7677.CLIENT_NONCE);
        String clientFinal = proofFor(Rfc7677.PASSWORD, "n=user,r=" + Rfc7677.CLIENT_NONCE, serverFirst, "eSws", "");

        assertThat(server.handleClientFinal(clientFinal)).startsWith("v=");
    }

    @Test
    void handleClientFirst_extensionsAfterNonce_ignored() throws AuthException {
        assertThat(new ScramServer(PASSWORD).handleClientFirst("n,,n=someone,r=abc,x=ext")).startsWith("r=abc");
    }

    @Test
    void handleClientFirst_channelBindingRequested_refused() {
        assertThatThrownBy(() -> new ScramServer(PASSWORD).handleClientFirst("p=tls-server-end-point,,n=,r=abc"))
                .isInstanceOf(AuthException.class)
                .hasMessageContaining("channel binding is not supported");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "x,,n=,r=abc", "n,n=,r=abc", "n,,r=abc", "n,,n=", "n,,n=,r=", "n,,n=,r=a b",
        "n,,n=,r=abc,", "n,,n=,r=abc,=x", "n,,n,r=abc", "n,,a=x,n=,r=abc", "n,a=admin,n=,r=abc", "n,,m=ext,n=,r=abc"})
    void handleClientFirst_malformed_refused(String message) {
        assertThatThrownBy(() -> new ScramServer(PASSWORD).handleClientFirst(message)).isInstanceOf(AuthException.class);
    }

    @Test
    void handleClientFinal_wrongNonce_refused() throws AuthException {
        ScramServer server = Rfc7677.server();
        server.handleClientFirst(Rfc7677.CLIENT_FIRST);

        assertThatThrownBy(() -> server.handleClientFinal(Rfc7677.CLIENT_FINAL.replace("hNlF", "hNlG")))
                .isInstanceOf(AuthException.class)
                .hasMessage("SCRAM nonce mismatch");
    }

    @Test
    void handleClientFinal_channelBindingDataNotTheGs2Header_refused() throws AuthException {
        ScramServer server = Rfc7677.server();
        server.handleClientFirst(Rfc7677.CLIENT_FIRST);

        assertThatThrownBy(() -> server.handleClientFinal(Rfc7677.CLIENT_FINAL.replace("c=biws", "c=eSws")))
                .isInstanceOf(AuthException.class)
                .hasMessage("SCRAM channel binding check failed");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=not*base64",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1",
        "c=*,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        ""})
    void handleClientFinal_malformed_refused(String message) throws AuthException {
        ScramServer server = Rfc7677.server();
        server.handleClientFirst(Rfc7677.CLIENT_FIRST);

        assertThatThrownBy(() -> server.handleClientFinal(message)).isInstanceOf(AuthException.class);
    }

    @Test
    void handleClientFinal_extensionBeforeProof_coveredByAuthMessage() throws AuthException {
        ScramServer server = Rfc7677.server();
        String serverFirst = server.handleClientFirst(Rfc7677.CLIENT_FIRST);
        String clientFinal = proofFor(Rfc7677.PASSWORD, Rfc7677.CLIENT_FIRST.substring(3), serverFirst, "biws", ",x=y");

        assertThat(server.handleClientFinal(clientFinal)).startsWith("v=");
    }

    @Test
    void steps_outOfOrder_illegalState() throws AuthException {
        ScramServer fresh = new ScramServer(PASSWORD);
        assertThatThrownBy(() -> fresh.handleClientFinal(Rfc7677.CLIENT_FINAL)).isInstanceOf(IllegalStateException.class);

        ScramServer used = new ScramServer(PASSWORD);
        used.handleClientFirst("n,,n=,r=abc");
        assertThatThrownBy(() -> used.handleClientFirst("n,,n=,r=abc")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void handleClientFinal_afterAFailure_illegalState() throws AuthException {
        ScramServer server = Rfc7677.server();
        server.handleClientFirst(Rfc7677.CLIENT_FIRST);
        assertThatThrownBy(() -> server.handleClientFinal("garbage")).isInstanceOf(AuthException.class);

        assertThatThrownBy(() -> server.handleClientFinal(Rfc7677.CLIENT_FINAL)).isInstanceOf(IllegalStateException.class);
    }

    private static boolean login(ScramServer server, String clientPassword) throws AuthException {
        ScramClient client = new ScramClient(clientPassword);
        String clientFinal = client.clientFinalMessage(server.handleClientFirst(client.clientFirstMessage()));
        String serverFinal;
        try {
            serverFinal = server.handleClientFinal(clientFinal);
        } catch (AuthException e) {
            assertThat(e).hasMessage("password authentication failed");
            return false;
        }
        client.verifyServerFinal(serverFinal);
        return true;
    }

    private static String salt(String serverFirst) {
        return serverFirst.replaceAll(".*,s=([^,]*),.*", "$1");
    }

    /** A client-final-message computed here from the RFC 5802 formulas, independent of ScramClient. */
    private static String proofFor(String password, String clientFirstBare, String serverFirst, String channelBinding,
            String extensions) {
        String nonce = serverFirst.replaceAll("^r=([^,]*),.*", "$1");
        byte[] salt = Base64.getDecoder().decode(salt(serverFirst));
        byte[] salted = ScramCrypto.saltedPassword(password.getBytes(StandardCharsets.UTF_8), salt, 4096);
        String withoutProof = "c=" + channelBinding + ",r=" + nonce + extensions;
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] clientKey = ScramCrypto.hmac(salted, "Client Key");
        byte[] signature = ScramCrypto.hmac(ScramCrypto.sha256(clientKey), authMessage);
        return withoutProof + ",p=" + Base64.getEncoder().encodeToString(ScramCrypto.xor(clientKey, signature));
    }
}

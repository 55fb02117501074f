package dev.sluice.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramClientTest {

    @Test
    void rfc7677Vector_clientProofAndServerSignature() throws AuthException {
        ScramClient client = Rfc7677.client();

        assertThat(client.clientFirstMessage()).isEqualTo(Rfc7677.CLIENT_FIRST);
        assertThat(client.clientFinalMessage(Rfc7677.SERVER_FIRST)).isEqualTo(Rfc7677.CLIENT_FINAL);
        client.verifyServerFinal(Rfc7677.SERVER_FINAL);
    }

    @Test
    void clientFirstMessage_noChannelBindingEmptyUserRandomNonce() {
        String first = new ScramClient("pw").clientFirstMessage();
        String other = new ScramClient("pw").clientFirstMessage();

        assertThat(first).matches("n,,n=,r=[A-Za-z0-9+/]{24}");
        assertThat(other).isNotEqualTo(first);
    }

    @Test
    void clientFirstMessage_userNameEscaped() {
        assertThat(new ScramClient("a=b,c", "pw", () -> "nonce").clientFirstMessage()).isEqualTo("n,,n=a=3Db=2Cc,r=nonce");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        // nonce does not start with ours
        "r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        // server added nothing to our nonce
        "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=10000001",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=not*base64,i=4096",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=,i=4096",
        "r=rOprNGfwEbeRWgbNEkqOxyz,i=4096",
        "m=ext,r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "e=other-error",
        ""})
    void clientFinalMessage_badServerFirst_refused(String serverFirst) {
        ScramClient client = Rfc7677.client();
        client.clientFirstMessage();

        assertThatThrownBy(() -> client.clientFinalMessage(serverFirst)).isInstanceOf(AuthException.class);
    }

    @Test
    void clientFinalMessage_iterationCountAtTheLimits_accepted() throws AuthException {
        ScramClient client = Rfc7677.client();
        client.clientFirstMessage();

        assertThat(client.clientFinalMessage("r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1"))
                .startsWith("c=biws,r=rOprNGfwEbeRWgbNEkqOxyz,p=");
    }

    @Test
    void verifyServerFinal_serverError_reportedWithItsName() throws AuthException {
        ScramClient client = Rfc7677.client();
        client.clientFirstMessage();
        client.clientFinalMessage(Rfc7677.SERVER_FIRST);

        assertThatThrownBy(() -> client.verifyServerFinal("e=invalid-proof"))
                .isInstanceOf(AuthException.class)
                .hasMessageContaining("invalid-proof");
    }

    @Test
    void verifyServerFinal_wrongSignature_refused() throws AuthException {
        ScramClient client = Rfc7677.client();
        client.clientFirstMessage();
        client.clientFinalMessage(Rfc7677.SERVER_FIRST);

        assertThatThrownBy(() -> client.verifyServerFinal("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))
                .isInstanceOf(AuthException.class)
                .hasMessageContaining("server signature does not match");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "v=", "v=***", "x=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="})
    void verifyServerFinal_malformed_refused(String serverFinal) throws AuthException {
        ScramClient client = Rfc7677.client();
        client.clientFirstMessage();
        client.clientFinalMessage(Rfc7677.SERVER_FIRST);

        assertThatThrownBy(() -> client.verifyServerFinal(serverFinal)).isInstanceOf(AuthException.class);
    }

    @Test
    void steps_outOfOrder_illegalState() {
        ScramClient client = new ScramClient("pw");

        assertThatThrownBy(() -> client.clientFinalMessage(Rfc7677.SERVER_FIRST)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> client.verifyServerFinal(Rfc7677.SERVER_FINAL)).isInstanceOf(IllegalStateException.class);
    }
}

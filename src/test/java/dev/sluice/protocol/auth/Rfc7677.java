package dev.sluice.protocol.auth;

import java.util.Base64;

/** The SCRAM-SHA-256 example exchange of RFC 7677 section 3 (user "user", password "pencil"). */
final class Rfc7677 {

    static final String PASSWORD = "pencil";
    static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    static final byte[] SALT = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    static final int ITERATIONS = 4096;

    static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    static final String CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    private Rfc7677() {
    }

    static ScramServer server() {
        return new ScramServer(ScramVerifier.create(PASSWORD, SALT, ITERATIONS), () -> SERVER_NONCE);
    }

    static ScramClient client() {
        return new ScramClient("user", PASSWORD, () -> CLIENT_NONCE);
    }
}

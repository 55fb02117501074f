package dev.sluice.it.support;

import dev.sluice.demo.EmbeddedPostgres;
import java.nio.file.Path;

/**
 * A TLS-enabled test server and its self-signed certificate. The certificate is its own CA:
 * pass {@link #certFile()} as the trusted root for {@code verify-full} (it names {@code localhost}
 * and {@code 127.0.0.1}). The same pair may serve Sluice's client-side TLS in tests.
 */
public record TlsPostgres(EmbeddedPostgres postgres, TestCertificates.SelfSigned certificate) implements AutoCloseable {

    /** PEM certificate (also the CA to trust). */
    public Path certFile() {
        return certificate.certFile();
    }

    /** PEM PKCS#8 private key, unencrypted. */
    public Path keyFile() {
        return certificate.keyFile();
    }

    @Override
    public void close() {
        postgres.close();
        certificate.close();
    }
}

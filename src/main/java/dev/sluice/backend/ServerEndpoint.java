package dev.sluice.backend;

import io.netty.handler.ssl.SslContext;
import java.time.Duration;

/**
 * Where and how to log in to PostgreSQL for one pool.
 *
 * @param host               PostgreSQL host
 * @param port               PostgreSQL port
 * @param database           database name on PostgreSQL
 * @param user               login role
 * @param password           plain password, stored md5 hash, or {@code null} when PostgreSQL trusts the user
 * @param sslContext         TLS client context, or {@code null} to never ask for TLS
 * @param tlsRequired        refuse to continue when PostgreSQL declines TLS
 * @param verifyHostname     check the server certificate's name against {@code host}
 * @param connectTimeout     bound on TCP connect plus login
 * @param maxMessageLength   largest message accepted from PostgreSQL
 * @param statementCacheSize prepared statements kept per connection in transaction mode
 */
public record ServerEndpoint(
        String host, int port, String database, String user, String password,
        SslContext sslContext, boolean tlsRequired, boolean verifyHostname,
        Duration connectTimeout, int maxMessageLength, int statementCacheSize) {

    /** How the upstream is named in messages to clients and logs. */
    public String label() {
        return host + ":" + port + "/" + database;
    }

    @Override
    public String toString() {
        return "ServerEndpoint[" + user + "@" + label() + "]";
    }
}

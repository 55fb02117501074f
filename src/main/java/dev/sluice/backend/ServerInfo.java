package dev.sluice.backend;

/**
 * A server connection as monitoring shows it (SHOW SERVERS, {@code /api/v1/servers}).
 *
 * @param id                 Sluice's id of the connection
 * @param pool               the owning pool's name ({@code database/user})
 * @param state              {@code login} (connecting or authenticating), {@code idle},
 *                           {@code active} (lent to a client), {@code used} (lent, between
 *                           clients), {@code tested} (running a health check or reset),
 *                           {@code closed}
 * @param lastUsedAtMillis   wall-clock time it was last given back (now while in use)
 * @param backendPid         PostgreSQL's process id of the backend, 0 before login
 * @param clientId           the client it is lent to, 0 when none
 * @param preparedStatements statements Sluice prepared on it
 */
public record ServerInfo(int id, String pool, String database, String user, String state, String host, int port,
                         String localAddress, int localPort, long connectedAtMillis, long lastUsedAtMillis,
                         int backendPid, int clientId, boolean tls, int preparedStatements) {
}

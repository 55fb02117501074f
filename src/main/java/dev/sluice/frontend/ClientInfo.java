package dev.sluice.frontend;

/**
 * A client connection as monitoring shows it (SHOW CLIENTS, {@code /api/v1/clients}). Read from
 * another thread than the session's, so values may be a moment old.
 *
 * @param id                 the client's id: the process id in its BackendKeyData (0 before login)
 * @param state              {@code login} (startup and authentication), {@code idle} (no request,
 *                           no server connection), {@code active} (holds a server connection),
 *                           {@code waiting} (waits for one), {@code console} (admin console)
 * @param connectedAtMillis  wall-clock time the connection was accepted
 * @param requestAtMillis    wall-clock time its last request started, 0 before the first
 * @param waitingNanos       how long it has waited for a server connection now, 0 when not waiting
 * @param priority           the class of its last request ({@code normal} before the first)
 * @param serverId           the server connection it holds, 0 when none
 * @param pinned             whether session state ties it to its server connection
 */
public record ClientInfo(int id, String user, String database, String applicationName, String address, int port,
                         String localAddress, int localPort, boolean tls, String state, long connectedAtMillis,
                         long requestAtMillis, long waitingNanos, String priority, int serverId, boolean pinned,
                         int preparedStatements) {
}

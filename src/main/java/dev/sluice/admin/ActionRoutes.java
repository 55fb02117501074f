package dev.sluice.admin;

import dev.sluice.config.ReloadReport;
import dev.sluice.frontend.ClientInfo;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.pool.Pool;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operator actions, each answering JSON at once:
 * <ul>
 * <li>{@code POST /api/v1/pause[?database=]}: stops lending server connections (PgBouncer's
 *     PAUSE), of one database's pools or of all; answers which pools are paused and whether the
 *     pause already took effect (no server connection lent out any more; otherwise it does when
 *     the clients holding one give it back);</li>
 * <li>{@code POST /api/v1/resume[?database=]}: lends again; answers which pools were resumed;</li>
 * <li>{@code POST /api/v1/drain[?database=]}: closes idle server connections; answers how many;</li>
 * <li>{@code POST /api/v1/reload}: reloads the configuration on {@link AdminServer#blocking()}
 *     and answers the {@link ReloadReport} when done (422 when it was refused);</li>
 * <li>{@code POST /api/v1/clients/cancel?id=}: cancels the client's running query, as its own
 *     CancelRequest would;</li>
 * <li>{@code POST /api/v1/clients/terminate?id=}: disconnects the client with 57P01.</li>
 * </ul>
 * A database that is not configured answers 404, and so does a client id no client has.
 */
final class ActionRoutes {
    private static final Logger log = LoggerFactory.getLogger(ActionRoutes.class);

    private final ProxyServer proxy;

    ActionRoutes(ProxyServer proxy) {
        this.proxy = proxy;
    }

    void register(AdminServer server) {
        server.route(HttpMethod.POST, "/api/v1/pause", r -> {
            String database = database(Params.of(r, "database"));
            if (database != null && proxy.config().database(database).isEmpty()) {
                return unknownDatabase(database);
            }
            log.warn("admin API: pause of {}", database == null ? "every pool" : "database " + database);
            CompletableFuture<Void> done = proxy.pause(database);
            List<String> paused = new ArrayList<>();
            int inUse = 0;
            for (Pool p : pools(database)) {
                if (p.isPaused()) {
                    paused.add(p.name());
                    inUse += p.snapshot().inUse();
                }
            }
            Map<String, Object> doc = scope(database);
            doc.put("paused", paused);
            doc.put("took_effect", done.isDone());
            doc.put("in_use", inUse);
            if (paused.isEmpty()) {
                doc.put("note", "no pool exists yet" + (database == null ? "" : " for this database")
                        + "; pools created later are not paused");
            }
            return AdminResponse.json(doc);
        });
        server.route(HttpMethod.POST, "/api/v1/resume", r -> {
            String database = database(Params.of(r, "database"));
            if (database != null && proxy.config().database(database).isEmpty()) {
                return unknownDatabase(database);
            }
            List<String> resumed = new ArrayList<>();
            for (Pool p : pools(database)) {
                if (p.isPaused()) {
                    resumed.add(p.name());
                }
            }
            log.warn("admin API: resume of {}", database == null ? "every pool" : "database " + database);
            proxy.resume(database);
            Map<String, Object> doc = scope(database);
            doc.put("resumed", resumed);
            return AdminResponse.json(doc);
        });
        server.route(HttpMethod.POST, "/api/v1/drain", r -> {
            String database = database(Params.of(r, "database"));
            if (database != null && proxy.config().database(database).isEmpty()) {
                return unknownDatabase(database);
            }
            int closed = proxy.drainIdle(database);
            log.info("admin API: drained {} idle server connections of {}", closed,
                    database == null ? "every pool" : "database " + database);
            Map<String, Object> doc = scope(database);
            doc.put("closed", closed);
            return AdminResponse.json(doc);
        });
        server.routeAsync(HttpMethod.POST, "/api/v1/reload", r -> {
            Params.of(r);
            return CompletableFuture.supplyAsync(proxy::reload, server.blocking()).thenApply(report -> {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("ok", report.ok());
                doc.put("applied", report.applied());
                doc.put("need_restart", report.needRestart());
                doc.put("error", report.error());
                return AdminResponse.json(report.ok() ? HttpResponseStatus.OK : HttpResponseStatus.UNPROCESSABLE_ENTITY,
                        doc);
            });
        });
        server.route(HttpMethod.POST, "/api/v1/clients/cancel", r -> {
            int id = Params.of(r, "id").requiredInteger("id", 1, Integer.MAX_VALUE);
            ClientInfo c = client(id);
            if (c == null || !proxy.cancelClient(id)) {
                return unknownClient(id);
            }
            log.info("admin API: cancel of client {}", id);
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("id", id);
            doc.put("cancel_requested", true);
            doc.put("state", c.state());
            if (!c.state().equals("active")) {
                doc.put("note", "the client was " + c.state() + ": a cancel only stops a query in flight");
            }
            return AdminResponse.json(doc);
        });
        server.route(HttpMethod.POST, "/api/v1/clients/terminate", r -> {
            int id = Params.of(r, "id").requiredInteger("id", 1, Integer.MAX_VALUE);
            if (!proxy.terminateClient(id, "admin API")) {
                return unknownClient(id);
            }
            log.warn("admin API: terminated client {}", id);
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("id", id);
            doc.put("terminated", true);
            return AdminResponse.json(doc);
        });
    }

    private static String database(Params p) {
        return p.text("database");
    }

    private static Map<String, Object> scope(String database) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("database", database == null ? "*" : database);
        return doc;
    }

    private List<Pool> pools(String database) {
        List<Pool> out = new ArrayList<>();
        for (Pool p : proxy.poolList()) {
            if (database == null || p.database().equals(database)) {
                out.add(p);
            }
        }
        return out;
    }

    private ClientInfo client(int id) {
        for (ClientInfo c : proxy.clients()) {
            if (c.id() == id) {
                return c;
            }
        }
        return null;
    }

    private static AdminResponse unknownDatabase(String database) {
        return AdminResponse.error(HttpResponseStatus.NOT_FOUND, "no database '" + database + "' is configured");
    }

    private static AdminResponse unknownClient(int id) {
        return AdminResponse.error(HttpResponseStatus.NOT_FOUND, "no client with id " + id + " is connected");
    }
}

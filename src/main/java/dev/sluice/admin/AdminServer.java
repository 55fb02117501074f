package dev.sluice.admin;

import dev.sluice.config.AdminConfig;
import dev.sluice.alert.AlertEngine;
import dev.sluice.config.SluiceConfig.HostPort;
import dev.sluice.frontend.ProxyServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP server: a table of routes ({@code METHOD /path} to a {@link Route}) served on
 * its own single thread, so it never competes with the data path's event loops for work, only
 * for CPU. The routes come in sets, one class per area ({@link StatusRoutes}: health probes,
 * status, operating mode; {@link PoolRoutes}: pools, clients, servers, queries;
 * {@link ActionRoutes}: pause, resume, drain, reload, cancel, terminate; {@link ThrottlingRoutes};
 * {@link OpenApiRoutes}: the OpenAPI description of them all; {@link AlertRoutes}: alerts). The
 * {@link AlertEngine} runs as long as the admin server: started once the port is bound, closed with it.
 *
 * <p>Dispatch: an unknown path answers 404, a known path with another method 405 with an
 * {@code Allow} header, an {@link IllegalArgumentException} from a route 400 with its message.
 * When {@code admin_token} is set ({@link AdminConfig}), every request but the health probes
 * needs {@code Authorization: Bearer <token>}, else 401 with {@code WWW-Authenticate: Bearer};
 * the token is compared in constant time (SHA-256 of both sides, then
 * {@link MessageDigest#isEqual}). Work that blocks (a reload) runs on {@link #blocking()} and its
 * {@link AsyncRoute} answers when done; responses on one connection keep the requests' order.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    /** One endpoint. Runs on the admin thread; must not block for long. */
    @FunctionalInterface
    public interface Route {
        AdminResponse handle(AdminRequest request) throws Exception;
    }

    /**
     * An endpoint that answers later: called on the admin thread, it hands blocking work to
     * {@link #blocking()} and returns at once; the response is written when the stage completes
     * (a stage failing with {@link IllegalArgumentException} answers 400, any other failure 500).
     */
    @FunctionalInterface
    public interface AsyncRoute {
        CompletionStage<AdminResponse> handle(AdminRequest request) throws Exception;
    }

    /** Paths answered without a token, so probes need no secret. */
    private static final Set<String> OPEN_PATHS = Set.of("/health/live", "/health/ready");

    /** path to (method name to route), in registration order. */
    private final Map<String, Map<String, AsyncRoute>> routes = new LinkedHashMap<>();
    /** SHA-256 of the admin token, null when no token is set. */
    private final byte[] tokenDigest;
    private final ExecutorService blocking = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sluice-admin-blocking");
        t.setDaemon(true);
        return t;
    });
    private final AlertEngine alerts;
    private final EventLoopGroup group;
    private final Channel channel;

    private AdminServer(ProxyServer proxy, HostPort listen) throws InterruptedException {
        AdminConfig admin = proxy.config().admin();
        if (admin.token().isEmpty() && !AdminConfig.isLoopback(listen.host())) {
            blocking.shutdown();
            throw new IllegalStateException("admin_listen " + listen + " is not a loopback address and no admin_token is "
                    + "set: refusing to serve the admin API without a token");
        }
        this.tokenDigest = admin.token().map(AdminServer::sha256).orElse(null);
        new StatusRoutes(proxy).register(this);
        new MetricsRoutes(proxy).register(this);
        new PoolRoutes(proxy).register(this);
        new ActionRoutes(proxy).register(this);
        new ThrottlingRoutes(proxy).register(this);
        new OpenApiRoutes().register(this);
        this.alerts = AlertEngine.create(proxy);
        new AlertRoutes(alerts).register(this);
        this.group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024), new Handler());
                    }
                });
        var f = b.bind(new InetSocketAddress(listen.host(), listen.port())).await();
        if (!f.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            blocking.shutdown();
            alerts.close();
            throw new IllegalStateException("cannot listen on " + listen + " (admin_listen): " + f.cause().getMessage(),
                    f.cause());
        }
        this.channel = f.channel();
        alerts.start();
        log.info("admin API on http://{}", channel.localAddress());
    }

    /** Starts the admin API on {@code listen}; returns once the port is bound. */
    public static AdminServer start(ProxyServer proxy, HostPort listen) throws InterruptedException {
        return new AdminServer(proxy, listen);
    }

    /** Adds (or replaces) the route for {@code method} and {@code path}. Called while starting. */
    void route(HttpMethod method, String path, Route route) {
        routeAsync(method, path, r -> CompletableFuture.completedFuture(route.handle(r)));
    }

    /** Adds (or replaces) a route that answers later. Called while starting. */
    void routeAsync(HttpMethod method, String path, AsyncRoute route) {
        routes.computeIfAbsent(path, p -> new LinkedHashMap<>()).put(method.name(), route);
    }

    /** Every registered route as {@code METHOD /path}, in registration order. */
    List<String> routeKeys() {
        List<String> out = new ArrayList<>();
        routes.forEach((path, byMethod) -> byMethod.keySet().forEach(m -> out.add(m + " " + path)));
        return out;
    }

    /** A single thread for blocking work of routes (a reload), one task at a time, off the admin thread. */
    Executor blocking() {
        return blocking;
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        alerts.close();
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        blocking.shutdown();
    }

    private CompletionStage<AdminResponse> answer(FullHttpRequest req) {
        QueryStringDecoder q = new QueryStringDecoder(req.uri());
        String path = q.path();
        if (tokenDigest != null && !OPEN_PATHS.contains(path)) {
            String presented = bearerToken(req.headers().get(HttpHeaderNames.AUTHORIZATION));
            if (presented == null || !MessageDigest.isEqual(tokenDigest, sha256(presented))) {
                return CompletableFuture.completedFuture(AdminResponse.error(HttpResponseStatus.UNAUTHORIZED,
                        presented == null ? "this endpoint needs the header Authorization: Bearer <admin_token>"
                                : "the bearer token is not admin_token")
                        .withHeader(HttpHeaderNames.WWW_AUTHENTICATE.toString(), presented == null
                                ? "Bearer realm=\"sluice\"" : "Bearer realm=\"sluice\", error=\"invalid_token\""));
            }
        }
        Map<String, AsyncRoute> byMethod = routes.get(path);
        if (byMethod == null) {
            return CompletableFuture.completedFuture(
                    AdminResponse.error(HttpResponseStatus.NOT_FOUND, "no such endpoint: " + path));
        }
        AsyncRoute route = byMethod.get(req.method().name());
        if (route == null) {
            String allow = String.join(", ", byMethod.keySet());
            return CompletableFuture.completedFuture(AdminResponse.error(HttpResponseStatus.METHOD_NOT_ALLOWED,
                    req.method() + " is not allowed on " + path + " (allowed: " + allow + ")")
                    .withHeader(HttpHeaderNames.ALLOW.toString(), allow));
        }
        AdminRequest request = new AdminRequest(req.method(), path, q.parameters(), req.headers(),
                req.content().toString(StandardCharsets.UTF_8));
        CompletionStage<AdminResponse> stage;
        try {
            stage = route.handle(request);
        } catch (Exception e) {
            return CompletableFuture.completedFuture(failure(req.method(), path, e));
        }
        return stage.handle((a, e) -> e == null ? a : failure(req.method(), path, e));
    }

    private static AdminResponse failure(HttpMethod method, String path, Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof IllegalArgumentException) {
            return AdminResponse.error(HttpResponseStatus.BAD_REQUEST, cause.getMessage());
        }
        log.warn("admin API: {} {} failed", method, path, cause);
        return AdminResponse.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, String.valueOf(cause));
    }

    /** The token of an {@code Authorization: Bearer <token>} header, or null. */
    private static String bearerToken(String header) {
        if (header == null) {
            return null;
        }
        String h = header.strip();
        int space = h.indexOf(' ');
        if (space < 0 || !h.substring(0, space).equalsIgnoreCase("Bearer")) {
            return null;
        }
        String token = h.substring(space + 1).strip();
        return token.isEmpty() ? null : token;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Serves one connection; per-connection state: the last response, so answers keep the requests' order. */
    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private CompletableFuture<Void> previous = CompletableFuture.completedFuture(null);

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            // everything needed from req is taken now: it is released when this method returns
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            CompletionStage<AdminResponse> answer = answer(req);
            previous = previous.thenCombine(answer, (v, a) -> a).thenAccept(a -> write(ctx, a, keepAlive))
                    .exceptionally(e -> {
                        log.debug("admin connection: cannot answer: {}", e.toString());
                        ctx.close();
                        return null;
                    });
        }

        private void write(ChannelHandlerContext ctx, AdminResponse a, boolean keepAlive) {
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, a.status(),
                    Unpooled.wrappedBuffer(a.body()));
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, a.contentType());
            a.headers().forEach((name, value) -> resp.headers().set(name, value));
            HttpUtil.setContentLength(resp, a.body().length);
            HttpUtil.setKeepAlive(resp, keepAlive);
            var f = ctx.writeAndFlush(resp);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("admin connection: {}", cause.toString());
            ctx.close();
        }
    }
}

package dev.sluice.admin;

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
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP server: a table of routes ({@code METHOD /path} to a {@link Route}) served on
 * its own single thread, so it never competes with the data path's event loops for work, only
 * for CPU. The routes come in sets, one class per area ({@link StatusRoutes}: health probes,
 * status, operating mode; {@link AlertRoutes}: alerts). The {@link AlertEngine} runs as long as
 * the admin server: started once the port is bound, closed with it.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    /** One endpoint. Runs on the admin thread; must not block for long. */
    @FunctionalInterface
    public interface Route {
        AdminResponse handle(AdminRequest request) throws Exception;
    }

    private final Map<String, Route> routes = new LinkedHashMap<>();
    private final AlertEngine alerts;
    private final EventLoopGroup group;
    private final Channel channel;

    private AdminServer(ProxyServer proxy, HostPort listen) throws InterruptedException {
        new StatusRoutes(proxy).register(this);
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
        routes.put(method.name() + " " + path, route);
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        alerts.close();
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private AdminResponse answer(FullHttpRequest req) {
        QueryStringDecoder q = new QueryStringDecoder(req.uri());
        String path = q.path();
        Route route = routes.get(req.method().name() + " " + path);
        if (route == null) {
            return AdminResponse.error(HttpResponseStatus.NOT_FOUND, "no such endpoint: " + req.method() + " " + path);
        }
        AdminRequest request = new AdminRequest(req.method(), path, q.parameters(), req.headers(),
                req.content().toString(StandardCharsets.UTF_8));
        try {
            return route.handle(request);
        } catch (IllegalArgumentException e) {
            return AdminResponse.error(HttpResponseStatus.BAD_REQUEST, e.getMessage());
        } catch (Exception e) {
            log.warn("admin API: {} {} failed", req.method(), path, e);
            return AdminResponse.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, String.valueOf(e));
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            AdminResponse a = answer(req);
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, a.status(),
                    Unpooled.wrappedBuffer(a.body()));
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, a.contentType());
            HttpUtil.setContentLength(resp, a.body().length);
            boolean keepAlive = HttpUtil.isKeepAlive(req);
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

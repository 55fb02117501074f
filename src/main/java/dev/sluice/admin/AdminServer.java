package dev.sluice.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sluice.admission.AdaptiveLimit;
import dev.sluice.admission.CircuitBreaker;
import dev.sluice.admission.OperatingMode;
import dev.sluice.admission.Priority;
import dev.sluice.config.SluiceConfig.HostPort;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.pool.Pool;
import dev.sluice.pool.Upstream;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP API (JSON): health probes and a status call showing, for every upstream, its
 * circuit, concurrency limit and operating mode, and for every pool its connections and waiting
 * requests by class. Runs on its own single thread so it never competes with the data path's
 * event loops for work, only for CPU.
 *
 * <p>Endpoints: {@code GET /health/live}, {@code GET /health/ready},
 * {@code GET /api/v1/status}, {@code POST /api/v1/mode?upstream=HOST:PORT&mode=auto|normal|degraded|emergency}.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final ProxyServer proxy;
    private final EventLoopGroup group;
    private final Channel channel;

    private AdminServer(ProxyServer proxy, HostPort listen) throws InterruptedException {
        this.proxy = proxy;
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
            throw new IllegalStateException("cannot listen on " + listen + " (admin_listen): " + f.cause().getMessage(),
                    f.cause());
        }
        this.channel = f.channel();
        log.info("admin API on http://{}", channel.localAddress());
    }

    /** Starts the admin API on {@code listen}; returns once the port is bound. */
    public static AdminServer start(ProxyServer proxy, HostPort listen) throws InterruptedException {
        return new AdminServer(proxy, listen);
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** The status document: overall state with reasons, upstreams, pools. */
    public Map<String, Object> status() {
        Map<String, Object> doc = new LinkedHashMap<>();
        List<String> reasons = new ArrayList<>();
        String overall = "healthy";
        List<Map<String, Object>> ups = new ArrayList<>();
        for (Upstream u : proxy.upstreams()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("upstream", u.label());
            CircuitBreaker.State circuit = u.breaker().state();
            m.put("circuit", circuit.name().toLowerCase());
            OperatingMode.Mode mode = u.mode().mode();
            m.put("mode", mode.configName());
            m.put("mode_forced", u.mode().isForced());
            m.put("in_use", u.inUse());
            AdaptiveLimit limit = u.adaptiveLimit();
            if (limit != null) {
                AdaptiveLimit.Snapshot s = limit.snapshot();
                m.put("limit", s.limit());
                m.put("limit_baseline_rtt_us", s.baselineRttNanos() / 1000);
                m.put("limit_last_rtt_us", s.lastRttNanos() / 1000);
            } else {
                m.put("limit", "pool size");
            }
            ups.add(m);
            if (circuit != CircuitBreaker.State.CLOSED) {
                overall = "critical";
                reasons.add("upstream " + u.label() + ": circuit " + circuit.name().toLowerCase());
            }
            if (mode == OperatingMode.Mode.EMERGENCY) {
                overall = "critical";
                reasons.add("upstream " + u.label() + ": emergency mode");
            } else if (mode == OperatingMode.Mode.DEGRADED) {
                if (overall.equals("healthy")) {
                    overall = "degraded";
                }
                reasons.add("upstream " + u.label() + ": degraded mode");
            }
        }
        List<Map<String, Object>> pools = new ArrayList<>();
        for (Pool p : proxy.poolList()) {
            Pool.Snapshot s = p.snapshot();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("pool", s.name());
            m.put("mode", s.mode().configName());
            m.put("size", s.size());
            m.put("server_connections", s.total());
            m.put("idle", s.idle());
            m.put("in_use", s.inUse());
            m.put("waiting", s.waiting());
            Map<String, Integer> byClass = new LinkedHashMap<>();
            for (Priority pr : Priority.values()) {
                byClass.put(pr.configName(), s.byClass().getOrDefault(pr, 0));
            }
            m.put("waiting_by_class", byClass);
            pools.add(m);
        }
        doc.put("status", overall);
        doc.put("reasons", reasons);
        doc.put("clients", proxy.clientCount());
        doc.put("upstreams", ups);
        doc.put("pools", pools);
        return doc;
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) throws Exception {
            QueryStringDecoder q = new QueryStringDecoder(req.uri());
            String path = q.path();
            Object body;
            HttpResponseStatus status = HttpResponseStatus.OK;
            if (req.method() == HttpMethod.GET && path.equals("/health/live")) {
                body = Map.of("status", "live");
            } else if (req.method() == HttpMethod.GET && path.equals("/health/ready")) {
                Map<String, Object> s = status();
                boolean ready = !"critical".equals(s.get("status"));
                status = ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE;
                body = Map.of("status", ready ? "ready" : "not ready", "reasons", s.get("reasons"));
            } else if (req.method() == HttpMethod.GET && path.equals("/api/v1/status")) {
                body = status();
            } else if (req.method() == HttpMethod.POST && path.equals("/api/v1/mode")) {
                String upstream = first(q, "upstream");
                String mode = first(q, "mode");
                body = forceMode(upstream, mode);
                if (body instanceof Map<?, ?> m && m.containsKey("error")) {
                    status = HttpResponseStatus.BAD_REQUEST;
                }
            } else {
                status = HttpResponseStatus.NOT_FOUND;
                body = Map.of("error", "no such endpoint: " + req.method() + " " + path);
            }
            byte[] bytes = JSON.writeValueAsBytes(body);
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            HttpUtil.setContentLength(resp, bytes.length);
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

    private static String first(QueryStringDecoder q, String name) {
        List<String> v = q.parameters().get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    private Object forceMode(String upstream, String mode) {
        for (Upstream u : proxy.upstreams()) {
            if (upstream == null || u.label().equals(upstream)) {
                if ("auto".equals(mode)) {
                    u.mode().auto();
                } else {
                    OperatingMode.Mode m = null;
                    for (OperatingMode.Mode x : OperatingMode.Mode.values()) {
                        if (x.configName().equals(mode)) {
                            m = x;
                        }
                    }
                    if (m == null) {
                        return Map.of("error", "mode '" + mode + "' is not one of auto, normal, degraded, emergency");
                    }
                    u.mode().force(m);
                }
                log.warn("operator set operating mode of upstream {} to {}", u.label(), mode);
            }
        }
        return status();
    }
}

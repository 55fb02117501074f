package dev.sluice.frontend;

import dev.sluice.config.SluiceConfig.IoTransport;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import org.slf4j.LoggerFactory;

/**
 * The network transport the event loops run on, resolved from {@code io_transport}.
 *
 * <p>Why offer io_uring: on a busy machine the proxy shares its cores with PostgreSQL and the
 * clients. With epoll every {@code send} that wakes a client may hand it the CPU at once, so the
 * client wakes for one answer at a time. io_uring submits the round's writes in one call and the
 * woken clients find all their answers ready (bench/README.md has the figures).
 *
 * @param name               as logged and shown in SHOW CONFIG ({@code io_uring}, {@code epoll}, {@code nio})
 * @param handlers           the event loops' I/O handler
 * @param serverChannelClass the listening socket
 * @param channelClass       client and server connections
 */
public record Transport(String name, IoHandlerFactory handlers, Class<? extends ServerSocketChannel> serverChannelClass,
                        Class<? extends SocketChannel> channelClass) {

    /*
     * io_uring with one-shot POLLIN, not multishot (Netty's default where the kernel has it). A
     * multishot poll reports each wake-up once; when the wake-up of a reset (the peer's RST)
     * arrived while a read was still in flight, Netty 4.2.18 dropped it, that read then came
     * back EAGAIN, and nothing woke the channel again: the connection stayed open with its
     * client waiting for ever (ServerFailureIT.unaskedFatalCutByTheNetwork_everyQueryIsAnswered
     * hung in about half its runs). A one-shot poll is armed anew after each read loop and so
     * sees a reset that came before it. Set before Netty's IoUring class reads it; an explicit
     * -Dio.netty.iouring.pollAddMultishotEnabled wins.
     */
    static {
        if (System.getProperty("io.netty.iouring.pollAddMultishotEnabled") == null) {
            System.setProperty("io.netty.iouring.pollAddMultishotEnabled", "false");
        }
    }

    /**
     * The transport {@code wanted} names; {@code auto} takes io_uring, else epoll, else NIO.
     *
     * @throws IllegalStateException if a transport named explicitly is not available here
     */
    public static Transport of(IoTransport wanted) {
        return switch (wanted) {
            case AUTO -> IoUring.isAvailable() ? ioUring() : Epoll.isAvailable() ? epoll() : nio();
            case IO_URING -> {
                if (!IoUring.isAvailable()) {
                    throw unavailable("io_uring", IoUring.unavailabilityCause());
                }
                yield ioUring();
            }
            case EPOLL -> {
                if (!Epoll.isAvailable()) {
                    throw unavailable("epoll", Epoll.unavailabilityCause());
                }
                yield epoll();
            }
            case NIO -> nio();
        };
    }

    /** Whether {@code t} can run on this machine ({@code auto} always can). */
    public static boolean isAvailable(IoTransport t) {
        return switch (t) {
            case AUTO, NIO -> true;
            case IO_URING -> IoUring.isAvailable();
            case EPOLL -> Epoll.isAvailable();
        };
    }

    private static IllegalStateException unavailable(String name, Throwable cause) {
        return new IllegalStateException("io_transport: " + name + " is not available on this machine ("
                + (cause == null ? "unknown reason" : cause.getMessage()) + "); use auto, epoll or nio", cause);
    }

    private static Transport ioUring() {
        if (IoUring.isPollAddMultishotEnabled()) {
            // set explicitly, or Netty's IoUring was loaded before this class could set it
            LoggerFactory.getLogger(Transport.class).warn("io_uring runs with multishot POLLIN polls"
                    + " (io.netty.iouring.pollAddMultishotEnabled): a server connection reset during a read"
                    + " can go unnoticed with them; prefer io_transport epoll, or leave the property unset");
        }
        return new Transport("io_uring", IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                IoUringSocketChannel.class);
    }

    private static Transport epoll() {
        return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class, EpollSocketChannel.class);
    }

    private static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }
}

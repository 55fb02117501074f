package dev.sluice.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.config.SluiceConfig.IoTransport;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Test;

class TransportTest {

    @Test
    void ioUringRunsWithOneShotPolls() {
        // Transport must set the property before Netty's IoUring class reads it: with multishot
        // polls a reset during a read can go unnoticed (see Transport)
        assumeTrue(Transport.isAvailable(IoTransport.IO_URING), "io_uring not available here");
        assertThat(Transport.of(IoTransport.IO_URING).name()).isEqualTo("io_uring");
        assertThat(IoUring.isPollAddMultishotEnabled()).isFalse();
    }

    @Test
    void autoTakesIoUringThenEpollThenNio() {
        String expected = Transport.isAvailable(IoTransport.IO_URING) ? "io_uring"
                : Transport.isAvailable(IoTransport.EPOLL) ? "epoll" : "nio";
        assertThat(Transport.of(IoTransport.AUTO).name()).isEqualTo(expected);
        assertThat(Transport.isAvailable(IoTransport.NIO)).isTrue();
    }
}

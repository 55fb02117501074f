package dev.sluice.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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

    @Test
    void ioUringReceivesIntoABufferRing_whereTheKernelHasOne_unlessTurnedOff() {
        assumeTrue(Transport.isAvailable(IoTransport.IO_URING), "io_uring not available here");
        boolean kernelHasIt = IoUring.isRegisterBufferRingSupported() && IoUring.isRecvMultishotEnabled();
        assertThat(Transport.of(IoTransport.IO_URING).bufferRing()).isEqualTo(kernelHasIt);
        withProperty("sluice.iouring.bufferRing", "false",
                () -> assertThat(Transport.of(IoTransport.IO_URING).bufferRing()).isFalse());
        assertThat(Transport.of(IoTransport.NIO).bufferRing()).isFalse();
    }

    @Test
    void aBufferRingSizeThatIsNotAPowerOfTwo_stopsStartUpNamingTheProperty() {
        assumeTrue(Transport.isAvailable(IoTransport.IO_URING) && IoUring.isRegisterBufferRingSupported()
                && IoUring.isRecvMultishotEnabled(), "no io_uring buffer rings here");
        withProperty("sluice.iouring.bufferRingSize", "100", () -> assertThatThrownBy(() -> Transport.of(IoTransport.IO_URING))
                .hasMessage("-Dsluice.iouring.bufferRingSize: 100 is not a power of two from 2 to 16384"));
    }

    private static void withProperty(String name, String value, Runnable r) {
        String before = System.getProperty(name);
        System.setProperty(name, value);
        try {
            r.run();
        } finally {
            if (before == null) {
                System.clearProperty(name);
            } else {
                System.setProperty(name, before);
            }
        }
    }
}

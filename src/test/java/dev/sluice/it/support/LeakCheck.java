package dev.sluice.it.support;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Turns Netty's leak reports into test failures. Netty only logs a leaked buffer (at ERROR,
 * "LEAK: ..."), and only after the garbage collector found it; this extension collects those log
 * events (through the {@link Appender} configured in logback-test.xml) and, after every test
 * class, runs the collector, allocates a few buffers so the detector polls its queue, and fails
 * the class if anything leaked. Registered for all tests through the service loader.
 */
public final class LeakCheck implements AfterAllCallback {
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    @Override
    public void afterAll(ExtensionContext context) {
        for (int round = 0; round < 3 && LEAKS.isEmpty(); round++) {
            System.gc();
            for (int i = 0; i < 64; i++) {
                ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(16);
                b.release();
            }
        }
        if (!LEAKS.isEmpty()) {
            String first = LEAKS.get(0);
            int n = LEAKS.size();
            LEAKS.clear();
            throw new AssertionError(n + " ByteBuf leak(s) reported by Netty during "
                    + context.getDisplayName() + "; first:\n" + first);
        }
    }

    /** Logback appender that records Netty's leak reports. */
    public static final class Appender extends AppenderBase<ILoggingEvent> {
        @Override
        protected void append(ILoggingEvent event) {
            String m = event.getFormattedMessage();
            if (m != null && m.startsWith("LEAK:")) {
                LEAKS.add(m);
            }
        }
    }
}

package dev.sluice.frontend;

import io.netty.channel.Channel;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;
import java.util.List;

/**
 * Defers flushes to the end of the event loop's current round. Writes made while the loop works
 * through a batch of ready sockets go out together, after the batch, instead of one system call
 * (and one wake-up of PostgreSQL or a client, which may preempt this thread) per message. A flush
 * requested outside an event loop happens at once.
 *
 * <p>One instance per event-loop thread; not thread-safe beyond that.
 */
final class Flusher implements Runnable {
    private static final FastThreadLocal<Flusher> PER_LOOP = new FastThreadLocal<>();

    private final List<Channel> pending = new ArrayList<>();
    private boolean scheduled;

    /** Flushes {@code c} at the end of the current round of {@code current}'s event loop. */
    static void flushLater(Channel current, Channel c) {
        if (!current.eventLoop().inEventLoop()) {
            c.flush();
            return;
        }
        Flusher f = PER_LOOP.get();
        if (f == null) {
            f = new Flusher();
            PER_LOOP.set(f);
        }
        f.add(current, c);
    }

    private void add(Channel current, Channel c) {
        pending.add(c);
        if (!scheduled) {
            scheduled = true;
            // runs after the loop has handled every ready socket of this round
            current.eventLoop().execute(this);
        }
    }

    @Override
    public void run() {
        scheduled = false;
        for (int i = 0; i < pending.size(); i++) {
            pending.get(i).flush();
        }
        pending.clear();
    }
}

package dev.sluice.pool;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.IdentityHashMap;
import java.util.Map;

/** A dense number for each event loop of the group, fixed at start-up and read without locks. */
public final class LoopIndex {
    private final Map<EventExecutor, Integer> index = new IdentityHashMap<>();

    public LoopIndex(EventLoopGroup group) {
        int i = 0;
        for (EventExecutor e : group) {
            index.put(e, i++);
        }
    }

    public int size() {
        return index.size();
    }

    /** The number of {@code loop}; 0 for a loop outside the group. */
    public int index(EventLoop loop) {
        Integer i = index.get(loop);
        return i == null ? 0 : i;
    }
}

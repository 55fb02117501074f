package dev.sluice.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FrameBufferTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    private final FrameBuffer frames = new FrameBuffer(1024);
    private final List<ByteBuf> fed = new ArrayList<>();

    @AfterEach
    void releaseAndCheck() {
        frames.release();
        for (ByteBuf b : fed) {
            assertThat(b.refCnt()).as("every buffer handed to the frame buffer is released").isZero();
        }
    }

    @Test
    void nextFrame_frameSplitByteByByte_completeOnlyAtTheLastByte() {
        byte[] query = query("SELECT 1");

        for (int i = 0; i < query.length - 1; i++) {
            add(Unpooled.wrappedBuffer(query, i, 1));
            assertThat(frames.nextFrame()).as("after %d bytes", i + 1).isZero();
        }
        add(Unpooled.wrappedBuffer(query, query.length - 1, 1));

        assertThat(frames.nextFrame()).isEqualTo(query.length);
        assertThat(frames.type()).isEqualTo((byte) 'Q');
        assertThat(frames.buffer().toString(frames.buffer().readerIndex() + 5, query.length - 6, StandardCharsets.UTF_8))
                .isEqualTo("SELECT 1");
    }

    @Test
    void nextFrame_severalFramesInOneBuffer_walkedInOrder() {
        byte[] q1 = query("SELECT 1");
        byte[] sync = {'S', 0, 0, 0, 4};
        byte[] q2 = query("SELECT 22");
        ByteBuf all = ALLOC.buffer();
        all.writeBytes(q1).writeBytes(sync).writeBytes(q2);
        add(all);

        List<Character> types = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        int size;
        while ((size = frames.nextFrame()) > 0) {
            types.add((char) frames.type());
            sizes.add(size);
            frames.buffer().skipBytes(size);
        }

        assertThat(types).containsExactly('Q', 'S', 'Q');
        assertThat(sizes).containsExactly(q1.length, 5, q2.length);
        assertThat(frames.isReadable()).isFalse();
    }

    @Test
    void nextFrame_frameThenPartialFrame_secondCompletesWhenItsBytesArrive() {
        byte[] q1 = query("SELECT 1");
        byte[] q2 = query("SELECT 2");
        addFrameAndStartOf(q1, q2);

        assertThat(frames.nextFrame()).isEqualTo(q1.length);
        frames.buffer().skipBytes(q1.length);
        assertThat(frames.nextFrame()).isZero();
        assertThat(frames.isReadable()).isTrue();

        add(Unpooled.wrappedBuffer(q2, 3, q2.length - 3));
        assertThat(frames.nextFrame()).isEqualTo(q2.length);
    }

    @Test
    void nextFrame_lengthBelowFour_protocolExceptionNamingTheLength() {
        add(Unpooled.wrappedBuffer(new byte[] {'Q', 0, 0, 0, 3}));

        assertThatThrownBy(frames::nextFrame)
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("invalid message length: 3")
                .hasMessageContaining("'Q'");
    }

    @Test
    void nextFrame_lengthAboveMax_protocolExceptionNamingTheLengthAndTheMax() {
        ByteBuf b = ALLOC.buffer();
        b.writeByte('P').writeInt(1025);
        add(b);

        assertThatThrownBy(frames::nextFrame)
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("1025")
                .hasMessageContaining("4 to 1024");
    }

    @Test
    void nextFrame_lengthAtMax_accepted() {
        ByteBuf b = ALLOC.buffer();
        b.writeByte('d').writeInt(1024).writeZero(1020);
        add(b);

        assertThat(frames.nextFrame()).isEqualTo(1025);
    }

    @Test
    void maxLength_raised_acceptsLongerFrames() {
        ByteBuf b = ALLOC.buffer();
        b.writeByte('d').writeInt(2000).writeZero(1996);
        add(b);
        assertThatThrownBy(frames::nextFrame).isInstanceOf(ProtocolException.class);

        frames.maxLength(4096);

        assertThat(frames.nextFrame()).isEqualTo(2001);
    }

    @Test
    void nextFrame_nothingAdded_zero() {
        assertThat(frames.nextFrame()).isZero();
        assertThat(frames.isReadable()).isFalse();
        assertThat(frames.buffer()).isNull();
    }

    @Test
    void nextFrame_unprintableType_escapedInTheMessage() {
        add(Unpooled.wrappedBuffer(new byte[] {1, 0, 0, 0, 0}));

        assertThatThrownBy(frames::nextFrame).hasMessageContaining("'\\x01'");
    }

    @Test
    void discardIfEmpty_everythingRead_releasesTheBuffer() {
        ByteBuf b = ALLOC.buffer();
        b.writeBytes(query("SELECT 1"));
        add(b);
        int size = frames.nextFrame();
        frames.buffer().skipBytes(size);

        frames.discardIfEmpty();

        assertThat(b.refCnt()).isZero();
        assertThat(frames.buffer()).isNull();
        assertThat(frames.isReadable()).isFalse();
    }

    @Test
    void discardIfEmpty_bytesLeft_keepsTheBuffer() {
        ByteBuf b = ALLOC.buffer();
        b.writeBytes(query("SELECT 1"), 0, 4);
        add(b);

        frames.discardIfEmpty();

        assertThat(b.refCnt()).isOne();
        assertThat(frames.isReadable()).isTrue();
    }

    @Test
    void release_calledTwice_releasesOnce() {
        ByteBuf b = ALLOC.buffer();
        b.writeBytes(query("SELECT 1"));
        add(b);

        frames.release();
        frames.release();

        assertThat(b.refCnt()).isZero();
        assertThat(frames.buffer()).isNull();
    }

    @Test
    void add_afterRelease_startsAfresh() {
        add(Unpooled.wrappedBuffer(query("SELECT 1"), 0, 2));
        frames.release();

        byte[] q = query("SELECT 2");
        add(Unpooled.wrappedBuffer(q));

        assertThat(frames.nextFrame()).isEqualTo(q.length);
    }

    @Test
    void retainedSlice_outlivesDiscard() {
        byte[] q = query("SELECT 1");
        add(Unpooled.copiedBuffer(q));
        int size = frames.nextFrame();
        ByteBuf slice = frames.buffer().retainedSlice(frames.buffer().readerIndex(), size);
        frames.buffer().skipBytes(size);

        frames.discardIfEmpty();

        try {
            assertThat(slice.getByte(0)).isEqualTo((byte) 'Q');
            assertThat(slice.readableBytes()).isEqualTo(q.length);
        } finally {
            slice.release();
        }
    }

    @Test
    void takeRun_runToTheEnd_isTheBufferItselfWithItsReference_andTheHolderStartsEmpty() {
        byte[] q1 = query("SELECT 1");
        byte[] q2 = query("SELECT 2");
        addFrameAndStartOf(q1, q2);
        frames.buffer().skipBytes(frames.nextFrame());
        add(Unpooled.wrappedBuffer(q2, 3, q2.length - 3)); // cumulated behind the frame already read
        ByteBuf whole = frames.buffer();
        int runStart = whole.readerIndex();
        whole.skipBytes(frames.nextFrame());

        ByteBuf run = frames.takeRun(runStart);
        try {
            assertThat(run).isSameAs(whole);
            assertThat(frames.buffer()).isNull();
            assertThat(run.refCnt()).isEqualTo(1);
            assertThat(readable(run)).isEqualTo(q2);
            frames.release(); // nothing left to release: the taker owns it
            assertThat(run.refCnt()).isEqualTo(1);
        } finally {
            run.release();
        }
        add(Unpooled.copiedBuffer(q1)); // and the holder takes new bytes as before
        assertThat(frames.nextFrame()).isEqualTo(q1.length);
    }

    @Test
    void takeRun_withBytesAfterTheRun_isARetainedSliceOfTheRunOnly() {
        byte[] q1 = query("SELECT 1");
        byte[] q2 = query("SELECT 2");
        addFrameAndStartOf(q1, q2);
        ByteBuf held = frames.buffer();
        held.skipBytes(frames.nextFrame());

        ByteBuf run = frames.takeRun(0);
        try {
            assertThat(run).isNotSameAs(held);
            assertThat(readable(run)).isEqualTo(q1);
            assertThat(frames.buffer()).isSameAs(held);
            assertThat(held.refCnt()).isEqualTo(2);
        } finally {
            run.release();
        }
        assertThat(frames.isReadable()).isTrue();
        assertThat(frames.takeRun(-1)).isNull(); // no run
        assertThat(frames.takeRun(held.readerIndex())).isNull(); // an empty one
    }

    private static byte[] readable(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), out);
        return out;
    }

    /** One buffer holding all of {@code whole} and the first 3 bytes of {@code partial}. */
    private void addFrameAndStartOf(byte[] whole, byte[] partial) {
        ByteBuf b = ALLOC.buffer();
        b.writeBytes(whole).writeBytes(partial, 0, 3);
        add(b);
    }

    private void add(ByteBuf b) {
        fed.add(b);
        frames.add(ALLOC, b);
    }

    private static byte[] query(String sql) {
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = Unpooled.buffer();
        b.writeByte('Q').writeInt(4 + text.length + 1).writeBytes(text).writeByte(0);
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        b.release();
        return out;
    }
}

package dev.sluice.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.ByteToMessageDecoder;

/**
 * Bytes of one direction of a connection, accumulated until they hold complete typed frames
 * ({@code type:1 length:4 body:length-4}), walked in place without copying.
 *
 * <p>Ownership: {@link #add} takes ownership of the buffer passed in. Callers hand frames on as
 * retained slices of {@link #buffer()}, or take the last run with {@link #takeRun}, so no
 * payload is copied. {@link #release()} frees what is
 * left; once everything was read, {@link #discardIfEmpty()} returns the memory to the pool so an
 * idle connection holds no buffer.
 *
 * <p>Not thread-safe: one event loop owns an instance.
 */
public final class FrameBuffer {
    private int maxLength;
    private ByteBuf buf;

    /** @param maxLength the largest length field accepted (the length counts itself, not the type byte) */
    public FrameBuffer(int maxLength) {
        this.maxLength = maxLength;
    }

    /** Changes the largest length accepted, e.g. once a client has authenticated. */
    public void maxLength(int maxLength) {
        this.maxLength = maxLength;
    }

    /** Appends {@code in}, taking ownership of it. */
    public void add(ByteBufAllocator alloc, ByteBuf in) {
        buf = buf == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(alloc, buf, in);
    }

    /**
     * The total size (type byte included) of the complete frame at the reader index, or 0 when
     * the frame is not complete yet.
     *
     * @throws ProtocolException if the length field is below 4 or above the maximum
     */
    public int nextFrame() {
        if (buf == null || buf.readableBytes() < 5) {
            return 0;
        }
        int r = buf.readerIndex();
        int length = buf.getInt(r + 1);
        if (length < 4 || length > maxLength) {
            throw new ProtocolException("invalid message length: " + length + " (expected: 4 to " + maxLength
                    + ") for message type '" + printable(buf.getByte(r)) + "'");
        }
        return buf.readableBytes() >= length + 1 ? length + 1 : 0;
    }

    /** The type byte of the frame at the reader index; call only after {@link #nextFrame()} returned non-zero. */
    public byte type() {
        return buf.getByte(buf.readerIndex());
    }

    /** The accumulated bytes; the reader index is at the next unprocessed frame. */
    public ByteBuf buffer() {
        return buf;
    }

    /** Whether unprocessed bytes remain (a partial frame, or frames not walked yet). */
    public boolean isReadable() {
        return buf != null && buf.isReadable();
    }

    /**
     * The frames {@code [runStart, readerIndex)} as a buffer the caller owns, to write on: the
     * buffer itself when they are all it holds (this holder then starts empty), which spares a
     * slice and two reference count updates, else a retained slice. Null when the run is empty.
     */
    public ByteBuf takeRun(int runStart) {
        if (buf == null || runStart < 0 || buf.readerIndex() <= runStart) {
            return null;
        }
        if (buf.isReadable()) {
            return buf.retainedSlice(runStart, buf.readerIndex() - runStart);
        }
        ByteBuf b = buf;
        buf = null;
        return b.readerIndex(runStart);
    }

    /** Releases the buffer once everything in it was read, so idle connections hold no memory. */
    public void discardIfEmpty() {
        if (buf != null && !buf.isReadable()) {
            buf.release();
            buf = null;
        }
    }

    /** Releases everything still held. Idempotent. */
    public void release() {
        if (buf != null) {
            buf.release();
            buf = null;
        }
    }

    static String printable(byte b) {
        return b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff);
    }
}

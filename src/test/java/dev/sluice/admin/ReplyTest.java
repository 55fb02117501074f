package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.protocol.Messages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplyTest {
    private static final ByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);

    /** One decoded message: type byte and body. */
    private record Message(char type, ByteBuf body) {
    }

    private static List<Message> messages(ByteBuf b) {
        List<Message> out = new ArrayList<>();
        while (b.isReadable()) {
            char type = (char) b.readByte();
            int length = b.readInt();
            out.add(new Message(type, b.readSlice(length - 4)));
        }
        return out;
    }

    private static String cstring(ByteBuf b) {
        String s = Messages.cstringAt(b, b.readerIndex(), b.writerIndex());
        b.skipBytes(s.getBytes(StandardCharsets.UTF_8).length + 1);
        return s;
    }

    @Test
    void table_encodesRowDescriptionDataRowsAndCommandComplete() {
        Reply.Table t = new Reply.Table("SHOW").text("database").int4("cl_active").int8("total").timestamp("at")
                .row("app", 3, 40_000_000_000L, null)
                .row("dé", 0, -1L, "2024-01-02 03:04:05+00");
        ByteBuf b = t.encode(ALLOC);
        try {
            List<Message> m = messages(b);
            assertThat(m).extracting(Message::type).containsExactly('T', 'D', 'D', 'C');

            ByteBuf desc = m.get(0).body();
            assertThat(desc.readShort()).isEqualTo((short) 4);
            int[][] expected = {{25, -1}, {23, 4}, {20, 8}, {1184, 8}};
            String[] names = {"database", "cl_active", "total", "at"};
            for (int i = 0; i < 4; i++) {
                assertThat(cstring(desc)).isEqualTo(names[i]);
                assertThat(desc.readInt()).isZero();
                assertThat(desc.readShort()).isZero();
                assertThat(desc.readInt()).isEqualTo(expected[i][0]);
                assertThat(desc.readShort()).isEqualTo((short) expected[i][1]);
                assertThat(desc.readInt()).isEqualTo(-1);
                assertThat(desc.readShort()).isZero();
            }
            assertThat(desc.isReadable()).isFalse();

            assertThat(values(m.get(1).body())).containsExactly("app", "3", "40000000000", null);
            assertThat(values(m.get(2).body())).containsExactly("dé", "0", "-1", "2024-01-02 03:04:05+00");
            assertThat(cstring(m.get(3).body())).isEqualTo("SHOW");
        } finally {
            b.release();
        }
    }

    private static List<String> values(ByteBuf row) {
        int n = row.readShort();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int length = row.readInt();
            out.add(length < 0 ? null : row.readCharSequence(length, StandardCharsets.UTF_8).toString());
        }
        assertThat(row.isReadable()).isFalse();
        return out;
    }

    @Test
    void table_refusesRowsOfTheWrongWidth_andColumnsAfterRows() {
        Reply.Table t = new Reply.Table("SHOW").text("a").text("b");
        assertThatThrownBy(() -> t.row("x")).isInstanceOf(IllegalArgumentException.class);
        t.row("x", "y");
        assertThatThrownBy(() -> t.text("c")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void emptyTable_stillDescribesItsColumns() {
        ByteBuf b = new Reply.Table("SHOW").text("version").encode(ALLOC);
        try {
            assertThat(messages(b)).extracting(Message::type).containsExactly('T', 'C');
        } finally {
            b.release();
        }
    }

    @Test
    void tagErrorNoticeAndEmptyQuery() {
        ByteBuf tag = Reply.tag("PAUSE").encode(ALLOC);
        ByteBuf error = Reply.error("42601", "bad").encode(ALLOC);
        ByteBuf notice = Reply.notice("Console usage", "SHOW HELP", Reply.tag("SHOW")).encode(ALLOC);
        ByteBuf empty = Reply.emptyQuery().encode(ALLOC);
        try {
            List<Message> t = messages(tag);
            assertThat(t).extracting(Message::type).containsExactly('C');
            assertThat(cstring(t.getFirst().body())).isEqualTo("PAUSE");
            ByteBuf e = messages(error).getFirst().body();
            assertThat(Messages.errorField(error, 0, error.writerIndex(), 'C')).isEqualTo("42601");
            assertThat(e.isReadable()).isTrue();
            List<Message> n = messages(notice);
            assertThat(n).extracting(Message::type).containsExactly('N', 'C');
            assertThat(Messages.errorField(notice, 0, notice.writerIndex(), 'D')).isEqualTo("SHOW HELP");
            assertThat(Messages.errorField(notice, 0, notice.writerIndex(), 'M')).isEqualTo("Console usage");
            assertThat(messages(empty)).extracting(Message::type).containsExactly('I');
        } finally {
            tag.release();
            error.release();
            notice.release();
            empty.release();
        }
    }
}

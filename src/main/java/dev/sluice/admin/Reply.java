package dev.sluice.admin;

import dev.sluice.protocol.BackendType;
import dev.sluice.protocol.Messages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What the console answers to one command, built off the event loop and encoded on it: a result
 * table, a bare command tag, or an error, optionally preceded by a notice. Encoding writes
 * RowDescription, DataRows and CommandComplete (or ErrorResponse) into one new buffer the caller
 * owns; ReadyForQuery is the frontend's.
 */
sealed interface Reply {

    /** The whole answer in one buffer. */
    ByteBuf encode(ByteBufAllocator alloc);

    static Reply tag(String tag) {
        return new Tag(tag);
    }

    static Reply error(String sqlState, String message) {
        return new Failure(sqlState, message);
    }

    /** A NoticeResponse with a message and an optional detail, then {@code then}. */
    static Reply notice(String message, String detail, Reply then) {
        return new Notice(message, detail, then);
    }

    /** EmptyQueryResponse, PostgreSQL's answer to a query string with no command. */
    static Reply emptyQuery() {
        return new EmptyQuery();
    }

    /** PostgreSQL's type OIDs for the column types the console uses, with their sizes. */
    enum Type {
        TEXT(25, -1), INT4(23, 4), INT8(20, 8), TIMESTAMPTZ(1184, 8);

        final int oid;
        final short size;

        Type(int oid, int size) {
            this.oid = oid;
            this.size = (short) size;
        }
    }

    /** One column of a result table. */
    record Column(String name, Type type) {
    }

    /**
     * A result set: columns, then rows of values in text format ({@code null} is SQL NULL; numbers
     * are written with {@link String#valueOf}), ended by CommandComplete {@code tag} ("SHOW").
     */
    final class Table implements Reply {
        private final List<Column> columns = new ArrayList<>();
        private final List<String[]> rows = new ArrayList<>();
        private final String tag;

        Table(String tag) {
            this.tag = tag;
        }

        Table text(String name) {
            return column(name, Type.TEXT);
        }

        Table int4(String name) {
            return column(name, Type.INT4);
        }

        Table int8(String name) {
            return column(name, Type.INT8);
        }

        Table timestamp(String name) {
            return column(name, Type.TIMESTAMPTZ);
        }

        private Table column(String name, Type type) {
            if (!rows.isEmpty()) {
                throw new IllegalStateException("columns come before rows");
            }
            columns.add(new Column(name, type));
            return this;
        }

        /** Adds a row; {@code values} match the columns one to one. */
        Table row(Object... values) {
            if (values.length != columns.size()) {
                throw new IllegalArgumentException("row of " + values.length + " values for " + columns.size()
                        + " columns");
            }
            String[] texts = new String[values.length];
            for (int i = 0; i < values.length; i++) {
                texts[i] = values[i] == null ? null : String.valueOf(values[i]);
            }
            rows.add(texts);
            return this;
        }

        List<Column> columns() {
            return List.copyOf(columns);
        }

        List<String[]> rows() {
            return List.copyOf(rows);
        }

        @Override
        public ByteBuf encode(ByteBufAllocator alloc) {
            ByteBuf b = alloc.buffer(64 + columns.size() * 32 + rows.size() * columns.size() * 12);
            int start = b.writerIndex();
            b.writeByte(BackendType.ROW_DESCRIPTION.code());
            b.writeInt(0);
            b.writeShort(columns.size());
            for (Column c : columns) {
                Messages.cstring(b, c.name());
                b.writeInt(0); // no table
                b.writeShort(0); // no column number
                b.writeInt(c.type().oid);
                b.writeShort(c.type().size);
                b.writeInt(-1); // no type modifier
                b.writeShort(0); // text format
            }
            Messages.finish(b, start);
            for (String[] row : rows) {
                start = b.writerIndex();
                b.writeByte(BackendType.DATA_ROW.code());
                b.writeInt(0);
                b.writeShort(row.length);
                for (String v : row) {
                    if (v == null) {
                        b.writeInt(-1);
                    } else {
                        int lengthAt = b.writerIndex();
                        b.writeInt(0);
                        int n = b.writeCharSequence(v, StandardCharsets.UTF_8);
                        b.setInt(lengthAt, n);
                    }
                }
                Messages.finish(b, start);
            }
            writeTag(b, tag);
            return b;
        }
    }

    private static void writeTag(ByteBuf b, String tag) {
        int start = b.writerIndex();
        b.writeByte(BackendType.COMMAND_COMPLETE.code());
        b.writeInt(0);
        Messages.cstring(b, tag);
        Messages.finish(b, start);
    }

    record Tag(String tag) implements Reply {
        @Override
        public ByteBuf encode(ByteBufAllocator alloc) {
            ByteBuf b = alloc.buffer(8 + tag.length());
            writeTag(b, tag);
            return b;
        }
    }

    record Failure(String sqlState, String message) implements Reply {
        @Override
        public ByteBuf encode(ByteBufAllocator alloc) {
            return Messages.errorResponse(alloc, "ERROR", sqlState, message);
        }
    }

    record EmptyQuery() implements Reply {
        @Override
        public ByteBuf encode(ByteBufAllocator alloc) {
            return Messages.empty(alloc, BackendType.EMPTY_QUERY_RESPONSE.code());
        }
    }

    record Notice(String message, String detail, Reply then) implements Reply {
        @Override
        public ByteBuf encode(ByteBufAllocator alloc) {
            ByteBuf b = alloc.buffer(64 + message.length() + (detail == null ? 0 : detail.length()) * 3);
            int start = b.writerIndex();
            b.writeByte(BackendType.NOTICE_RESPONSE.code());
            b.writeInt(0);
            field(b, 'S', "NOTICE");
            field(b, 'V', "NOTICE");
            field(b, 'C', "00000");
            field(b, 'M', message);
            if (detail != null) {
                field(b, 'D', detail);
            }
            b.writeByte(0);
            Messages.finish(b, start);
            ByteBuf rest = then.encode(alloc);
            try {
                b.writeBytes(rest);
            } finally {
                rest.release();
            }
            return b;
        }

        private static void field(ByteBuf b, char code, String value) {
            b.writeByte(code);
            Messages.cstring(b, value);
        }
    }
}

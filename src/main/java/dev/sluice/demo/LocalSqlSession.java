package dev.sluice.demo;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Just enough of the PostgreSQL frontend protocol (v3: StartupMessage, trust authentication,
 * simple Query) to run setup SQL as the superuser over the server's private Unix socket. The
 * binaries archive has no {@code psql} and pgjdbc is only a test dependency, hence this.
 *
 * <p>Every wait is bounded: a watchdog closes the socket when the deadline passes.
 */
final class LocalSqlSession implements AutoCloseable {

    private static final int PROTOCOL_3_0 = 196608;
    private static final int MAX_MESSAGE = 16 * 1024 * 1024;

    private final SocketChannel channel;
    private final Duration timeout;

    private LocalSqlSession(SocketChannel channel, Duration timeout) {
        this.channel = channel;
        this.timeout = timeout;
    }

    /** Logs in as {@code user} to {@code database} through the socket in {@code socketDir}. */
    static LocalSqlSession open(Path socketDir, int port, String user, String database, Duration timeout)
            throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        LocalSqlSession session = new LocalSqlSession(channel, timeout);
        try {
            session.guarded(() -> {
                channel.connect(UnixDomainSocketAddress.of(socketDir.resolve(".s.PGSQL." + port)));
                byte[] params = ("user\0" + user + "\0database\0" + database + "\0\0").getBytes(StandardCharsets.UTF_8);
                ByteBuffer startup = ByteBuffer.allocate(8 + params.length);
                startup.putInt(8 + params.length).putInt(PROTOCOL_3_0).put(params).flip();
                session.writeFully(startup);
                session.readUntilReady("login as " + user + " to " + database);
            });
        } catch (IOException | RuntimeException e) {
            session.close();
            throw e;
        }
        return session;
    }

    /** Runs {@code sql} (one or more statements) with the simple Query protocol; fails on an ErrorResponse. */
    void execute(String sql) throws IOException {
        guarded(() -> {
            byte[] text = (sql + "\0").getBytes(StandardCharsets.UTF_8);
            ByteBuffer query = ByteBuffer.allocate(5 + text.length);
            query.put((byte) 'Q').putInt(4 + text.length).put(text).flip();
            writeFully(query);
            readUntilReady(sql);
        });
    }

    @Override
    public void close() {
        try {
            if (channel.isOpen() && channel.isConnected()) {
                ByteBuffer terminate = ByteBuffer.allocate(5).put((byte) 'X').putInt(4).flip();
                channel.write(terminate);
            }
        } catch (IOException ignored) {
            // the server may already be gone; closing is all that is left to do
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing more to release
        }
    }

    private interface Step {
        void run() throws IOException;
    }

    private void guarded(Step step) throws IOException {
        CompletableFuture<Void> watchdog = CompletableFuture.runAsync(this::close,
                CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS));
        try {
            step.run();
        } catch (IOException e) {
            if (watchdog.isDone()) {
                throw new IOException("PostgreSQL did not answer within " + timeout, e);
            }
            throw e;
        } finally {
            watchdog.cancel(false);
        }
    }

    /** Reads backend messages until ReadyForQuery; throws the first ErrorResponse seen. */
    private void readUntilReady(String what) throws IOException {
        String error = null;
        while (true) {
            ByteBuffer header = readFully(5);
            byte type = header.get();
            int length = header.getInt();
            if (length < 4 || length > MAX_MESSAGE) {
                throw new IOException("unexpected message length " + length + " from PostgreSQL");
            }
            ByteBuffer body = readFully(length - 4);
            switch (type) {
                case 'R' -> {
                    int code = body.getInt();
                    if (code != 0) {
                        throw new IOException("PostgreSQL asked for authentication (code " + code
                                + ") on the local socket; the superuser must be trusted there");
                    }
                }
                case 'E' -> {
                    if (error == null) {
                        error = describeError(body);
                    }
                }
                case 'Z' -> {
                    if (error != null) {
                        throw new IOException("SQL failed: " + error + " in: " + abbreviate(what));
                    }
                    return;
                }
                default -> {
                    // ParameterStatus, BackendKeyData, NoticeResponse, CommandComplete, rows: not needed
                }
            }
        }
    }

    private static String describeError(ByteBuffer body) {
        String message = "?";
        String code = "?";
        while (body.hasRemaining()) {
            byte field = body.get();
            if (field == 0) {
                break;
            }
            int start = body.position();
            while (body.get() != 0) {
                // scan to the terminator
            }
            String value = new String(body.array(), start, body.position() - start - 1, StandardCharsets.UTF_8);
            if (field == 'M') {
                message = value;
            } else if (field == 'C') {
                code = value;
            }
        }
        return message + " (SQLSTATE " + code + ")";
    }

    private static String abbreviate(String sql) {
        String flat = sql.replaceAll("\\s+", " ").trim();
        return flat.length() <= 200 ? flat : flat.substring(0, 200) + "...";
    }

    private void writeFully(ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private ByteBuffer readFully(int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new IOException("PostgreSQL closed the connection");
            }
        }
        return buffer.flip();
    }
}

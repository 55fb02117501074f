package dev.sluice.it.support;

import dev.sluice.protocol.Messages;
import dev.sluice.protocol.auth.AuthException;
import dev.sluice.protocol.auth.Md5Password;
import dev.sluice.protocol.auth.ScramClient;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A PostgreSQL wire-protocol client over a plain {@link Socket}, for tests that need exact bytes:
 * malformed input, abrupt disconnects, reading what a server sends unasked. Every read is bounded
 * by the socket timeout given at connect. Not thread-safe.
 */
public final class WireClient implements AutoCloseable {

    /** One backend message: its type byte and body (length field excluded). */
    public record Message(char type, byte[] body) {

        /** A field of an ErrorResponse or NoticeResponse ('C' SQLSTATE, 'M' message...), or {@code null}. */
        public String field(char code) {
            int i = 0;
            while (i < body.length && body[i] != 0) {
                int nul = i + 1;
                while (nul < body.length && body[nul] != 0) {
                    nul++;
                }
                if (body[i] == code) {
                    return new String(body, i + 1, nul - i - 1, StandardCharsets.UTF_8);
                }
                i = nul + 1;
            }
            return null;
        }

        public String sqlState() {
            return field('C');
        }

        @Override
        public String toString() {
            return type == 'E' || type == 'N' ? type + "[" + field('C') + " " + field('M') + "]" : type + "(" + body.length + ")";
        }
    }

    /** The type bytes of {@code messages}, in order. */
    public static List<Character> types(List<Message> messages) {
        return messages.stream().map(Message::type).toList();
    }

    /** The first column of the first DataRow in {@code messages} as text, null for SQL NULL. */
    public static String firstValue(List<Message> messages) {
        Message row = messages.stream().filter(m -> m.type() == 'D').findFirst()
                .orElseThrow(() -> new AssertionError("no row in " + messages));
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(row.body());
        buf.getShort();
        int len = buf.getInt();
        return len < 0 ? null : new String(row.body(), buf.position(), len, StandardCharsets.UTF_8);
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    private WireClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** Opens a TCP connection; every later read waits at most {@code readTimeout}. */
    public static WireClient connect(String host, int port, Duration readTimeout) throws IOException {
        Socket s = new Socket(host, port);
        s.setTcpNoDelay(true);
        s.setSoTimeout((int) readTimeout.toMillis());
        return new WireClient(s);
    }

    public Socket socket() {
        return socket;
    }

    /** Writes raw bytes in one call (they usually leave in one TCP segment). */
    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** A StartupMessage for protocol 3.0 with {@code user} and {@code database}. */
    public static byte[] startupPacket(String user, String database) {
        return startupPacket(user, database, Map.of());
    }

    /** A StartupMessage for protocol 3.0 with {@code user}, {@code database} and {@code more} parameters. */
    public static byte[] startupPacket(String user, String database, Map<String, String> more) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("user", user);
        p.put("database", database);
        p.putAll(more);
        var b = Messages.startupMessage(UnpooledByteBufAllocator.DEFAULT, p);
        try {
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            return bytes;
        } finally {
            b.release();
        }
    }

    /** A typed frame: type, length, body. */
    public static byte[] frame(char type, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(5 + body.length);
        b.put((byte) type).putInt(4 + body.length).put(body);
        return b.array();
    }

    /** A simple Query frame. */
    public static byte[] query(String sql) {
        return frame('Q', cstring(sql));
    }

    public static byte[] cstring(String s) {
        byte[] t = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[t.length + 1];
        System.arraycopy(t, 0, out, 0, t.length);
        return out;
    }

    /**
     * Sends a StartupMessage and completes the password exchange (trust, md5 or SCRAM-SHA-256),
     * reading up to the first ReadyForQuery.
     *
     * @return the messages received after authentication (ParameterStatus, BackendKeyData, ReadyForQuery)
     * @throws IOException if the server refused (the ErrorResponse is in the message) or went away
     */
    public List<Message> login(String user, String password, String database) throws IOException {
        return login(user, password, database, Map.of());
    }

    /** As {@link #login(String, String, String)}, with more startup parameters. */
    public List<Message> login(String user, String password, String database, Map<String, String> more) throws IOException {
        send(startupPacket(user, database, more));
        ScramClient scram = null;
        List<Message> after = new ArrayList<>();
        while (true) {
            Message m = read();
            switch (m.type()) {
                case 'R' -> {
                    int code = ByteBuffer.wrap(m.body()).getInt();
                    try {
                        switch (code) {
                            case Messages.AUTH_OK -> {
                            }
                            case Messages.AUTH_MD5 -> {
                                byte[] salt = new byte[4];
                                System.arraycopy(m.body(), 4, salt, 0, 4);
                                send(frame('p', cstring(Md5Password.response(user, password, salt))));
                            }
                            case Messages.AUTH_SASL -> {
                                scram = new ScramClient(password);
                                byte[] first = scram.clientFirstMessage().getBytes(StandardCharsets.UTF_8);
                                ByteArrayOutputStream body = new ByteArrayOutputStream();
                                body.writeBytes(cstring("SCRAM-SHA-256"));
                                body.writeBytes(ByteBuffer.allocate(4).putInt(first.length).array());
                                body.writeBytes(first);
                                send(frame('p', body.toByteArray()));
                            }
                            case Messages.AUTH_SASL_CONTINUE -> {
                                String serverFirst = new String(m.body(), 4, m.body().length - 4, StandardCharsets.UTF_8);
                                send(frame('p', scram.clientFinalMessage(serverFirst).getBytes(StandardCharsets.UTF_8)));
                            }
                            case Messages.AUTH_SASL_FINAL ->
                                    scram.verifyServerFinal(new String(m.body(), 4, m.body().length - 4, StandardCharsets.UTF_8));
                            default -> throw new IOException("unsupported authentication request " + code);
                        }
                    } catch (AuthException e) {
                        throw new IOException(e.getMessage(), e);
                    }
                }
                case 'E' -> throw new IOException("login refused: " + m);
                case 'Z' -> {
                    after.add(m);
                    return after;
                }
                default -> after.add(m);
            }
        }
    }

    /** Sends a simple query and reads up to its ReadyForQuery; returns every message received. */
    public List<Message> simpleQuery(String sql) throws IOException {
        send(query(sql));
        return readUntilReady();
    }

    /** Reads messages up to and including the next ReadyForQuery. */
    public List<Message> readUntilReady() throws IOException {
        List<Message> got = new ArrayList<>();
        while (true) {
            Message m = read();
            got.add(m);
            if (m.type() == 'Z') {
                return got;
            }
        }
    }

    /** Reads one typed message; {@link EOFException} if the server closed the connection first. */
    public Message read() throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("server closed the connection");
        }
        int length = in.readInt();
        if (length < 4 || length > 64 * 1024 * 1024) {
            throw new IOException("bad length from server: " + length);
        }
        byte[] body = new byte[length - 4];
        in.readFully(body);
        return new Message((char) type, body);
    }

    /** Reads one untyped byte (the answer to SSLRequest or GSSENCRequest); -1 at end of stream. */
    public int readByte() throws IOException {
        return in.read();
    }

    /**
     * Reads every message until the server closes the connection.
     *
     * @throws SocketTimeoutException if the server neither sends nor closes within the read timeout
     */
    public List<Message> readUntilClosed() throws IOException {
        List<Message> got = new ArrayList<>();
        while (true) {
            int type = in.read();
            if (type < 0) {
                return got;
            }
            int length = in.readInt();
            byte[] body = new byte[length - 4];
            in.readFully(body);
            got.add(new Message((char) type, body));
        }
    }

    /** Whether the server closed the connection: the next read returns end of stream. */
    public boolean isClosedByServer() throws IOException {
        return in.read() < 0;
    }

    /** Closes at once with a TCP reset (SO_LINGER 0): the peer sees no Terminate, no FIN. */
    public void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

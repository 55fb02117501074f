package dev.sluice.cli;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.slf4j.event.KeyValuePair;

/**
 * Writes each log event as one JSON object on one line, for log shippers:
 * <pre>
 * {"timestamp":"2025-06-01T12:00:00.123Z","level":"WARN","logger":"dev.sluice.frontend.ClientSession",
 *  "thread":"epollEventLoopGroup-2-1","message":"client 7: ...","client":7,"exception":"java.io..."}
 * </pre>
 * {@code timestamp} is ISO-8601 in UTC with milliseconds; {@code message} is formatted (arguments
 * filled in); the event's key-value pairs (SLF4J's fluent {@code addKeyValue}) follow as fields of
 * their own, numbers and booleans as JSON numbers and booleans, anything else as its string form
 * (a key that collides with a field above is written as {@code kv_KEY}); {@code exception}, present
 * only when there is one, is the stack trace as text, causes included.
 *
 * <p>Logback's own {@code JsonEncoder} was not used: it nests key-value pairs in a list of
 * one-entry objects with string values, repeats the logger context on every line and writes the
 * message template and its arguments apart, which log queries handle poorly.
 */
public final class JsonLogEncoder extends EncoderBase<ILoggingEvent> {

    private static final JsonFactory JSON = new JsonFactory();
    private static final byte[] NEWLINE = {'\n'};
    private static final Set<String> RESERVED = Set.of("timestamp", "level", "logger", "thread", "message", "exception");

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("timestamp", Instant.ofEpochMilli(event.getTimeStamp()).toString());
            g.writeStringField("level", event.getLevel().toString());
            g.writeStringField("logger", event.getLoggerName());
            g.writeStringField("thread", event.getThreadName());
            g.writeStringField("message", event.getFormattedMessage());
            List<KeyValuePair> pairs = event.getKeyValuePairs();
            if (pairs != null) {
                for (KeyValuePair kv : pairs) {
                    g.writeFieldName(RESERVED.contains(kv.key) ? "kv_" + kv.key : kv.key);
                    writeValue(g, kv.value);
                }
            }
            IThrowableProxy thrown = event.getThrowableProxy();
            if (thrown != null) {
                g.writeStringField("exception", ThrowableProxyUtil.asString(thrown));
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        out.writeBytes(NEWLINE);
        return out.toByteArray();
    }

    private static void writeValue(JsonGenerator g, Object value) throws IOException {
        switch (value) {
            case null -> g.writeNull();
            case Integer i -> g.writeNumber(i);
            case Long l -> g.writeNumber(l);
            case Short s -> g.writeNumber(s);
            case Double d when Double.isFinite(d) -> g.writeNumber(d);
            case Float f when Float.isFinite(f) -> g.writeNumber(f);
            case Boolean b -> g.writeBoolean(b);
            case Iterable<?> items -> {
                g.writeStartArray();
                for (Object item : items) {
                    writeValue(g, item);
                }
                g.writeEndArray();
            }
            default -> g.writeString(String.valueOf(value));
        }
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }
}

package dev.sluice.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import dev.sluice.config.SluiceConfig.LogFormat;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Switches the log format of the process ({@code log_format}) by giving the stream appenders of
 * the root logger (stderr by default) a {@link JsonLogEncoder}, or their configured encoder back.
 * Does nothing when SLF4J is not bound to Logback or the format is already in force.
 */
final class LogOutput {

    private static LogFormat current = LogFormat.TEXT;
    /** The configured encoder of each appender switched to JSON, to restore text. */
    private static final Map<OutputStreamAppender<ILoggingEvent>, Encoder<ILoggingEvent>> TEXT_ENCODERS =
            new IdentityHashMap<>();

    private LogOutput() {
    }

    /** Puts {@code format} in force for every line logged from now on. */
    static synchronized void format(LogFormat format) {
        if (format == current || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (format == LogFormat.JSON) {
            for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
                if (it.next() instanceof OutputStreamAppender<ILoggingEvent> appender) {
                    JsonLogEncoder json = new JsonLogEncoder();
                    json.setContext(context);
                    json.start();
                    TEXT_ENCODERS.put(appender, appender.getEncoder());
                    appender.setEncoder(json);
                }
            }
        } else {
            for (Map.Entry<OutputStreamAppender<ILoggingEvent>, Encoder<ILoggingEvent>> e : TEXT_ENCODERS.entrySet()) {
                Encoder<ILoggingEvent> json = e.getKey().getEncoder();
                e.getKey().setEncoder(e.getValue());
                json.stop();
            }
            TEXT_ENCODERS.clear();
        }
        current = format;
    }
}

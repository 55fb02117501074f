package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.config.SluiceConfig.LogFormat;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class LogOutputTest {

    private static final Logger log = LoggerFactory.getLogger("dev.sluice.test.LogOutputTest");

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private OutputStreamAppender<ILoggingEvent> appender;

    @BeforeEach
    void addAppender() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        PatternLayoutEncoder text = new PatternLayoutEncoder();
        text.setContext(context);
        text.setPattern("%level %msg%n");
        text.start();
        appender = new OutputStreamAppender<>();
        appender.setContext(context);
        appender.setEncoder(text);
        appender.setOutputStream(out);
        appender.start();
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(appender);
    }

    @AfterEach
    void removeAppender() {
        LogOutput.format(LogFormat.TEXT);
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(appender);
        appender.stop();
    }

    private List<String> lines() {
        return out.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void json_oneObjectPerLineWithKeyValuesAndException() throws Exception {
        LogOutput.format(LogFormat.JSON);
        log.atWarn().addKeyValue("client", 42).addKeyValue("applied", List.of("pool.size"))
                .addKeyValue("message", "clash").setCause(new IllegalStateException("boom"))
                .log("client {}: something \"quoted\"\nand a second line", 42);

        List<String> lines = lines();
        assertThat(lines).hasSize(1);
        JsonNode json = new ObjectMapper().readTree(lines.getFirst());
        assertThat(Instant.parse(json.get("timestamp").asText())).isBeforeOrEqualTo(Instant.now());
        assertThat(json.get("level").asText()).isEqualTo("WARN");
        assertThat(json.get("logger").asText()).isEqualTo("dev.sluice.test.LogOutputTest");
        assertThat(json.get("thread").asText()).isEqualTo(Thread.currentThread().getName());
        assertThat(json.get("message").asText()).isEqualTo("client 42: something \"quoted\"\nand a second line");
        assertThat(json.get("client").isInt()).isTrue();
        assertThat(json.get("client").asInt()).isEqualTo(42);
        assertThat(json.get("applied").get(0).asText()).isEqualTo("pool.size");
        assertThat(json.get("kv_message").asText()).isEqualTo("clash");
        assertThat(json.get("exception").asText())
                .startsWith("java.lang.IllegalStateException: boom")
                .contains("at dev.sluice.cli.LogOutputTest.json_oneObjectPerLineWithKeyValuesAndException");
    }

    @Test
    void json_withoutException_hasNoExceptionField() throws Exception {
        LogOutput.format(LogFormat.JSON);
        log.info("plain");
        JsonNode json = new ObjectMapper().readTree(lines().getFirst());
        assertThat(json.get("message").asText()).isEqualTo("plain");
        assertThat(json.has("exception")).isFalse();
    }

    @Test
    void text_restoresTheConfiguredEncoder() {
        LogOutput.format(LogFormat.JSON);
        LogOutput.format(LogFormat.TEXT);
        log.atInfo().addKeyValue("client", 7).log("client {}: back to text", 7);
        assertThat(lines()).containsExactly("INFO client 7: back to text");
    }
}

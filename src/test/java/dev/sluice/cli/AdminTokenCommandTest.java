package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code sluice run} refuses to expose the admin API beyond loopback without a token. */
class AdminTokenCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int execute(Map<String, String> env, String... args) {
        CommandLine cl = Main.commandLine(env);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void run_adminBeyondLoopbackWithoutToken_exitsTwoWithOneLine() {
        assertThat(execute(Map.of(), "run", "--admin-listen", "0.0.0.0:0")).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("sluice: admin_token: not set (expected a secret token, required because "
                + "admin_listen '0.0.0.0:0' is not a loopback address; or listen on 127.0.0.1)"
                + System.lineSeparator());
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void flags_adminToken_isHandedToTheLoaderUnderItsKey() throws Exception {
        RunCommand run = new RunCommand(Map.of());
        new CommandLine(run).parseArgs("--admin-token", "s3cret-s3cret-s3cret");
        assertThat(run.flags()).containsEntry("admin_token", "s3cret-s3cret-s3cret");
    }
}

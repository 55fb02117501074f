package dev.sluice.cli;

import java.util.Map;
import picocli.CommandLine;

/**
 * The {@code sluice} command: {@code sluice run}, {@code sluice check-config FILE},
 * {@code sluice version}. Exit codes: 0 success, 1 failure to start or run, 2 invalid command
 * line or configuration (one line on stderr, prefixed {@code sluice: }).
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        // Netty's fastest buffer code uses sun.misc.Unsafe, which Netty turns off by default on
        // JDK 24+; the JDK still allows it (with one warning unless
        // --sun-misc-unsafe-memory-access=allow is given, as ./sluice does)
        if (System.getProperty("io.netty.noUnsafe") == null) {
            System.setProperty("io.netty.noUnsafe", "false");
        }
        System.exit(commandLine(System.getenv()).execute(args));
    }

    /** The command tree, reading {@code SLUICE_*} settings from {@code env}. */
    static CommandLine commandLine(Map<String, String> env) {
        CommandLine cl = new CommandLine(new SluiceCommand());
        cl.addSubcommand("run", new RunCommand(env));
        cl.addSubcommand("check-config", new CheckConfigCommand());
        cl.addSubcommand("version", new VersionCommand());
        return cl;
    }
}

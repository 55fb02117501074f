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
        setDefault("io.netty.noUnsafe", "false");
        // Production defaults for the data path; tests run with paranoid leak detection instead.
        // Netty samples one buffer in 128 with a stack trace unless told otherwise: measurable at
        // tens of thousands of messages per second.
        setDefault("io.netty.leakDetection.level", "disabled");
        System.exit(commandLine(System.getenv()).execute(args));
    }

    private static void setDefault(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
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

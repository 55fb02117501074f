package dev.sluice.cli;

import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice check-config FILE}: validates the file on its own (defaults plus the file; the
 * environment and flags are not applied). Prints {@code FILE: OK} and exits 0, with any warnings
 * on stderr; or prints the one-line error on stderr and exits 2.
 */
@Command(name = "check-config",
        description = "Validates a configuration file (without environment variables) and exits 0 if it is valid, 2 if not.")
final class CheckConfigCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "FILE", description = "The YAML configuration file.")
    Path file;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<String> warnings = new ArrayList<>();
        try {
            ConfigLoader.load(Optional.of(file), Map.of(), Map.of(), warnings::add);
        } catch (ConfigException e) {
            err.println("sluice: " + e.getMessage());
            err.flush();
            return 2;
        }
        for (String w : warnings) {
            err.println("sluice: warning: " + w);
        }
        err.flush();
        out.println(file + ": OK");
        out.flush();
        return 0;
    }
}

package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ConfigWatcherTest {

    @TempDir
    Path dir;

    private static void await(String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as(what).isNegative();
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    @Test
    void contentChange_runsTheActionOnce() throws Exception {
        Path file = Files.writeString(dir.resolve("sluice.yaml"), "pool:\n  size: 2\n");
        AtomicInteger runs = new AtomicInteger();
        ConfigWatcher w = ConfigWatcher.start(file, runs::incrementAndGet);
        try {
            Files.writeString(file, "pool:\n  size: 6\n");
            await("a run after the change", () -> runs.get() == 1);
            // same bytes again, and another file of the directory: no run
            Files.writeString(file, "pool:\n  size: 6\n");
            Files.writeString(dir.resolve("other.txt"), "x");
            // a later real change proves the two events above were seen and passed over
            Files.writeString(file, "pool:\n  size: 7\n");
            await("a run after the second change", () -> runs.get() == 2);
        } finally {
            w.close();
        }
    }

    @Test
    void replacedByRename_asEditorsDo_runsTheAction() throws Exception {
        Path file = Files.writeString(dir.resolve("sluice.yaml"), "pool:\n  size: 2\n");
        AtomicInteger runs = new AtomicInteger();
        ConfigWatcher w = ConfigWatcher.start(file, runs::incrementAndGet);
        try {
            Path tmp = Files.writeString(dir.resolve(".sluice.yaml.swp"), "pool:\n  size: 3\n");
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            await("a run after the rename", () -> runs.get() == 1);
        } finally {
            w.close();
        }
    }

    @Test
    void close_stopsWatching() throws Exception {
        Path file = Files.writeString(dir.resolve("sluice.yaml"), "a: 1\n");
        AtomicInteger runs = new AtomicInteger();
        ConfigWatcher w = ConfigWatcher.start(file, runs::incrementAndGet);
        w.close();
        await("the watcher thread to end", () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("sluice-config-watch")));
    }
}

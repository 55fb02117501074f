package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HangupSignalTest {

    @Test
    void install_onLinux_handlesSighupSentToTheProcess() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Optional<HangupSignal> installed = HangupSignal.install(runs::incrementAndGet);
        assertThat(installed).as("SIGHUP handler on this JVM").isPresent();
        try {
            // only now that Sluice's handler is in place is SIGHUP harmless to this JVM
            assumeTrue(new java.io.File("/bin/kill").canExecute(), "needs /bin/kill");
            Process kill = new ProcessBuilder("/bin/kill", "-HUP", Long.toString(ProcessHandle.current().pid()))
                    .inheritIO().start();
            assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(kill.exitValue()).isZero();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (runs.get() == 0) {
                assertThat(System.nanoTime() - deadline).as("the handler to run").isNegative();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
            assertThat(runs.get()).isEqualTo(1);
        } finally {
            installed.get().close();
        }
    }

    @Test
    void install_failingAction_isLoggedAndTheHandlerStays() {
        Optional<HangupSignal> installed = HangupSignal.install(() -> {
            throw new IllegalStateException("boom");
        });
        assertThat(installed).isPresent();
        installed.get().close();
    }
}

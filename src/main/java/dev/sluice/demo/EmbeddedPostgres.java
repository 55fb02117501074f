package dev.sluice.demo;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server started from the binaries on the classpath, for the demo mode of
 * {@code sluice run} and for integration tests. It listens on 127.0.0.1 only.
 *
 * <p>Layout: one private temporary directory per instance holding {@code data/} (the cluster),
 * {@code sock/} (the Unix socket, reachable only by the server's account and root) and
 * {@code postgres.log}. The binaries are shared between instances (see the cache under
 * {@code <java.io.tmpdir>/sluice-pg-<uid>}).
 *
 * <p>Root: PostgreSQL refuses to run as root. When the JVM is root, {@code initdb}, {@code pg_ctl}
 * and {@code postgres} run as {@code nobody}/{@code nogroup} through {@code setpriv} (util-linux),
 * and the instance's directories are owned by that account. As any other user they run directly.
 *
 * <p>SQL: the binaries contain no {@code psql}, so {@link Builder#initSql} statements are sent with
 * a minimal built-in client (simple Query protocol) over the private Unix socket, as superuser
 * {@code postgres} in database {@code postgres}. For that, {@code local all postgres trust} is
 * always the first line of {@code pg_hba.conf}; the socket directory is mode 0700, so only the
 * server's account and root can use it. A string given to {@code initSql} may hold several
 * statements; they run in one implicit transaction, so put {@code CREATE DATABASE} in its own call.
 *
 * <p>Lifecycle: {@link Builder#start()} runs initdb and starts the server; {@link #stop()} and
 * {@link #restart()} keep the data directory and port; {@link #close()} stops and deletes
 * everything. Every wait is bounded. Instances still open at JVM exit are closed by a shutdown
 * hook. Thread-safe.
 */
public final class EmbeddedPostgres implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);

    private static final String HOST = "127.0.0.1";
    private static final String SUPERUSER = "postgres";
    private static final Duration INITDB_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration SQL_TIMEOUT = Duration.ofSeconds(120);
    private static final int PORT_ATTEMPTS = 3;
    private static final Pattern CONFIG_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*");

    private static final Set<EmbeddedPostgres> OPEN = ConcurrentHashMap.newKeySet();
    private static boolean hookInstalled;

    private final Path binaries;
    private final ServerAccount account;
    private final Path baseDirectory;
    private final Path dataDirectory;
    private final Path socketDirectory;
    private final Path logFile;
    private volatile int port;
    private boolean closed;

    private EmbeddedPostgres(Path binaries, ServerAccount account, Path baseDirectory, int port) {
        this.binaries = binaries;
        this.account = account;
        this.baseDirectory = baseDirectory;
        this.dataDirectory = baseDirectory.resolve("data");
        this.socketDirectory = baseDirectory.resolve("sock");
        this.logFile = baseDirectory.resolve("postgres.log");
        this.port = port;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Always {@code 127.0.0.1}. */
    public String host() {
        return HOST;
    }

    public int port() {
        return port;
    }

    /** The cluster's data directory ({@code PGDATA}). */
    public Path dataDirectory() {
        return dataDirectory;
    }

    /** The server log (everything postgres writes to stderr). */
    public Path logFile() {
        return logFile;
    }

    /** The last {@code lines} lines of the server log, for error messages. */
    public String logTail(int lines) {
        try {
            if (!Files.exists(logFile)) {
                return "(no log)";
            }
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    /** Whether the postmaster named in {@code postmaster.pid} is alive. */
    public synchronized boolean isRunning() {
        return postmaster().isPresent();
    }

    /** Fast shutdown ({@code pg_ctl stop -m fast}, then {@code -m immediate}); keeps the data directory. */
    public synchronized void stop() throws IOException {
        Optional<ProcessHandle> pid = postmaster();
        if (pid.isEmpty()) {
            return;
        }
        if (pgCtl(List.of("stop", "-m", "fast", "-w", "-t", seconds(STOP_TIMEOUT))) != 0 || postmaster().isPresent()) {
            log.warn("fast shutdown of PostgreSQL on port {} failed, trying immediate", port);
            pgCtl(List.of("stop", "-m", "immediate", "-w", "-t", seconds(STOP_TIMEOUT)));
        }
        if (pid.get().isAlive()) {
            // last resort, by process id from postmaster.pid
            pid.get().destroyForcibly();
            try {
                pid.get().onExit().get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IOException("PostgreSQL (pid " + pid.get().pid() + ") did not stop", e);
            }
        }
    }

    /** Starts the server again on the same port and data directory (stopping it first if running). */
    public synchronized void restart() throws IOException {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        stop();
        startServer();
    }

    /** Stops the server if it runs and deletes all its directories. Idempotent; never throws. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        OPEN.remove(this);
        try {
            stop();
        } catch (IOException | RuntimeException e) {
            log.warn("stopping PostgreSQL on port {} failed: {}", port, e.toString());
        }
        try {
            Directories.deleteRecursively(baseDirectory);
        } catch (IOException | RuntimeException e) {
            log.warn("deleting {} failed: {}", baseDirectory, e.toString());
        }
    }

    @Override
    public String toString() {
        return "EmbeddedPostgres[" + HOST + ":" + port + ", data=" + dataDirectory + "]";
    }

    /** Runs {@code sql} as the superuser in {@code database}, over the private Unix socket. */
    void execute(String database, String sql) throws IOException {
        try (LocalSqlSession session = LocalSqlSession.open(socketDirectory, port(), SUPERUSER, database, SQL_TIMEOUT)) {
            session.execute(sql);
        }
    }

    private void initialize(Builder b) throws IOException {
        account.own(baseDirectory);
        Files.createDirectory(socketDirectory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        account.own(socketDirectory);

        List<String> initdb = new ArrayList<>(List.of(bin("initdb"), "-D", dataDirectory.toString(), "-U", SUPERUSER,
                "-E", "UTF8", "--locale=C", "-A", "trust", "--no-sync", "--no-instructions"));
        Path pwfile = baseDirectory.resolve("pwfile");
        if (b.superuserPassword != null) {
            Files.writeString(pwfile, b.superuserPassword + "\n");
            account.own(pwfile);
            initdb.add("--pwfile=" + pwfile);
        }
        Path initdbLog = baseDirectory.resolve("initdb.log");
        try {
            int rc = run(initdb, initdbLog, INITDB_TIMEOUT);
            if (rc != 0) {
                throw new IOException("initdb failed (exit " + rc + ", as " + account + "):\n" + tail(initdbLog));
            }
        } finally {
            Files.deleteIfExists(pwfile);
        }

        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("listen_addresses", HOST);
        conf.put("unix_socket_directories", socketDirectory.toString());
        conf.put("fsync", "off");
        conf.put("max_connections", "100");
        if (b.certFile != null) {
            Path cert = dataDirectory.resolve("server.crt");
            Path key = dataDirectory.resolve("server.key");
            Files.copy(b.certFile, cert, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(b.keyFile, key, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(cert, PosixFilePermissions.fromString("rw-r--r--"));
            // postgres refuses a key readable by group or others
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
            account.own(cert);
            account.own(key);
            conf.put("ssl", "on");
            conf.put("ssl_cert_file", cert.toString());
            conf.put("ssl_key_file", key.toString());
        }
        conf.putAll(b.serverConfig);
        StringBuilder text = new StringBuilder("\n# added by Sluice's EmbeddedPostgres\n");
        conf.forEach((k, v) -> text.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
        Files.writeString(dataDirectory.resolve("postgresql.conf"), text, StandardOpenOption.APPEND);

        StringBuilder hba = new StringBuilder("# written by Sluice's EmbeddedPostgres\n");
        hba.append("local all ").append(SUPERUSER).append(" trust\n");
        List<String> lines = b.hbaLines.isEmpty()
                ? List.of("local all all trust", "host all all 127.0.0.1/32 trust")
                : b.hbaLines;
        lines.forEach(l -> hba.append(l).append('\n'));
        Files.writeString(dataDirectory.resolve("pg_hba.conf"), hba);
    }

    private synchronized void startServer() throws IOException {
        boolean choosePort = port == 0;
        for (int attempt = 1; ; attempt++) {
            if (choosePort) {
                port = freePort();
            }
            long logStart = Files.exists(logFile) ? Files.size(logFile) : 0;
            int rc = pgCtl(List.of("start", "-w", "-t", seconds(START_TIMEOUT), "-l", logFile.toString(),
                    "-o", "-p " + port));
            if (rc == 0 && postmaster().isPresent()) {
                return;
            }
            String newLog = readFrom(logFile, logStart);
            if (choosePort && attempt < PORT_ATTEMPTS
                    && (newLog.contains("could not bind") || newLog.contains("Address already in use"))) {
                continue;
            }
            if (postmaster().isPresent()) {
                pgCtl(List.of("stop", "-m", "immediate", "-w", "-t", seconds(STOP_TIMEOUT)));
            }
            throw new IOException("PostgreSQL did not start on " + HOST + ":" + port + " within " + START_TIMEOUT
                    + " (pg_ctl exit " + rc + ", running as " + account + "); log " + logFile + " ends with:\n"
                    + logTail(30) + "\npg_ctl said:\n" + tail(baseDirectory.resolve("pg_ctl.log")));
        }
    }

    private Optional<ProcessHandle> postmaster() {
        Path pidFile = dataDirectory.resolve("postmaster.pid");
        try {
            if (!Files.exists(pidFile)) {
                return Optional.empty();
            }
            List<String> lines = Files.readAllLines(pidFile);
            if (lines.isEmpty() || lines.get(0).isBlank()) {
                return Optional.empty();
            }
            return ProcessHandle.of(Long.parseLong(lines.get(0).trim())).filter(ProcessHandle::isAlive);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private int pgCtl(List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(bin("pg_ctl"), "-D", dataDirectory.toString(), "-s"));
        command.addAll(args);
        // pg_ctl's own bound is START_TIMEOUT/STOP_TIMEOUT; ours only guards against a hung pg_ctl
        return run(command, baseDirectory.resolve("pg_ctl.log"), START_TIMEOUT.plusSeconds(30));
    }

    private int run(List<String> command, Path output, Duration timeout) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(account.command(command))
                .directory(baseDirectory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().put("LC_ALL", "C");
        Process process = pb.start();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IOException(command.get(0) + " did not finish within " + timeout + ":\n" + tail(output));
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command.get(0), e);
        }
    }

    private String bin(String name) {
        return binaries.resolve("bin").resolve(name).toString();
    }

    private static String seconds(Duration d) {
        return Long.toString(d.toSeconds());
    }

    private static String tail(Path file) {
        try {
            if (!Files.exists(file)) {
                return "(nothing)";
            }
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - 30), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private static String readFrom(Path file, long offset) {
        try {
            if (!Files.exists(file)) {
                return "";
            }
            byte[] all = Files.readAllBytes(file);
            int from = (int) Math.min(offset, all.length);
            return new String(all, from, all.length - from, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        }
    }

    private static synchronized void register(EmbeddedPostgres instance) {
        OPEN.add(instance);
        if (!hookInstalled) {
            hookInstalled = true;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                for (EmbeddedPostgres open : List.copyOf(OPEN)) {
                    open.close();
                }
            }, "sluice-embedded-postgres-shutdown"));
        }
    }

    /** Settings for new instances; each {@link #start()} starts a separate one. */
    public static final class Builder {
        private int port;
        private final Map<String, String> serverConfig = new LinkedHashMap<>();
        private final List<String> hbaLines = new ArrayList<>();
        private String superuserPassword;
        private final List<String> initSql = new ArrayList<>();
        private Path certFile;
        private Path keyFile;

        private Builder() {
        }

        /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
            }
            this.port = port;
            return this;
        }

        /**
         * An extra {@code postgresql.conf} setting; later calls for the same key win. Defaults set
         * by this class ({@code max_connections = 100}, {@code fsync = off}, ...) can be overridden.
         */
        public Builder serverConfig(String key, String value) {
            if (!CONFIG_KEY.matcher(key).matches()) {
                throw new IllegalArgumentException("serverConfig key: " + key + " (expected: a setting name)");
            }
            if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("serverConfig " + key + ": value must be one line");
            }
            serverConfig.put(key, value);
            return this;
        }

        /**
         * A {@code pg_hba.conf} line. Lines given here replace the default
         * ({@code local all all trust}, {@code host all all 127.0.0.1/32 trust}); a
         * {@code local all postgres trust} line always comes first (see the class notes).
         */
        public Builder hbaLine(String line) {
            if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("hbaLine must be one line: " + line);
            }
            hbaLines.add(line);
            return this;
        }

        /** Password of the superuser {@code postgres} (default: none). */
        public Builder superuserPassword(String pw) {
            this.superuserPassword = pw;
            return this;
        }

        /** SQL run after the first start, as {@code postgres} in database {@code postgres}, in call order. */
        public Builder initSql(String sql) {
            initSql.add(sql);
            return this;
        }

        /**
         * Enables TLS ({@code ssl = on}) with this PEM certificate and PEM private key, which are
         * copied into the data directory with the ownership and mode PostgreSQL requires.
         */
        public Builder tls(Path certFile, Path keyFile) {
            this.certFile = certFile;
            this.keyFile = keyFile;
            return this;
        }

        /**
         * Extracts the binaries if needed, runs initdb, starts the server and runs the
         * {@link #initSql} statements. On failure nothing is left running or on disk.
         *
         * @throws IOException with the log tail when any step fails or the server is not ready within 60 s
         */
        public EmbeddedPostgres start() throws IOException {
            Path binaries = PostgresBinaries.directory();
            ServerAccount account = ServerAccount.detect();
            Path base = Files.createTempDirectory("sluice-pg-run-");
            EmbeddedPostgres pg = new EmbeddedPostgres(binaries, account, base, port);
            register(pg);
            try {
                pg.initialize(this);
                pg.startServer();
                for (String sql : initSql) {
                    pg.execute("postgres", sql);
                }
                return pg;
            } catch (IOException | RuntimeException e) {
                pg.close();
                throw e;
            }
        }
    }
}

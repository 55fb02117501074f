package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.admission.CircuitBreaker;
import dev.sluice.admission.Classifier;
import dev.sluice.admission.FairShare;
import dev.sluice.admission.OperatingMode;
import dev.sluice.admission.Priority;
import dev.sluice.config.AdmissionConfig;
import dev.sluice.config.ConfigChange;
import dev.sluice.config.SluiceConfig;
import dev.sluice.demo.EmbeddedPostgres;
import dev.sluice.frontend.ProxyServer;
import dev.sluice.it.support.Await;
import dev.sluice.it.support.ProxyClients;
import dev.sluice.it.support.TestConfig;
import dev.sluice.it.support.TestPostgres;
import dev.sluice.pool.Pool;
import dev.sluice.pool.Upstream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Priority admission, deadlines, the circuit breaker, safe retries and the adaptive limit, driven
 * by real pgjdbc clients through Sluice against a real PostgreSQL.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AdmissionIT {
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private static ExecutorService pool;

    @BeforeAll
    static void setUp() throws Exception {
        pool = Executors.newCachedThreadPool();
        try (Connection su = su(); Statement s = su.createStatement()) {
            s.execute("DROP SEQUENCE IF EXISTS admission_order");
            s.execute("CREATE SEQUENCE admission_order");
            s.execute("GRANT USAGE, SELECT, UPDATE ON SEQUENCE admission_order TO " + TestPostgres.APP_USER);
            s.execute("DROP SEQUENCE IF EXISTS retry_calls");
            s.execute("CREATE SEQUENCE retry_calls");
            s.execute("GRANT USAGE, SELECT, UPDATE ON SEQUENCE retry_calls TO " + TestPostgres.APP_USER);
            // fails with a serialization failure on the calls whose number is in fail_on
            s.execute("CREATE OR REPLACE FUNCTION flaky(fail_on int[]) RETURNS int LANGUAGE plpgsql AS $$\n"
                    + "DECLARE n int := nextval('retry_calls');\n"
                    + "BEGIN IF n = ANY(fail_on) THEN RAISE EXCEPTION 'simulated conflict %', n USING ERRCODE = '40001'; END IF;\n"
                    + "RETURN n; END $$");
            s.execute("CREATE OR REPLACE FUNCTION fail_after_rows(n int) RETURNS int LANGUAGE plpgsql AS $$\n"
                    + "BEGIN IF n > 50 THEN PERFORM nextval('retry_calls'); "
                    + "RAISE EXCEPTION 'late conflict' USING ERRCODE = '40001'; END IF; RETURN n; END $$");
        }
    }

    @AfterAll
    static void tearDown() {
        pool.shutdownNow();
    }

    private static AdmissionConfig admission(SluiceConfig base, java.util.function.UnaryOperator<AdmissionBuilder> f) {
        return f.apply(new AdmissionBuilder(base.admission())).build();
    }

    /** Mutable copy of an AdmissionConfig for tests. */
    static final class AdmissionBuilder {
        int queueSize;
        Map<Priority, Duration> timeouts;
        Duration aging;
        List<Classifier.Rule> rules;
        boolean adaptive;
        int minLimit;
        int breakerFailures;
        Duration coolDown;
        double rate;
        int burst;
        Optional<OperatingMode.Mode> mode;
        int retries;
        List<FairShare.Rule> shares;
        int reserved;
        Duration degradedWait;
        Duration emergencyWait;

        AdmissionBuilder(AdmissionConfig a) {
            queueSize = a.queueSize();
            timeouts = new EnumMap<>(a.waitTimeouts());
            aging = a.agingStep();
            rules = new ArrayList<>(a.rules());
            adaptive = a.adaptiveLimit();
            minLimit = a.minLimit();
            breakerFailures = a.breakerFailures();
            coolDown = a.breakerCoolDown();
            rate = a.rateLimit();
            burst = a.rateBurst();
            mode = a.forcedMode();
            retries = a.retryAttempts();
            shares = new ArrayList<>(a.shares());
            reserved = a.reservedConnections();
            degradedWait = a.degradedWait();
            emergencyWait = a.emergencyWait();
        }

        AdmissionBuilder modeWaits(Duration degraded, Duration emergency) {
            degradedWait = degraded;
            emergencyWait = emergency;
            return this;
        }

        AdmissionBuilder share(String r) {
            shares.add(FairShare.Rule.parse(r));
            return this;
        }

        AdmissionBuilder rule(String r) {
            rules.add(Classifier.Rule.parse(r));
            return this;
        }

        AdmissionConfig build() {
            return new AdmissionConfig(queueSize, timeouts, aging, rules, Priority.NORMAL, adaptive, minLimit,
                    breakerFailures, coolDown, rate, burst, mode, retries, shares, reserved, degradedWait, emergencyWait);
        }
    }

    private static ProxyServer start(int poolSize, java.util.function.UnaryOperator<AdmissionBuilder> f)
            throws InterruptedException {
        SluiceConfig base = TestConfig.builder().poolSize(poolSize).acquireTimeout(Duration.ofSeconds(20)).build();
        return ProxyServer.start(base.withAdmission(admission(base, f)));
    }

    private static Connection connect(ProxyServer proxy, String app, String... more) throws SQLException {
        Properties p = ProxyClients.props(more);
        p.setProperty("ApplicationName", app);
        // no setup query at connect: connecting must not need a server connection while the
        // tests hold them all
        p.setProperty("assumeMinServerVersion", "10");
        return ProxyClients.connect(proxy, p);
    }

    private static Pool poolOf(ProxyServer proxy) {
        return proxy.poolList().get(0);
    }

    /** Occupies every server connection with a pg_sleep until {@code release} is set. */
    private static List<Future<?>> occupy(ProxyServer proxy, int n, AtomicBoolean release) throws Exception {
        List<Future<?>> holders = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Connection c = connect(proxy, "holder");
            holders.add(pool.submit(() -> {
                try (c; Statement s = c.createStatement()) {
                    s.execute("BEGIN");
                    s.execute("SELECT 1");
                    Await.until(AWAIT, "release", release::get);
                    s.execute("COMMIT");
                }
                return null;
            }));
        }
        Await.until(AWAIT, "holders hold every server connection", () -> poolOf(proxy).snapshot().inUse() == n);
        return holders;
    }

    @Test
    void operatingMode_followsTheOldestWait_atTheConfiguredThresholds_andAReloadMovesThem() throws Exception {
        try (ProxyServer proxy = start(1, a -> a.modeWaits(Duration.ofMillis(300), Duration.ofMinutes(1)))) {
            try (Connection warm = connect(proxy, "warm")) {
                warm.createStatement().execute("SELECT 1");
            }
            Upstream upstream = poolOf(proxy).upstream();
            assertThat(upstream.mode().mode()).isEqualTo(OperatingMode.Mode.NORMAL);
            assertThat(upstream.mode().thresholds())
                    .isEqualTo(OperatingMode.Thresholds.forWaits(Duration.ofMillis(300), Duration.ofMinutes(1)));
            AtomicBoolean release = new AtomicBoolean();
            List<Future<?>> holders = occupy(proxy, 1, release);
            Connection c = connect(proxy, "waiter");
            Future<Integer> waiter = pool.submit(() -> {
                try (c; Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 7")) {
                    rs.next();
                    return rs.getInt(1);
                }
            });
            Await.until(AWAIT, "degraded once a request waited 300 ms",
                    () -> upstream.mode().mode() == OperatingMode.Mode.DEGRADED);
            assertThat(poolOf(proxy).snapshot().oldestWaitNanos()).isGreaterThanOrEqualTo(Duration.ofMillis(300).toNanos());

            // a reload bringing the emergency wait below the current one turns it into an emergency
            SluiceConfig running = proxy.config();
            ConfigChange change = proxy.reconfigure(running.withAdmission(new AdmissionBuilder(running.admission())
                    .modeWaits(Duration.ofMillis(300), Duration.ofMillis(600)).build()));
            assertThat(change.applied()).containsExactly("admission.emergency_wait");
            assertThat(upstream.mode().thresholds())
                    .isEqualTo(OperatingMode.Thresholds.forWaits(Duration.ofMillis(300), Duration.ofMillis(600)));
            Await.until(AWAIT, "emergency once the oldest wait passed the reloaded 600 ms",
                    () -> upstream.mode().mode() == OperatingMode.Mode.EMERGENCY);
            assertThat(upstream.mode().shouldShed(Priority.LOW)).isTrue();

            // the request that waited all along is served once the connection comes back
            release.set(true);
            for (Future<?> f : holders) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertThat(waiter.get(60, TimeUnit.SECONDS)).isEqualTo(7);
        }
    }

    @Test
    void saturatedPool_highRequestOvertakesFiftyWaitingLowOnes_lowOnesServedInArrivalOrder() throws Exception {
        try (ProxyServer proxy = start(1, a -> a.rule("application_name=lowapp:low").rule("application_name=highapp:high"))) {
            // a first connection makes the pool exist before we look at it
            try (Connection warm = connect(proxy, "warm")) {
                warm.createStatement().execute("SELECT 1");
            }
            AtomicBoolean release = new AtomicBoolean();
            List<Future<?>> holders = occupy(proxy, 1, release);
            ConcurrentLinkedQueue<String> served = new ConcurrentLinkedQueue<>();
            List<Future<?>> clients = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                String name = "low-" + i;
                Connection c = connect(proxy, "lowapp");
                clients.add(pool.submit(() -> runAndRecord(c, name, served)));
                int waiting = i + 1;
                Await.until(AWAIT, "low " + i + " waits", () -> poolOf(proxy).snapshot().byClass().get(Priority.LOW) == waiting);
            }
            Connection high = connect(proxy, "highapp");
            clients.add(pool.submit(() -> runAndRecord(high, "high", served)));
            Await.until(AWAIT, "high waits", () -> poolOf(proxy).snapshot().byClass().get(Priority.HIGH) == 1);
            release.set(true);
            for (Future<?> f : holders) {
                f.get(60, TimeUnit.SECONDS);
            }
            for (Future<?> f : clients) {
                f.get(60, TimeUnit.SECONDS);
            }
            List<String> order = new ArrayList<>();
            served.stream().sorted().forEach(x -> order.add(x.substring(9)));
            assertThat(order).hasSize(51);
            assertThat(order.get(0)).isEqualTo("high");
            List<String> expectedLows = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                expectedLows.add("low-" + i);
            }
            assertThat(order.subList(1, 51)).containsExactlyElementsOf(expectedLows);
        }
    }

    /** Runs one statement and records the order in which PostgreSQL ran it (a sequence number). */
    private static Void runAndRecord(Connection c, String name, ConcurrentLinkedQueue<String> served) throws SQLException {
        try (c; Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT nextval('admission_order')")) {
            rs.next();
            served.add(String.format("%08d %s", rs.getLong(1), name));
        }
        return null;
    }

    /** Opens a client of {@code app} and holds a server connection with an open transaction. */
    private static Connection hold(ProxyServer proxy, String app) throws SQLException {
        Connection c = connect(proxy, app);
        c.setAutoCommit(false);
        c.createStatement().execute("SELECT 1");
        return c;
    }

    /** Served order (by the sequence value each got) of the named requests. */
    private static List<String> order(ConcurrentLinkedQueue<String> served) {
        return served.stream().sorted().map(x -> x.substring(9)).toList();
    }

    @Test
    void fairShare_maximumHoldsANoisyApplicationBackOnlyWhileOthersWait() throws Exception {
        try (ProxyServer proxy = start(4, a -> a.share("application_name=noisy:0:2"))) {
            List<Connection> held = new ArrayList<>();
            held.add(hold(proxy, "noisy"));
            held.add(hold(proxy, "noisy"));
            Connection quietHolder = hold(proxy, "quiet");
            held.add(hold(proxy, "quiet"));
            assertThat(poolOf(proxy).snapshot().inUse()).isEqualTo(4);
            assertThat(proxy.upstreams().get(0).heldByShare()).containsEntry("application_name=noisy", 2);
            ConcurrentLinkedQueue<String> served = new ConcurrentLinkedQueue<>();
            Connection noisy = connect(proxy, "noisy");
            Future<?> noisyRequest = pool.submit(() -> runAndRecord(noisy, "noisy", served));
            Await.until(AWAIT, "noisy waits", () -> poolOf(proxy).snapshot().waiting() == 1);
            Connection quiet = connect(proxy, "quiet");
            Future<?> quietRequest = pool.submit(() -> runAndRecord(quiet, "quiet", served));
            Await.until(AWAIT, "quiet waits too", () -> poolOf(proxy).snapshot().waiting() == 2);

            // one connection comes free: noisy holds its maximum while quiet waits, so the later
            // quiet request goes first; then nobody else waits and noisy may exceed its maximum
            quietHolder.commit();
            quietRequest.get(30, TimeUnit.SECONDS);
            noisyRequest.get(30, TimeUnit.SECONDS);
            assertThat(order(served)).containsExactly("quiet", "noisy");
            Connection third = hold(proxy, "noisy");
            assertThat(proxy.upstreams().get(0).heldByShare()).containsEntry("application_name=noisy", 3);
            third.close();
            quietHolder.close();
            for (Connection c : held) {
                c.close();
            }
        }
    }

    @Test
    void reservedConnections_areTakenOnlyByHighAndCritical() throws Exception {
        try (ProxyServer proxy = start(3, a -> {
            a.reserved = 1;
            return a.rule("application_name=highapp:high");
        })) {
            Connection holder1 = hold(proxy, "normal");
            assertThat(poolOf(proxy).snapshot().reserved()).as("what status and metrics show").isEqualTo(1);
            Connection holder2 = hold(proxy, "normal");
            ConcurrentLinkedQueue<String> served = new ConcurrentLinkedQueue<>();
            Connection normal = connect(proxy, "normal");
            Future<?> normalRequest = pool.submit(() -> runAndRecord(normal, "normal", served));
            Await.until(AWAIT, "the third normal request waits: the last connection is reserved",
                    () -> poolOf(proxy).snapshot().waiting() == 1);
            Connection high = connect(proxy, "highapp");
            runAndRecord(high, "high", served);
            assertThat(order(served)).containsExactly("high");
            assertThat(poolOf(proxy).snapshot().waiting()).isEqualTo(1);

            holder1.commit();
            normalRequest.get(30, TimeUnit.SECONDS);
            assertThat(order(served)).containsExactly("high", "normal");
            holder1.close();
            holder2.close();
        }
    }

    @Test
    void fairShare_minimumIsServedBeforeOlderRequestsOfOthers() throws Exception {
        try (ProxyServer proxy = start(2, a -> a.share("application_name=checkout:1:2"))) {
            Connection batch1 = hold(proxy, "batch");
            Connection batch2 = hold(proxy, "batch");
            ConcurrentLinkedQueue<String> served = new ConcurrentLinkedQueue<>();
            Connection batch = connect(proxy, "batch");
            Future<?> batchRequest = pool.submit(() -> runAndRecord(batch, "batch", served));
            Await.until(AWAIT, "batch waits", () -> poolOf(proxy).snapshot().waiting() == 1);
            Connection checkout = connect(proxy, "checkout");
            Future<?> checkoutRequest = pool.submit(() -> runAndRecord(checkout, "checkout", served));
            Await.until(AWAIT, "checkout waits", () -> poolOf(proxy).snapshot().waiting() == 2);

            // checkout holds nothing of its guaranteed one: the free connection is its, though the
            // batch request is older and of the same class
            batch1.commit();
            checkoutRequest.get(30, TimeUnit.SECONDS);
            batchRequest.get(30, TimeUnit.SECONDS);
            assertThat(order(served)).containsExactly("checkout", "batch");
            batch1.close();
            batch2.close();
        }
    }

    @Test
    void deadlineExpiry_gives57014_fullQueue_gives53300AtOnce_connectionsStayUsable() throws Exception {
        try (ProxyServer proxy = start(1, a -> {
            a.queueSize = 2;
            a.timeouts.put(Priority.NORMAL, Duration.ofMillis(500));
            return a;
        })) {
            try (Connection warm = connect(proxy, "warm")) {
                warm.createStatement().execute("SELECT 1");
            }
            AtomicBoolean release = new AtomicBoolean();
            List<Future<?>> holders = occupy(proxy, 1, release);
            try (Connection a = connect(proxy, "a"); Connection b = connect(proxy, "b"); Connection c = connect(proxy, "c")) {
                Future<?> fa = pool.submit(() -> a.createStatement().execute("SELECT 1"));
                Future<?> fb = pool.submit(() -> b.createStatement().execute("SELECT 1"));
                Await.until(AWAIT, "two wait", () -> poolOf(proxy).snapshot().waiting() == 2);
                // the queue is full: refused at once, not after a deadline
                assertThatThrownBy(() -> c.createStatement().execute("SELECT 1"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"))
                        .hasMessageContaining("admission.queue_size");
                // the waiters time out with 57014 naming the wait and the setting
                for (Future<?> f : List.of(fa, fb)) {
                    assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(SQLException.class)
                            .satisfies(e -> {
                                SQLException se = (SQLException) e.getCause();
                                assertThat(se.getSQLState()).isEqualTo("57014");
                                assertThat(se.getMessage()).contains("admission.wait_timeout.normal");
                            });
                }
                release.set(true);
                for (Future<?> f : holders) {
                    f.get(60, TimeUnit.SECONDS);
                }
                for (Connection x : List.of(a, b, c)) {
                    try (ResultSet rs = x.createStatement().executeQuery("SELECT 42")) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getInt(1)).isEqualTo(42);
                    }
                }
            }
        }
    }

    @Test
    void hint_cannotRaisePriority_unlessTheRuleAllowsIt() throws Exception {
        for (boolean raise : new boolean[] {false, true}) {
            String rule = "application_name=hinted:low" + (raise ? ":raise" : "");
            try (ProxyServer proxy = start(1, a -> a.rule(rule))) {
                try (Connection warm = connect(proxy, "warm")) {
                    warm.createStatement().execute("SELECT 1");
                }
                AtomicBoolean release = new AtomicBoolean();
                List<Future<?>> holders = occupy(proxy, 1, release);
                try (Connection c = connect(proxy, "hinted"); Connection lower = connect(proxy, "hinted")) {
                    Future<?> f = pool.submit(() -> c.createStatement().execute("/* sluice: priority=critical */ SELECT 1"));
                    Priority expected = raise ? Priority.CRITICAL : Priority.LOW;
                    Await.until(AWAIT, "hinted request waits as " + expected,
                            () -> poolOf(proxy).snapshot().byClass().get(expected) == 1);
                    // lowering is always allowed
                    Future<?> g = pool.submit(() -> lower.createStatement().execute("/* sluice: priority=background */ SELECT 1"));
                    Await.until(AWAIT, "lowered request waits as background",
                            () -> poolOf(proxy).snapshot().byClass().get(Priority.BACKGROUND) == 1);
                    release.set(true);
                    for (Future<?> h : holders) {
                        h.get(60, TimeUnit.SECONDS);
                    }
                    f.get(60, TimeUnit.SECONDS);
                    g.get(60, TimeUnit.SECONDS);
                }
            }
        }
    }

    @Test
    void emergencyMode_shedsLowAndBackground_servesOthers() throws Exception {
        try (ProxyServer proxy = start(2, a -> {
            a.mode = Optional.of(OperatingMode.Mode.EMERGENCY);
            return a.rule("application_name=batch:background");
        })) {
            try (Connection normal = connect(proxy, "web"); Connection batch = connect(proxy, "batch")) {
                try (ResultSet rs = normal.createStatement().executeQuery("SELECT 1")) {
                    assertThat(rs.next()).isTrue();
                }
                assertThatThrownBy(() -> batch.createStatement().execute("SELECT 1"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"))
                        .hasMessageContaining("emergency");
                // the shed client keeps its connection, and is shed again
                assertThatThrownBy(() -> batch.createStatement().execute("/* sluice: priority=background */ SELECT 2"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"));
            }
        }
    }

    @Test
    void rateLimit_refusesWith53300AndRetryAfter() throws Exception {
        try (ProxyServer proxy = start(2, a -> {
            a.rate = 1;
            a.burst = 2;
            return a;
        })) {
            try (Connection c = connect(proxy, "rated")) {
                int refused = 0;
                String message = null;
                for (int i = 0; i < 10; i++) {
                    try {
                        c.createStatement().execute("SELECT 1");
                    } catch (SQLException e) {
                        assertThat(e.getSQLState()).isEqualTo("53300");
                        refused++;
                        message = e.getMessage();
                    }
                }
                assertThat(refused).isGreaterThanOrEqualTo(5);
                assertThat(message).contains("admission.rate_limit").contains("retry after");
            }
        }
    }

    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple", "extended"})
    void serializationFailure_inAutocommitStatement_isRetriedTransparently(String queryMode) throws Exception {
        try (ProxyServer proxy = start(2, a -> a);
             Connection c = connect(proxy, "retry", "preferQueryMode", queryMode);
             Statement s = c.createStatement()) {
            long before = sequenceValue();
            // the next call fails, the one after succeeds: the client sees only the success
            try (ResultSet rs = s.executeQuery("SELECT flaky(ARRAY[" + (before + 1) + "])")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(before + 2);
            }
            assertThat(sequenceValue()).isEqualTo(before + 2);
            // the session goes on normally after a retry
            try (ResultSet rs = s.executeQuery("SELECT flaky(ARRAY[0])")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(before + 3);
            }
        }
    }

    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple", "extended"})
    void serializationFailure_inADoBlock_isNotRetried_itMayHaveCommittedPartOfItsWork(String queryMode) throws Exception {
        try (ProxyServer proxy = start(2, a -> a);
             Connection c = connect(proxy, "retry", "preferQueryMode", queryMode);
             Statement s = c.createStatement()) {
            long before = sequenceValue();
            assertThatThrownBy(() -> s.execute("DO $$ BEGIN PERFORM flaky(ARRAY[" + (before + 1) + "]); END $$"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("40001"));
            assertThat(sequenceValue()).as("ran exactly once").isEqualTo(before + 1);
        }
    }

    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple", "extended"})
    void serializationFailure_insideExplicitTransaction_isNotRetried(String queryMode) throws Exception {
        try (ProxyServer proxy = start(2, a -> a);
             Connection c = connect(proxy, "retry", "preferQueryMode", queryMode);
             Statement s = c.createStatement()) {
            long before = sequenceValue();
            s.execute("BEGIN");
            assertThatThrownBy(() -> s.executeQuery("SELECT flaky(ARRAY[" + (before + 1) + "])"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("40001"));
            s.execute("ROLLBACK");
            assertThat(sequenceValue()).isEqualTo(before + 1);
        }
    }

    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple", "extended"})
    void serializationFailure_afterRowsReachedTheClient_isNotRetried(String queryMode) throws Exception {
        try (ProxyServer proxy = start(2, a -> a);
             Connection c = connect(proxy, "retry", "preferQueryMode", queryMode);
             Statement s = c.createStatement()) {
            long before = sequenceValue();
            assertThatThrownBy(() -> {
                try (ResultSet rs = s.executeQuery("SELECT fail_after_rows(g) FROM generate_series(1, 100000) g")) {
                    while (rs.next()) {
                        rs.getInt(1);
                    }
                }
            }).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("40001"));
            assertThat(sequenceValue()).as("ran exactly once").isEqualTo(before + 1);
        }
    }

    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple", "extended"})
    void realDeadlock_betweenTwoAutocommitStatements_isRetriedAndBothSucceed(String queryMode) throws Exception {
        try (ProxyServer proxy = start(4, a -> a);
             Connection a = connect(proxy, "deadlock-a", "preferQueryMode", queryMode);
             Connection b = connect(proxy, "deadlock-b", "preferQueryMode", queryMode)) {
            long deadlocksBefore = deadlocks();
            Future<?> fa = pool.submit(() -> a.createStatement()
                    .execute("SELECT pg_advisory_xact_lock(71), pg_sleep(0.5), pg_advisory_xact_lock(72)"));
            Future<?> fb = pool.submit(() -> b.createStatement()
                    .execute("SELECT pg_advisory_xact_lock(72), pg_sleep(0.5), pg_advisory_xact_lock(71)"));
            fa.get(60, TimeUnit.SECONDS);
            fb.get(60, TimeUnit.SECONDS);
            Await.until(AWAIT, "PostgreSQL counted the deadlock", () -> {
                try {
                    return deadlocks() > deadlocksBefore;
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }

    @Test
    void circuitBreaker_opensWhenPostgresIsDown_failsFast_thenClosesWhenItIsBack() throws Exception {
        try (EmbeddedPostgres pg = TestPostgres.startSeparate()) {
            SluiceConfig base = TestConfig.forPostgres(pg).poolSize(2).acquireTimeout(Duration.ofSeconds(5))
                    .connectTimeout(Duration.ofSeconds(2)).build();
            AdmissionConfig a = admission(base, x -> {
                x.breakerFailures = 2;
                x.coolDown = Duration.ofMillis(500);
                return x;
            });
            try (ProxyServer proxy = ProxyServer.start(base.withAdmission(a));
                 Connection c = ProxyClients.connect(proxy, ProxyClients.props("assumeMinServerVersion", "10"))) {
                c.createStatement().execute("SELECT 1");
                var upstream = proxy.upstreams().get(0);
                assertThat(upstream.breaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
                pg.stop();
                // the held connection dies, then new ones cannot be opened: the circuit opens
                Await.until(AWAIT, "circuit open", () -> {
                    try {
                        c.createStatement().execute("SELECT 1");
                    } catch (SQLException e) {
                        assertThat(e.getSQLState()).isIn("08006", "57P01");
                    }
                    return upstream.breaker().state() == CircuitBreaker.State.OPEN;
                });
                // while open, requests fail at once with 08006 naming the upstream
                assertThatThrownBy(() -> c.createStatement().execute("SELECT 1"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08006"))
                        .hasMessageContaining("circuit open").hasMessageContaining("127.0.0.1:" + pg.port());
                pg.restart();
                // after the cool-down a probe gets through, succeeds, and the circuit closes
                Await.until(AWAIT, "circuit closed again", () -> {
                    try {
                        c.createStatement().execute("SELECT 1");
                        return upstream.breaker().state() == CircuitBreaker.State.CLOSED;
                    } catch (SQLException e) {
                        return false;
                    }
                });
            }
        }
    }

    @Test
    void adaptiveLimit_dropsWhenPostgresSlowsDown() throws Exception {
        try (Connection su = su(); Statement s = su.createStatement()) {
            s.execute("DROP TABLE IF EXISTS adaptive_delay");
            s.execute("CREATE TABLE adaptive_delay(d float8)");
            // "fast" is 2 ms of waiting, not 0: statements that only cost CPU get slower with every
            // one added on a 2-core machine, which the limiter reads as queueing, so how far the
            // limit grows would depend on how busy the machine is; a wait inside PostgreSQL does not
            s.execute("INSERT INTO adaptive_delay VALUES (0.002)");
            s.execute("GRANT SELECT ON adaptive_delay TO " + TestPostgres.APP_USER);
        }
        try (ProxyServer proxy = start(16, a -> {
            a.adaptive = true;
            a.minLimit = 1;
            return a;
        })) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger errors = new AtomicInteger();
            List<Future<?>> load = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                Connection c = connect(proxy, "load");
                load.add(pool.submit(() -> {
                    try (c; Statement st = c.createStatement()) {
                        while (!stop.get()) {
                            try {
                                st.execute("SELECT pg_sleep(d) FROM adaptive_delay");
                            } catch (SQLException e) {
                                errors.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            try {
                Await.until(AWAIT, "traffic reached the upstream", () -> !proxy.upstreams().isEmpty());
                var limit = proxy.upstreams().get(0).adaptiveLimit();
                Await.until(AWAIT, () -> limit.limit() >= 7, () -> "limit grew under fast queries: " + limit.snapshot());
                int fast = limit.limit();
                // PostgreSQL gets slow: every statement of the load now takes 50 ms
                try (Connection su = su(); Statement s = su.createStatement()) {
                    s.execute("UPDATE adaptive_delay SET d = 0.05");
                }
                Await.until(AWAIT, "limit dropped while PostgreSQL was slow (was " + fast + ")",
                        () -> limit.limit() <= fast - 2);
            } finally {
                stop.set(true);
            }
            for (Future<?> f : load) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertThat(errors.get()).isZero();
        }
    }

    /** A superuser connection to the database the clients use. */
    private static Connection su() throws SQLException {
        return TestPostgres.superuserConnection(TestPostgres.shared(), TestPostgres.DATABASE);
    }

    private static long sequenceValue() throws SQLException {
        try (Connection su = su(); Statement s = su.createStatement();
             ResultSet rs = s.executeQuery("SELECT last_value, is_called FROM retry_calls")) {
            rs.next();
            return rs.getBoolean(2) ? rs.getLong(1) : 0;
        }
    }

    private static long deadlocks() throws SQLException {
        try (Connection su = su(); Statement s = su.createStatement();
             ResultSet rs = s.executeQuery("SELECT deadlocks FROM pg_stat_database WHERE datname = 'app'")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}

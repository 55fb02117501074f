package dev.sluice.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class EmbeddedPostgresIT {

    @Test
    void start_acceptsConnectionsAndRunsSql() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .serverConfig("max_connections", "42")
                .initSql("CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)")
                .initSql("INSERT INTO t VALUES (3)")
                .start()) {
            assertThat(pg.isRunning()).isTrue();
            assertThat(pg.host()).isEqualTo("127.0.0.1");
            assertThat(pg.port()).isPositive();
            try (Connection c = connect(pg, "postgres", null, "postgres"); Statement s = c.createStatement()) {
                assertThat(scalar(s, "SELECT count(*) FROM t")).isEqualTo("3");
                assertThat(scalar(s, "SHOW max_connections")).isEqualTo("42");
                assertThat(scalar(s, "SHOW fsync")).isEqualTo("off");
                assertThat(scalar(s, "SHOW server_version")).startsWith("17.");
                assertThat(scalar(s, "SELECT current_setting('is_superuser')")).isEqualTo("on");
            }
        }
    }

    @Test
    void stopAndRestart_keepPortAndData() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            int port = pg.port();
            try (Connection c = connect(pg, "postgres", null, "postgres"); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives')");
            }
            pg.stop();
            assertThat(pg.isRunning()).isFalse();
            assertThatThrownBy(() -> connect(pg, "postgres", null, "postgres")).isInstanceOf(SQLException.class);

            pg.restart();
            assertThat(pg.isRunning()).isTrue();
            assertThat(pg.port()).isEqualTo(port);
            try (Connection c = connect(pg, "postgres", null, "postgres"); Statement s = c.createStatement()) {
                assertThat(scalar(s, "SELECT v FROM kept")).isEqualTo("survives");
            }
        }
    }

    @Test
    void close_stopsServerAndDeletesItsDirectories() throws Exception {
        EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
        Path base = pg.dataDirectory().getParent();
        assertThat(base).isDirectory();
        pg.close();
        assertThat(pg.isRunning()).isFalse();
        assertThat(Files.exists(base)).isFalse();
        pg.close(); // idempotent
    }

    @Test
    void superuserPassword_isRequiredWhenHbaAsksForIt() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .superuserPassword("s3cret")
                .hbaLine("host all all 127.0.0.1/32 scram-sha-256")
                .initSql("SELECT 1")
                .start()) {
            assertThatThrownBy(() -> connect(pg, "postgres", "wrong", "postgres"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("password authentication failed");
            try (Connection c = connect(pg, "postgres", "s3cret", "postgres"); Statement s = c.createStatement()) {
                assertThat(scalar(s, "SELECT 1")).isEqualTo("1");
            }
        }
    }

    @Test
    void initSql_failureStopsStartWithTheServerMessage() {
        assertThatThrownBy(() -> EmbeddedPostgres.builder().initSql("SELECT * FROM no_such_table").start())
                .isInstanceOf(IOException.class)
                .hasMessageContaining("no_such_table")
                .hasMessageContaining("42P01");
    }

    @Test
    void demoDatabase_acceptsScramLoginAndHasSampleTable() throws Exception {
        try (DemoDatabase demo = DemoDatabase.start()) {
            assertThat(demo.database().name()).isEqualTo("demo");
            assertThat(demo.database().dbname()).isEqualTo("demo");
            assertThat(demo.database().host()).isEqualTo("127.0.0.1");
            assertThat(demo.database().port()).isEqualTo(demo.postgres().port());
            assertThat(demo.database().user()).isEmpty();
            assertThat(demo.user().name()).isEqualTo("user");
            assertThat(demo.user().password()).isEqualTo("password");

            try (Connection c = connect(demo.postgres(), "user", "password", "demo");
                    Statement s = c.createStatement()) {
                assertThat(scalar(s, "SELECT count(*) FROM items")).isEqualTo("5");
                assertThat(scalar(s, "SELECT tableowner FROM pg_tables WHERE tablename = 'items'")).isEqualTo("user");
                s.execute("INSERT INTO items (name, price) VALUES ('tea', 1.50)");
            }
            assertThatThrownBy(() -> connect(demo.postgres(), "user", "wrong", "demo"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("password authentication failed");
        }
    }

    static Connection connect(EmbeddedPostgres pg, String user, String password, String db) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        return DriverManager.getConnection("jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/" + db, p);
    }

    static String scalar(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }
}

package dev.sluice.it.support;

import dev.sluice.frontend.ProxyServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/** pgjdbc connections to a running Sluice. */
public final class ProxyClients {

    private ProxyClients() {
    }

    /** {@code jdbc:postgresql://127.0.0.1:PORT/DATABASE} for {@code proxy}. */
    public static String jdbcUrl(ProxyServer proxy, String database) {
        return "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/" + database;
    }

    /** The {@code app} user, database {@code app}, password auth, with {@code extra} pgjdbc properties. */
    public static Connection connect(ProxyServer proxy, Properties extra) throws SQLException {
        return connect(proxy, TestPostgres.APP_USER, TestPostgres.APP_PASSWORD, TestPostgres.DATABASE, extra);
    }

    /** The {@code app} user, database {@code app}, pgjdbc defaults. */
    public static Connection connect(ProxyServer proxy) throws SQLException {
        return connect(proxy, new Properties());
    }

    /** Any user and database, with {@code extra} pgjdbc properties ({@code password} may be null). */
    public static Connection connect(ProxyServer proxy, String user, String password, String database,
            Properties extra) throws SQLException {
        Properties p = new Properties();
        p.putAll(extra);
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        p.putIfAbsent("connectTimeout", "10");
        p.putIfAbsent("socketTimeout", "60");
        return DriverManager.getConnection(jdbcUrl(proxy, database), p);
    }

    /** Properties from alternating keys and values. */
    public static Properties props(String... keyValues) {
        Properties p = new Properties();
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return p;
    }
}

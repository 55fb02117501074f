package dev.sluice.bench;

import dev.sluice.sql.Fingerprint;
import dev.sluice.sql.Fingerprinter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Cost of fingerprinting one statement: a short one (~40 chars) and a long one (~2 kB with an IN
 * list of 200 values); from a String and from a direct ByteBuf as the proxy sees it; the id alone
 * (hot path), the full fingerprint (id, kind, hints), and id plus normalised text (first sight).
 * Netty's Unsafe paths are on, as the {@code sluice} launcher sets them.
 */
@State(Scope.Thread)
@Fork(jvmArgsAppend = "-Dio.netty.noUnsafe=false")
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FingerprintBenchmark {
    static final String SHORT = "SELECT id, name FROM users WHERE id = $1";

    static final String LONG;

    static {
        StringBuilder sb = new StringBuilder(
                "/* sluice: priority=normal */ SELECT o.id, o.customer_id, o.status, o.created_at, "
                + "o.total_amount, c.name, c.email, c.country, a.street, a.city, a.postcode "
                + "FROM orders o JOIN customers c ON c.id = o.customer_id "
                + "LEFT JOIN addresses a ON a.customer_id = c.id AND a.kind = 'shipping' "
                + "WHERE o.created_at >= '2024-01-01'::timestamptz AND o.status <> 'cancelled' "
                + "AND o.id IN (");
        for (int i = 0; i < 200; i++) {
            sb.append(i == 0 ? "" : ", ").append(100_000 + i * 7);
        }
        sb.append(") ORDER BY o.created_at DESC, o.id LIMIT 100 OFFSET 0");
        LONG = sb.toString();
    }

    @Param({"short", "long"})
    public String statement;

    private String sql;
    private ByteBuf buf;
    private int from;
    private int to;

    @Setup
    public void setUp() {
        sql = statement.equals("short") ? SHORT : LONG;
        byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
        buf = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length + 6);
        buf.writeByte('Q').writeInt(bytes.length + 5);
        from = buf.writerIndex();
        buf.writeBytes(bytes);
        to = buf.writerIndex();
        buf.writeByte(0);
    }

    @TearDown
    public void tearDown() {
        buf.release();
    }

    @Benchmark
    public long idString() {
        return Fingerprinter.id(sql);
    }

    @Benchmark
    public long idByteBuf() {
        return Fingerprinter.id(buf, from, to);
    }

    @Benchmark
    public Fingerprint fingerprintByteBuf() {
        return Fingerprinter.fingerprint(buf, from, to);
    }

    @Benchmark
    public void idAndTextString(Blackhole bh) {
        bh.consume(Fingerprinter.id(sql));
        bh.consume(Fingerprinter.normalize(sql));
    }

    @Benchmark
    public void idAndTextByteBuf(Blackhole bh) {
        bh.consume(Fingerprinter.id(buf, from, to));
        bh.consume(Fingerprinter.normalize(buf, from, to));
    }
}

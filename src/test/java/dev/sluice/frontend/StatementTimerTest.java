package dev.sluice.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.sql.Fingerprinter;
import dev.sluice.stats.QueryStats;
import dev.sluice.stats.QueryStats.Row;
import dev.sluice.stats.QueryStats.SortBy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class StatementTimerTest {
    private final AtomicLong clock = new AtomicLong();
    private final QueryStats stats = new QueryStats(100, clock::get);
    private final StatementTimer timer = new StatementTimer(stats);

    private static ByteBuf text(String sql) {
        return Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
    }

    private void query(String sql, long now) {
        ByteBuf b = text(sql);
        timer.query(b, 0, b.readableBytes(), now);
        b.release();
    }

    private Row row(String sql) {
        ByteBuf b = text(sql);
        long id = Fingerprinter.id(b, 0, b.readableBytes());
        b.release();
        return stats.snapshot(SortBy.TOTAL_TIME, Integer.MAX_VALUE).rows().stream()
                .filter(r -> r.id() == id).findFirst().orElseThrow();
    }

    @Test
    void pipelineDeeperThanTheArrays_isAnsweredInOrderAcrossTheWrap() {
        // a few in and out first, so that the FIFO's head is not at index 0 when it grows
        for (int i = 0; i < 3; i++) {
            query("SELECT " + i, 0);
            timer.queryDone(10, "db", "u", "app");
        }
        // 11 statements of 3 shapes in flight at once: the arrays grow twice, with the head inside
        String[] shapes = {"SELECT 1", "SELECT 1 FROM t", "SELECT 1 FROM t, u"};
        for (int i = 0; i < 11; i++) {
            query(shapes[i % 3], 100 + i);
        }
        for (int i = 0; i < 11; i++) {
            timer.queryRows(i);
            timer.queryDone(1_000 + 10 * i, "db", "u", "app");
        }
        // each shape's latency is end - start of its own statements only
        for (int s = 0; s < 3; s++) {
            long total = 0;
            long rows = 0;
            long calls = 0;
            for (int i = s; i < 11; i += 3) {
                total += (1_000 + 10 * i) - (100 + i);
                rows += i;
                calls++;
            }
            Row r = row(shapes[s]);
            assertThat(r.calls()).as(shapes[s]).isEqualTo(calls + (s == 0 ? 3 : 0));
            assertThat(r.totalNanos()).as(shapes[s]).isEqualTo(total + (s == 0 ? 3 * 10 : 0));
            assertThat(r.rows()).as(shapes[s]).isEqualTo(rows);
        }
        assertThat(row("SELECT 1 FROM t, u").text()).isEqualTo("SELECT ? FROM t, u");
        // nothing left in flight: a further completion records nothing
        timer.queryDone(5_000, "db", "u", "app");
        assertThat(stats.snapshot(SortBy.CALLS, 10).rows().stream().mapToLong(Row::calls).sum()).isEqualTo(14);
    }

    @Test
    void waitForAServer_isChargedToTheNextStatementOnly() {
        timer.waited(40);
        query("SELECT 1", 100);
        query("SELECT 1 FROM t", 100);
        timer.queryDone(200, "db", "u", "app");
        timer.queryDone(200, "db", "u", "app");
        assertThat(row("SELECT 1").waitNanos()).isEqualTo(40);
        assertThat(row("SELECT 1").totalNanos()).isEqualTo(140);
        assertThat(row("SELECT 1 FROM t").waitNanos()).isZero();
        assertThat(row("SELECT 1 FROM t").totalNanos()).isEqualTo(100);
    }

    @Test
    void dropAndClear_forgetWithoutRecording_andTheTextOfAnUnseenShapeSurvives() {
        query("SELECT 1 FROM t", 0); // dropped: its text must not be lost for the next one
        query("SELECT 1", 0);
        timer.drop();
        timer.queryDone(50, "db", "u", "app");
        assertThat(row("SELECT 1").calls()).isEqualTo(1);
        assertThat(stats.contains(row("SELECT 1").id())).isTrue();
        query("SELECT 2 FROM t", 60);
        timer.queryDone(70, "db", "u", "app");
        assertThat(row("SELECT 1 FROM t").text()).isEqualTo("SELECT ? FROM t");
        assertThat(row("SELECT 1 FROM t").calls()).isEqualTo(1);

        query("SELECT 1", 0);
        query("SELECT 1", 0);
        timer.clear();
        timer.queryDone(100, "db", "u", "app");
        assertThat(row("SELECT 1").calls()).isEqualTo(1);
    }
}

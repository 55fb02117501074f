package dev.sluice.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ServerStatementsTest {

    private static StatementKey key(String sql) {
        return onBytes(sql + "\0\0\0", b -> StatementKey.of(b, 0, b.readableBytes()));
    }

    private static <T> T onBytes(String text, java.util.function.Function<ByteBuf, T> f) {
        ByteBuf b = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
        try {
            return f.apply(b);
        } finally {
            b.release();
        }
    }

    @Test
    void sameTextAndTypes_isTheSameKey() {
        assertThat(key("select 1")).isEqualTo(key("select 1")).hasSameHashCodeAs(key("select 1"));
        assertThat(key("select 1")).isNotEqualTo(key("select 2"));
    }

    @Test
    void add_givesFreshNamesNeverReused() {
        ServerStatements s = new ServerStatements(10);
        String a = s.add(key("a"));
        s.remove(key("a"), a);
        String b = s.add(key("a"));
        assertThat(a).isEqualTo("sluice_1");
        assertThat(b).isEqualTo("sluice_2");
        assertThat(s.get(key("a"))).isEqualTo("sluice_2");
    }

    @Test
    void evictOne_dropsLeastRecentlyUsedOnlyWhenOverCapacity() {
        ServerStatements s = new ServerStatements(2);
        String a = s.add(key("a"));
        s.add(key("b"));
        assertThat(s.evictOne()).isNull();
        s.get(key("a")); // a is now more recent than b
        s.add(key("c"));
        assertThat(s.evictOne()).isEqualTo("sluice_2");
        assertThat(s.get(key("b"))).isNull();
        assertThat(s.get(key("a"))).isEqualTo(a);
        assertThat(s.size()).isEqualTo(2);
    }

    @Test
    void remove_onlyForgetsTheNamedVersion() {
        ServerStatements s = new ServerStatements(4);
        String first = s.add(key("x"));
        String second = s.add(key("x"));
        s.remove(key("x"), first);
        assertThat(s.get(key("x"))).isEqualTo(second);
        s.clear();
        assertThat(s.size()).isZero();
    }

    @Test
    void closesOwed_areHandedOutOnce_exceptNamesPreparedAgainMeanwhile() {
        ServerStatements s = new ServerStatements(4);
        String evicted = s.add(key("a"));
        s.remove(key("a"), evicted);
        String again = s.add(key("b"));
        assertThat(s.takeClosesOwed()).isEmpty();
        s.closeSkipped(evicted);
        s.closeSkipped(again); // a later exchange prepared it anew: its Close must not be sent
        assertThat(s.takeClosesOwed()).containsExactly(evicted);
        assertThat(s.takeClosesOwed()).isEmpty();
        s.closeSkipped(evicted);
        s.clear();
        assertThat(s.takeClosesOwed()).isEmpty();
    }

    @Test
    void mayDropStatements_deallocateOrDiscardFirst_inAnyCase_orAHiddenFirstWord() {
        assertThat(drops("DEALLOCATE ALL")).isTrue();
        assertThat(drops("  \n\tdeallocate x")).isTrue();
        assertThat(drops("Discard All")).isTrue();
        assertThat(drops("discard")).isTrue();
        assertThat(drops("/* comment */ SELECT 1")).as("a comment hides the first word").isTrue();
        assertThat(drops("-- c\nSELECT 1")).isTrue();
        assertThat(drops("(SELECT 1)")).isTrue();
        assertThat(drops(" ; ;DEALLOCATE ALL")).as("empty statements before it").isTrue();
        assertThat(drops("SELECT 'deallocate'")).isFalse();
        assertThat(drops("discarded_rows")).as("a longer word").isFalse();
        assertThat(drops("deallocate_x")).isFalse();
        assertThat(drops("")).isFalse();
        assertThat(drops("   ")).isFalse();
    }

    @Test
    void dropsStatements_isComputedOnceForTheKey_fromItsText() {
        assertThat(key("DEALLOCATE ALL").dropsStatements()).isTrue();
        assertThat(key("SELECT 1").dropsStatements()).isFalse();
    }

    @Test
    void retainNames_keepsOnlyThoseNames_andForgetsClosesOwed() {
        ServerStatements st = new ServerStatements(10);
        String a = st.add(key("select 1"));
        String b = st.add(key("select 2"));
        st.closeSkipped(a);
        st.retainNames(java.util.Set.of(b));
        assertThat(st.get(key("select 1"))).isNull();
        assertThat(st.get(key("select 2"))).isEqualTo(b);
        assertThat(st.takeClosesOwed()).isEmpty();
    }

    @Test
    void removeName_forgetsTheStatementOfThatName_andReturnsItsKey() {
        ServerStatements st = new ServerStatements(10);
        String a = st.add(key("select 1"));
        assertThat(st.removeName("sluice_none")).isNull();
        assertThat(st.removeName(a)).isEqualTo(key("select 1"));
        assertThat(st.get(key("select 1"))).isNull();
        assertThat(st.size()).isZero();
    }

    private static boolean drops(String text) {
        return onBytes(text, b -> StatementKey.mayDropStatements(b, 0, b.readableBytes()));
    }
}

#!/usr/bin/env bash
# run.sh TARGET_PORT LABEL
#
# Runs the fixed pgbench matrix against 127.0.0.1:TARGET_PORT (PostgreSQL
# itself, PgBouncer, or any other proxy speaking the PostgreSQL protocol) and
# prints one TSV row per scenario on stdout (progress goes to stderr).
# Every pgbench run is bounded by -T plus a hard `timeout`; a pgbench that
# cannot connect (e.g. "too many clients") becomes a result row, it does not
# stop the matrix.
#
# Env (defaults):
#   DURATION=15        seconds per scenario (-T)
#   THREADS=2          pgbench -j
#   ROUND=1            copied into the "round" column (run-all.sh sets it)
#   SCENARIOS=all      comma list of scenario ids to run, e.g. select-c16,churn-c32
#   HEADER=1           print the TSV header line (0 to suppress)
#   WARMUP_S=5         unrecorded pgbench -S -c 16 warm-up against the target (0 = off)
#   SETTLE_S=3         pause between scenarios
#   ADMIN_PORT=55432   direct PostgreSQL port used (as superuser) for CHECKPOINT and
#                      for waiting until the previous scenario's backends are gone;
#                      empty = skip
#   PROXY_PID=         pid(s) of the proxy process(es) whose CPU use goes into
#                      proxy_cpu (children of these pids are included)
#   PROXY_PIDFILE=     alternatively a pidfile to read PROXY_PID from
#   SERVER_PIDFILE=$PG_DATA/postmaster.pid  (for server_cpu)
#   SLOW_SQL='SELECT pg_sleep(0.05);'  slow statement of the overload mix
#   FAST_WEIGHT=9 SLOW_WEIGHT=1        overload mix weights (90% / 10%)
#   RANDOM_SEED=4242   pgbench --random-seed (same key sequence for every target)
#   CONNECT_GRACE=120  extra seconds beyond DURATION before `timeout` kills pgbench
#   RAW_ROOT=/tmp/benchraw   raw pgbench outputs are kept under RAW_ROOT/LABEL-rROUND-TIME/
#   KEEP_TXLOG=0       keep the per-transaction logs (can be tens of MB)
#   BENCH_USER=bench BENCH_DB=bench
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

[ $# -eq 2 ] || { echo "usage: $0 TARGET_PORT LABEL" >&2; exit 2; }
PORT=$1
LABEL=$2
DURATION=${DURATION:-15}
THREADS=${THREADS:-2}
ROUND=${ROUND:-1}
SCENARIOS=${SCENARIOS:-all}
HEADER=${HEADER:-1}
WARMUP_S=${WARMUP_S:-5}
SETTLE_S=${SETTLE_S:-3}
ADMIN_PORT=${ADMIN_PORT-$PG_PORT}
PROXY_PID=${PROXY_PID:-}
PROXY_PIDFILE=${PROXY_PIDFILE:-}
SERVER_PIDFILE=${SERVER_PIDFILE:-$PG_DATA/postmaster.pid}
SLOW_SQL=${SLOW_SQL:-SELECT pg_sleep(0.05);}
FAST_WEIGHT=${FAST_WEIGHT:-9}
SLOW_WEIGHT=${SLOW_WEIGHT:-1}
RANDOM_SEED=${RANDOM_SEED:-4242}
CONNECT_GRACE=${CONNECT_GRACE:-120}
RAW_ROOT=${RAW_ROOT:-/tmp/benchraw}
KEEP_TXLOG=${KEEP_TXLOG:-0}

raise_nofile "$NOFILE"
[ "$(ulimit -n)" -ge 2200 ] || log "warning: ulimit -n is $(ulimit -n); 1000-client runs may fail with EMFILE"

NCPU=$(nproc)
CLK_TCK=$(getconf CLK_TCK)
RAW=$RAW_ROOT/$LABEL-r$ROUND-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RAW"
[ -n "$PROXY_PIDFILE" ] && [ -f "$PROXY_PIDFILE" ] && PROXY_PID="$PROXY_PID $(cat "$PROXY_PIDFILE")"

COLS="label round started scenario clients protocol tps avg_ms p50_ms p99_ms max_ms txns failed_txns aborted_clients conn_ms pgbench_rc pgbench_cpu server_cpu proxy_cpu other_cpu steal_pct load1 error"
[ "$HEADER" = 1 ] && echo "$COLS" | tr ' ' '\t'

want() { [ "$SCENARIOS" = all ] || [[ ",$SCENARIOS," == *",$1,"* ]]; }

admin_sql() {
    [ -n "$ADMIN_PORT" ] || return 1
    "$PGBIN/psql" -X -Atq -h "$BENCH_HOST" -p "$ADMIN_PORT" -U "$PG_SUPERUSER" -d "$BENCH_DB" -c "$1" 2>/dev/null
}

settle() {
    if [ -n "$ADMIN_PORT" ]; then
        admin_sql CHECKPOINT >/dev/null || true
        local i n
        for ((i = 0; i < 60; i++)); do   # <= 30 s for the last run's sessions to finish
            n=$(admin_sql "SELECT count(*) FROM pg_stat_activity
                           WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
                             AND state IS DISTINCT FROM 'idle'") || break
            [ "$n" = 0 ] && break
            sleep 0.5
        done
    fi
    sleep "$SETTLE_S"
}

# /proc/stat -> "total busy steal" in ticks (busy = user+nice+system+irq+softirq)
cpu_stat() { awk '/^cpu /{b=$2+$3+$4+$7+$8; print b+$5+$6+$9, b, $9}' /proc/stat; }

# per-process snapshot: pid starttime ppid comm ticks child_ticks
proc_snap() {
    cat /proc/[0-9]*/stat 2>/dev/null | awk '{
        l = $0; p = index(l, "("); q = 0
        for (i = length(l); i > p; i--) if (substr(l, i, 1) == ")") { q = i; break }
        if (!q) next
        pid = substr(l, 1, p - 2); comm = substr(l, p + 1, q - p - 1); gsub(/[ \t]/, "_", comm)
        n = split(substr(l, q + 2), f, " ")          # f[k] is stat field k+2
        print pid, f[20], f[2], comm, f[12] + f[13], f[14] + f[15]
    }'
}

# attribute CPU between two snapshots: prints "server proxy other" in ticks
cpu_attr() {   # before after server_pid "proxy pids"
    awk -v spid="$3" -v ppids="$4" '
        BEGIN { n = split(ppids, a, " "); for (i = 1; i <= n; i++) proxy[a[i]] = 1 }
        NR == FNR { key = $1 "/" $2; t0[key] = $5; c0[key] = $6; next }
        {
            key = $1 "/" $2; pid = $1; ppid = $3; comm = $4
            d = $5 - ((key in t0) ? t0[key] : 0)
            cd = $6 - ((key in c0) ? c0[key] : 0)       # reaped children (e.g. churned backends)
            if (spid != "" && (pid == spid || ppid == spid)) { srv += d; if (pid == spid) srv += cd }
            else if ((pid in proxy) || (ppid in proxy)) { prx += d; if (pid in proxy) prx += cd }
            else if (comm == "pgbench" || comm == "timeout") { }   # measured via rusage
            else oth += d
        }
        END { printf "%d %d %d\n", srv, prx, oth }' "$1" "$2"
}

# latencies in us on stdin -> "n avg p50 p99 max" (ms, nearest-rank percentiles)
lat_stats() {
    sort -n | awk '{ v[NR] = $1; s += $1 }
        END {
            if (NR == 0) { print 0, "NA", "NA", "NA", "NA"; exit }
            i50 = int(0.50 * NR); if (i50 < 0.50 * NR) i50++
            i99 = int(0.99 * NR); if (i99 < 0.99 * NR) i99++
            printf "%d %.3f %.3f %.3f %.3f\n", NR, s / NR / 1000, v[i50] / 1000, v[i99] / 1000, v[NR] / 1000
        }'
}

clean_text() { tr '\t\r\n' '   ' | sed -e 's/^ *//' -e 's/ *$//' | cut -c1-500; }
clean_text_join() { tr '\t\r' '  ' | awk 'NR > 1 { printf " | " } { printf "%s", $0 }' | cut -c1-500; }

emit() { local IFS=$'\t'; echo "$*"; }

# run_one ID SCENARIO CLIENTS PROTOCOL [extra pgbench args...]
run_one() {
    local id=$1 scen=$2 clients=$3 proto=$4
    shift 4
    want "$id" || return 0
    local dir=$RAW/$id
    mkdir -p "$dir"
    settle
    local started load1 c0 c1 s0 s1 t0 t1 rc
    started=$(date +%H:%M:%S)
    load1=$(cut -d' ' -f1 /proc/loadavg)
    log "$LABEL r$ROUND: $id (-c $clients, $proto) ..."

    local spid=""
    [ -f "$SERVER_PIDFILE" ] && spid=$(head -1 "$SERVER_PIDFILE")
    proc_snap >"$dir/snap0"
    c0=$(cpu_stat)
    t0=$(date +%s.%N)
    local TIMEFORMAT='%R %U %S'
    { time timeout -k 10 $((DURATION + CONNECT_GRACE)) \
        pgbench -h "$BENCH_HOST" -p "$PORT" -U "$BENCH_USER" \
            -c "$clients" -j "$THREADS" -T "$DURATION" --protocol="$proto" \
            --random-seed="$RANDOM_SEED" -l --log-prefix="$dir/tx" \
            "$@" "$BENCH_DB" >"$dir/stdout" 2>"$dir/stderr"; } 2>"$dir/time"
    rc=$?
    t1=$(date +%s.%N)
    c1=$(cpu_stat)
    proc_snap >"$dir/snap1"
    echo "$rc" >"$dir/rc"

    # ---- pgbench summary ----
    local out=$dir/stdout err=$dir/stderr
    local tps txns failed conn pgavg aborted error
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out" | head -1)
    txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out" | head -1)
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out" | head -1)
    conn=$(sed -n 's/^\(initial\|average\) connection time = \([0-9.]*\) ms.*/\2/p' "$out" | head -1)
    pgavg=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$out" | head -1)
    aborted=$(grep -cE 'client [0-9]+ (script [0-9]+ )?aborted' "$err")
    error=$(grep -E 'FATAL|ERROR|error' "$err" | awk '!seen[$0]++' | head -2 | clean_text_join)
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        error="killed by timeout after $((DURATION + CONNECT_GRACE))s; ${error}"
    fi
    [ "$rc" != 0 ] && [ -z "$error" ] && error=$(tail -2 "$err" | clean_text)
    [ -z "$error" ] && error="-"

    # ---- CPU attribution ----
    local wall pgcpu srv prx oth steal host
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    pgcpu=$(awk '{ if ($1 > 0) printf "%.2f", ($2 + $3) / $1; else print "NA" }' "$dir/time")
    read -r srv prx oth < <(cpu_attr "$dir/snap0" "$dir/snap1" "$spid" "$PROXY_PID")
    read -r host steal < <(echo "$c0 $c1" | awk -v n="$NCPU" '{ t = $4 - $1
        if (t > 0) printf "%.2f %.1f\n", ($5 - $2) / t * n, ($6 - $3) / t * 100; else print "NA NA" }')
    local tocores="awk -v w=$wall -v hz=$CLK_TCK -v n=$NCPU"
    srv=$($tocores -v x="$srv" 'BEGIN { printf "%.2f", x / hz / w }')
    if [ -n "${PROXY_PID// /}" ]; then prx=$($tocores -v x="$prx" 'BEGIN { printf "%.2f", x / hz / w }'); else prx=NA; fi
    oth=$($tocores -v x="$oth" 'BEGIN { printf "%.2f", x / hz / w }')
    echo "wall=$wall host_busy_cores=$host steal_pct=$steal pgbench=$pgcpu server=$srv proxy=$prx other=$oth" >"$dir/cpu.txt"

    # ---- latency percentiles from the per-transaction logs ----
    # log line: client_id txn_no latency_us script_no epoch_s epoch_us  ("failed" instead of latency on failure)
    local n avg p50 p99 max
    cat "$dir"/tx.* 2>/dev/null | awk '$3 ~ /^[0-9]+$/ { print $4, $3 }' >"$dir/lat"
    read -r n avg p50 p99 max < <(cut -d' ' -f2 "$dir/lat" | lat_stats)
    [ "$n" = 0 ] && avg=${pgavg:-NA}

    emit "$LABEL" "$ROUND" "$started" "$scen" "$clients" "$proto" "${tps:-NA}" "$avg" "$p50" "$p99" "$max" \
        "${txns:-NA}" "${failed:-NA}" "$aborted" "${conn:-NA}" "$rc" "$pgcpu" "$srv" "$prx" "$oth" "$steal" "$load1" "$error"

    # per-script breakdown for multi-script mixes (script_no 0..k-1)
    if [ "$n" != 0 ] && [ -n "${SUBNAMES:-}" ]; then
        local k=0 sub sn savg s50 s99 smax stps
        for sub in $SUBNAMES; do
            read -r sn savg s50 s99 smax < <(awk -v k=$k '$1 == k { print $2 }' "$dir/lat" | lat_stats)
            stps=$(awk -v c="$sn" -v d="$DURATION" 'BEGIN { printf "%.3f", c / d }')
            emit "$LABEL" "$ROUND" "$started" "$scen:$sub" "$clients" "$proto" "$stps" "$savg" "$s50" "$s99" "$smax" \
                "$sn" "NA" "NA" "NA" "$rc" "NA" "NA" "NA" "NA" "NA" "$load1" "per-script rows: tps = logged txns / DURATION"
            k=$((k + 1))
        done
    fi
    [ "$KEEP_TXLOG" = 1 ] || rm -f "$dir"/tx.* "$dir/lat"
    rm -f "$dir/snap0" "$dir/snap1"
    log "  -> tps=${tps:-NA} p99=${p99}ms rc=$rc ${error:0:120}"
}

# ---------------------------------------------------------------------------
wait_port "$PORT" 15 || die "nothing answering on $BENCH_HOST:$PORT"
scale=$("$PGBIN/psql" -X -Atq -h "$BENCH_HOST" -p "$PORT" -U "$BENCH_USER" -d "$BENCH_DB" \
        -c "SELECT count(*) FROM pgbench_branches" 2>/dev/null) || scale=$SCALE
[ -n "$scale" ] || scale=$SCALE
{
    echo "label=$LABEL port=$PORT round=$ROUND scale=$scale duration=$DURATION threads=$THREADS"
    echo "proxy_pid=$PROXY_PID server_pidfile=$SERVER_PIDFILE ulimit_n=$(ulimit -n) nproc=$NCPU"
    pgbench --version
} >"$RAW/meta.txt"
log "$LABEL r$ROUND: target $BENCH_HOST:$PORT, scale $scale, raw output in $RAW"

cat >"$RAW/fast.sql" <<'SQL'
\set aid random(1, 100000 * :scale)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
SQL
printf '%s\n' "$SLOW_SQL" >"$RAW/slow.sql"

if [ "$WARMUP_S" -gt 0 ]; then
    timeout -k 5 $((WARMUP_S + 60)) pgbench -n -S -h "$BENCH_HOST" -p "$PORT" -U "$BENCH_USER" \
        -c 16 -j "$THREADS" -T "$WARMUP_S" "$BENCH_DB" >"$RAW/warmup.out" 2>&1 || true
fi

SUBNAMES=""
#       id               scenario   clients protocol   extra args
run_one select-c16       select     16      simple     -S
run_one select-c64       select     64      simple     -S
run_one select-c64-ext   select     64      extended   -S
run_one select-c256      select     256     simple     -S
run_one select-c1000     select     1000    simple     -S
# extended and prepared at every client count (not in the shared baseline matrix; select them
# with SCENARIOS=... or SCENARIOS=all)
run_one select-c16-ext   select     16      extended   -S
run_one select-c256-ext  select     256     extended   -S
run_one select-c1000-ext select     1000    extended   -S
run_one select-c16-prep  select     16      prepared   -S
run_one select-c64-prep  select     64      prepared   -S
run_one select-c256-prep select     256     prepared   -S
run_one select-c1000-prep select    1000    prepared   -S
run_one tpcb-c64         tpcb       64      simple
run_one churn-c32        churn      32      simple     -S -C
SUBNAMES="fast slow"
run_one overload-c1000   overload   1000    simple     -n -s "$scale" \
    -f "$RAW/fast.sql@$FAST_WEIGHT" -f "$RAW/slow.sql@$SLOW_WEIGHT"
SUBNAMES=""
log "$LABEL r$ROUND: done ($RAW)"

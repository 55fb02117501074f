#!/usr/bin/env bash
# overload.sh PORT LABEL
#
# The issue-3 overload scenario against one target (PostgreSQL directly, PgBouncer or Sluice):
#  0. warm-up: the high stream runs WARMUP seconds unmeasured (a JVM target compiles its hot
#     path here instead of inside the unloaded figures);
#  1. unloaded: 8 "high" clients (application_name=checkout) run point reads alone;
#  2. loaded: the same 8 clients run while 1000 other clients run a mix of 90 % point reads and
#     10 % slow queries (pg_sleep 50 ms), from MIX_THREADS pgbench threads.
# Prints one TSV row per phase and stream: goodput (successful tps), errors, p50/p99 latency
# (ms, from pgbench's per-transaction logs). Every run is bounded by -T plus a hard timeout.
#
# Env: DURATION=15  HIGH_CLIENTS=8  LOAD_CLIENTS=1000  SLOW_SQL='SELECT pg_sleep(0.05);'
#      WARMUP=5  MIX_THREADS=8
# MIX_THREADS: pgbench polls all the sockets of a thread each time it wakes, so with 2 threads
# (500 clients each) the load generator alone took ~0.3 core of the 2 shared with the target and
# PostgreSQL, and the high stream's p99 measured that as much as the target (bench/README.md,
# "The overload scenario"). The clients and the load they offer are the same either way.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
[ $# -eq 2 ] || { echo "usage: $0 PORT LABEL" >&2; exit 2; }
PORT=$1
LABEL=$2
DURATION=${DURATION:-15}
HIGH_CLIENTS=${HIGH_CLIENTS:-8}
LOAD_CLIENTS=${LOAD_CLIENTS:-1000}
SLOW_SQL=${SLOW_SQL:-SELECT pg_sleep(0.05);}
WARMUP=${WARMUP:-5}
MIX_THREADS=${MIX_THREADS:-8}
raise_nofile "$NOFILE"
RAW=${RAW_ROOT:-/tmp/benchraw}/overload-$LABEL-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RAW"
scale=$("$PGBIN/psql" -X -Atq -h "$BENCH_HOST" -p "$PG_PORT" -U "$PG_SUPERUSER" -d "$BENCH_DB" \
    -c "SELECT count(*) FROM pgbench_branches")
cat >"$RAW/fast.sql" <<SQL
\set aid random(1, 100000 * $scale)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
SQL
printf '%s\n' "$SLOW_SQL" >"$RAW/slow.sql"

# percentiles in ms from pgbench -l logs (column 3 is the latency in microseconds)
pct() { cat "$@" 2>/dev/null | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {
    if (NR == 0) { print "NA\tNA\t0"; exit }
    i50 = int(0.50 * NR + 0.999999); i99 = int(0.99 * NR + 0.999999)
    printf "%.2f\t%.2f\t%d\n", v[i50] / 1000, v[i99] / 1000, NR }'; }

run_high() {   # run_high PHASE
    (cd "$RAW" && PGAPPNAME=checkout timeout -k 5 $((DURATION + 120)) pgbench -n -h "$BENCH_HOST" -p "$PORT" \
        -U "$BENCH_USER" -c "$HIGH_CLIENTS" -j 1 -T "$DURATION" -f "$RAW/fast.sql" -l --log-prefix="high-$1" \
        "$BENCH_DB" >"$RAW/high-$1.out" 2>"$RAW/high-$1.err")
}

row() {   # row PHASE STREAM OUTFILE ERRFILE LOGPREFIX
    local tps errors lat
    tps=$(awk '/^tps =/ {print $3; exit}' "$3")
    [ -n "$tps" ] || tps=NA
    errors=$(grep -c -E 'error|aborted' "$4" 2>/dev/null)
    lat=$(pct "$RAW"/"$5".*)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$LABEL" "$1" "$2" "$tps" "$errors" "$lat" \
        "$(grep -m1 -o -E '(FATAL|ERROR):.*' "$4" 2>/dev/null | head -c 160)"
}

if [ "$WARMUP" -gt 0 ]; then
    log "$LABEL: warm-up (high stream, ${WARMUP}s, not measured)"
    (cd "$RAW" && PGAPPNAME=checkout timeout -k 5 $((WARMUP + 60)) pgbench -n -h "$BENCH_HOST" -p "$PORT" \
        -U "$BENCH_USER" -c "$HIGH_CLIENTS" -j 1 -T "$WARMUP" -f "$RAW/fast.sql" "$BENCH_DB" >"$RAW/warmup.out" 2>&1)
fi

printf 'label\tphase\tstream\ttps\terror_lines\tp50_ms\tp99_ms\ttxns\tfirst_error\n'
log "$LABEL: unloaded high stream (${HIGH_CLIENTS} clients, ${DURATION}s)"
run_high unloaded
row unloaded high "$RAW/high-unloaded.out" "$RAW/high-unloaded.err" high-unloaded

log "$LABEL: ${LOAD_CLIENTS}-client mix with the high stream alongside"
(cd "$RAW" && timeout -k 5 $((DURATION + 180)) pgbench -n -h "$BENCH_HOST" -p "$PORT" -U "$BENCH_USER" \
    -c "$LOAD_CLIENTS" -j "$MIX_THREADS" -T "$((DURATION + 10))" -f "$RAW/fast.sql@9" -f "$RAW/slow.sql@1" -l --log-prefix=mix \
    "$BENCH_DB" >"$RAW/mix.out" 2>"$RAW/mix.err") &
mix=$!
sleep 5   # let the 1000 clients connect and the load build up before the measured high stream
run_high loaded
wait "$mix"
row loaded high "$RAW/high-loaded.out" "$RAW/high-loaded.err" high-loaded
row loaded mix "$RAW/mix.out" "$RAW/mix.err" mix
log "$LABEL: raw output in $RAW"

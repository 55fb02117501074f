#!/usr/bin/env bash
# CPU time per transaction of each process on the path: the proxy (all its threads), the
# PostgreSQL server processes and pgbench itself, over one bounded select-only pgbench run
# (-t, so every target does the same work). On a machine whose cores the three share, the
# proxy's cost includes what it makes the others spend (wake-ups, context switches). The proxy's
# time is also split into user (its own code: for Sluice the JVM, Netty and Sluice) and system
# (the kernel working for it: sockets, io_uring or epoll, scheduling).
#
# usage: cpu-per-txn.sh PORT PROXY_PID [CLIENTS=64] [PROTOCOL=simple] [TRANSACTIONS=200000]
#   PORT/PROXY_PID: the target (e.g. 61432 and /tmp/benchsluice/sluice.pid's content, or
#   56432 and PgBouncer's pid); PostgreSQL is the pg-up.sh cluster.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
port=$1 proxy=$2 clients=${3:-64} protocol=${4:-simple} total=${5:-200000}
per_client=$(( (total + clients - 1) / clients ))
hz=$(getconf CLK_TCK)
ticks() { local s=0 v p; for p in "$@"; do v=$(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0); s=$((s + v)); done; echo "$s"; }
user_ticks() { awk '{print $14}' "/proc/$1/stat"; }
pg_pids() { pgrep -u "$PG_OSUSER" -x postgres | tr '\n' ' '; }
raise_nofile "$NOFILE"
p0=$(ticks "$proxy"); u0=$(user_ticks "$proxy"); g0=$(ticks $(pg_pids))
out=$(mktemp); tm=$(mktemp)
/usr/bin/time -f "%U %S" -o "$tm" timeout 300 "$PGBIN/pgbench" -h "$BENCH_HOST" -p "$port" -U "$BENCH_USER" -n -S \
    -M "$protocol" -c "$clients" -j 2 -t "$per_client" "$BENCH_DB" >"$out" 2>&1 || true
p1=$(ticks "$proxy"); u1=$(user_ticks "$proxy"); g1=$(ticks $(pg_pids))
n=$((clients * per_client))
tps=$(awk '/^tps/ {printf "%.0f", $3}' "$out")
read -r bu bs <"$tm"
awk -v port="$port" -v tps="${tps:-NA}" -v n="$n" -v hz="$hz" -v p=$((p1 - p0)) -v u=$((u1 - u0)) -v g=$((g1 - g0)) -v bu="$bu" -v bs="$bs" \
    'BEGIN { f = 1e6 / hz / n; printf "port %s tps %s  proxy %.1f (user %.1f, system %.1f)  postgres %.1f  pgbench %.1f  (us of CPU per transaction)\n", port, tps, p * f, u * f, (p - u) * f, g * f, (bu + bs) * 1e6 / n }'
rm -f "$out" "$tm"

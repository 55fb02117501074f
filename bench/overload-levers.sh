#!/usr/bin/env bash
# overload-levers.sh 'NAME|VAR=VALUE;VAR=VALUE' ...
#
# Compares Sluice configurations on the issue-3 overload scenario, Sluice only: for each
# configuration a fresh Sluice (sluice-up.sh with those environment variables, e.g.
# SLUICE_ADMISSION_RESERVED_CONNECTIONS=8 or SLUICE_POOL_SIZE=10) runs the high stream WARMUP
# seconds unmeasured, DURATION seconds alone, then DURATION seconds beside the 1000-client mix.
# Percentiles skip each phase's first 3 s (JIT and connection ramp-up); *_all columns keep them.
# ROUNDS rounds, every other one in reverse order. One TSV row per configuration and round on
# stdout: p50/p99 in microseconds, tps of both streams, ratio = loaded p99 / unloaded p99.
#
# PostgreSQL (pg-up.sh) is left running; pg-down.sh stops it.
# Env: ROUNDS=2 DURATION=15 WARMUP=5 MIX_THREADS=8 HIGH_CLIENTS=8 LOAD_CLIENTS=1000
# Example: ./overload-levers.sh 'base|' 'res8|SLUICE_ADMISSION_RESERVED_CONNECTIONS=8'
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
[ $# -ge 1 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-5}
MIX_THREADS=${MIX_THREADS:-8}
HIGH_CLIENTS=${HIGH_CLIENTS:-8}
LOAD_CLIENTS=${LOAD_CLIENTS:-1000}
port=${SLUICE_PORT:-61432}
raise_nofile "$NOFILE"
"$here/pg-up.sh" >&2 || exit 1
raw=${RAW_ROOT:-/tmp/benchraw}/levers-$(date +%Y%m%d-%H%M%S)
mkdir -p "$raw"
scale=$("$PGBIN/psql" -X -Atq -h "$BENCH_HOST" -p "$PG_PORT" -U "$PG_SUPERUSER" -d "$BENCH_DB" \
    -c "SELECT count(*) FROM pgbench_branches")
printf '\\set aid random(1, 100000 * %s)\nSELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n' \
    "$scale" >"$raw/fast.sql"
echo 'SELECT pg_sleep(0.05);' >"$raw/slow.sql"

# p50, p99 (µs) and count of the transactions logged from 3 s after the first one on
steady() { cat "$@" | awk '{print $5, $3}' | sort -n -k1 | awk '{ if (!t0) t0 = $1; if ($1 - t0 >= 3) print $2 }' \
    | sort -n | awk '{v[NR] = $1} END {printf "%d\t%d\t%d", v[int(.5 * NR)], v[int(.99 * NR)], NR}'; }
p99all() { cat "$@" | awk '{print $3}' | sort -n | awk '{v[NR] = $1} END {printf "%d", v[int(.99 * NR)]}'; }
high() {   # high SECONDS [pgbench options]
    local t=$1; shift
    PGAPPNAME=checkout timeout -k 5 $((t + 60)) pgbench -n -h "$BENCH_HOST" -p "$port" -U "$BENCH_USER" \
        -c "$HIGH_CLIENTS" -j 1 -T "$t" -f fast.sql "$@" "$BENCH_DB"
}

printf 'round\tconfig\tunl_p50\tunl_p99\tunl_n\tunl_p99_all\tload_p50\tload_p99\tload_n\tload_p99_all\thigh_tps\tmix_tps\tratio_steady\n'
for r in $(seq "$ROUNDS"); do
    configs=("$@")
    if (( r % 2 == 0 )); then
        configs=()
        for ((i = $#; i >= 1; i--)); do configs+=("${!i}"); done
    fi
    for c in "${configs[@]}"; do
        name=${c%%|*}
        envs=${c#*|}
        [ "$envs" = "$c" ] && envs=
        d=$raw/$name-$r
        mkdir -p "$d"
        cp "$raw/fast.sql" "$raw/slow.sql" "$d/"
        log "round $r: $name ${envs:-(defaults)}"
        (
            IFS=';'
            for e in $envs; do export "${e?}"; done
            "$here/sluice-up.sh" >/dev/null 2>&1 || exit 1
            cd "$d" || exit 1
            [ "$WARMUP" -gt 0 ] && high "$WARMUP" >/dev/null 2>&1
            high "$DURATION" -l --log-prefix=unl >unl.out 2>&1
            timeout -k 5 $((DURATION + 180)) pgbench -n -h "$BENCH_HOST" -p "$port" -U "$BENCH_USER" \
                -c "$LOAD_CLIENTS" -j "$MIX_THREADS" -T $((DURATION + 10)) -f fast.sql@9 -f slow.sql@1 \
                "$BENCH_DB" >mix.out 2>mix.err &
            mix=$!
            sleep 5   # the 1000 clients connect and the load builds up before the measured phase
            high "$DURATION" -l --log-prefix=load >load.out 2>&1
            wait "$mix"
            "$here/sluice-down.sh" >/dev/null 2>&1
        ) || { log "$name: Sluice did not start"; continue; }
        u=$(steady "$d"/unl.[0-9]*)
        l=$(steady "$d"/load.[0-9]*)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$name" "$u" "$(p99all "$d"/unl.[0-9]*)" \
            "$l" "$(p99all "$d"/load.[0-9]*)" \
            "$(awk '/^tps/ {print int($3)}' "$d/load.out")" "$(awk '/^tps/ {print int($3)}' "$d/mix.out")" \
            "$(awk -v a="$(cut -f2 <<<"$l")" -v b="$(cut -f2 <<<"$u")" 'BEGIN {printf "%.2f", a / b}')"
    done
done

#!/usr/bin/env bash
# The issue-3 overload figures alone, side by side in one session: PostgreSQL directly, PgBouncer,
# Sluice as configured by default ("sluice", 61432) and Sluice with RESERVED connections per pool
# reserved for high and critical requests ("sluice-reserved", 61433,
# admission.reserved_connections=RESERVED). All with pool size 20 and max_connections=100.
# Result: bench/results/overload-STAMP.tsv. Servers are stopped at the end (KEEP_SERVERS=1 keeps them).
#
# Env: DURATION=15 (per phase) ROUNDS=1 RESERVED=8 (0 = no sluice-reserved target) STAMP=date
# RESERVED=8: the mix (class normal) takes a connection only while fewer than 12 of the 20 are
# lent; the issue-3 figures are reported with it (bench/README.md, "The overload scenario").
# MIX_THREADS, WARMUP: see overload.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stamp=${STAMP:-$(date +%Y%m%d-%H%M)}
mkdir -p "$here/results"
"$here/pg-up.sh" || exit 1
"$here/pgbouncer-up.sh" || exit 1
"$here/sluice-up.sh" || exit 1
SLUICE_PORT=61433 SLUICE_ADMIN_PORT=61481 SLUICE_ROOT=/tmp/benchsluice-reserved \
    SLUICE_EXTRA_ARGS="--set admission.reserved_connections=${RESERVED:-8}" "$here/sluice-up.sh" || exit 1
targets="direct:55432 pgbouncer:56432 sluice:61432"
[ "${RESERVED:-8}" != 0 ] && targets="$targets sluice-reserved:61433"
out="$here/results/overload-$stamp.tsv"
printf 'date: %s\nhost: %s\nsluice io_transport: %s (auto: io_uring where the kernel has it); SLUICE_JAVA_OPTS: %s\nMIX_THREADS: %s WARMUP: %s DURATION: %s\n' \
    "$(date -Is)" "$(uname -srm)" "${SLUICE_IO_TRANSPORT:-auto}" "${SLUICE_JAVA_OPTS:-none}" \
    "${MIX_THREADS:-8}" "${WARMUP:-5}" "${DURATION:-15}" >"${out%.tsv}.env.txt"
first=1
for round in $(seq "${ROUNDS:-1}"); do
    order=$targets
    # reverse the order every other round, so slow drift favours no target
    (( round % 2 == 0 )) && order=$(echo "$targets" | tr ' ' '\n' | tac | tr '\n' ' ')
    for t in $order; do
        "$here/overload.sh" "${t#*:}" "${t%%:*}" >"$out.part"
        if [ "$first" = 1 ]; then
            printf 'round\t%s\n' "$(head -1 "$out.part")" >"$out"
            first=0
        fi
        tail -n +2 "$out.part" | sed "s/^/$round\t/" >>"$out"
    done
done
rm -f "$out.part"
column -t -s $'\t' "$out"
if [ "${KEEP_SERVERS:-0}" != 1 ]; then
    "$here/sluice-down.sh"
    SLUICE_ROOT=/tmp/benchsluice-reserved "$here/sluice-down.sh"
    "$here/pgbouncer-down.sh"
    "$here/pg-down.sh"
fi

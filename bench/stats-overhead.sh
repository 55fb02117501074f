#!/usr/bin/env bash
# Issue 4 figure: throughput through Sluice with per-query statistics on and off, side by side in
# one session: pgbench -S at 64 clients (simple, extended and prepared), ROUNDS rounds with the
# target order reversed every other round. Two Sluice instances run at once in front of the same
# PostgreSQL: "stats-on" on 61432 and "stats-off" (stats.enabled=off) on 61433; only the one under
# load does work. Results: bench/results/stats-overhead-STAMP.{tsv,summary.tsv,vs-off.tsv}.
#
# Env: ROUNDS=3 DURATION=10 SCENARIOS=select-c64,select-c64-ext,select-c64-prep KEEP_SERVERS=0
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/results"
stamp=$(date +%Y%m%d-%H%M)
export OUT=${OUT:-$here/results/stats-overhead-$stamp.tsv}
export ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-10}
export SCENARIOS=${SCENARIOS:-select-c64,select-c64-ext,select-c64-prep}
export START_PGBOUNCER=0
export TARGETS="stats-off:61433:/tmp/benchsluice-off/sluice.pid stats-on:61432:/tmp/benchsluice/sluice.pid"
export BEFORE_TARGET="if [ \"\$LABEL\" = stats-on ]; then \"$here/sluice-up.sh\"; \
else SLUICE_PORT=61433 SLUICE_ADMIN_PORT=61481 SLUICE_ROOT=/tmp/benchsluice-off \
SLUICE_EXTRA_ARGS='--set stats.enabled=off' \"$here/sluice-up.sh\"; fi"
export KEEP_UP=1
"$here/run-all.sh"
"$here/summarize.sh" "$OUT" stats-off >"${OUT%.tsv}.vs-off.tsv"
column -t -s $'\t' "${OUT%.tsv}.vs-off.tsv"
if [ "${KEEP_SERVERS:-0}" != 1 ]; then
    "$here/sluice-down.sh"
    SLUICE_ROOT=/tmp/benchsluice-off "$here/sluice-down.sh"
    "$here/pg-down.sh"
fi

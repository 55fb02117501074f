#!/usr/bin/env bash
# The issue-2 comparison in one session: PostgreSQL directly, PgBouncer and Sluice side by side,
# the full select matrix (simple, extended, prepared at 16/64/256/1000 clients), churn, tpcb and
# overload, ROUNDS rounds with alternating order. Results in bench/results/ (TSV, summary with
# ratios vs PgBouncer, environment).
#
# Env: ROUNDS=2 DURATION=10 plus everything run-all.sh understands.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/results"
stamp=$(date +%Y%m%d-%H%M)
export OUT=${OUT:-$here/results/sluice-$stamp.tsv}
export ROUNDS=${ROUNDS:-2} DURATION=${DURATION:-10}
export TARGETS="direct:55432 pgbouncer:56432:/tmp/benchpgbouncer/pgbouncer.pid sluice:61432:/tmp/benchsluice/sluice.pid"
export BEFORE_TARGET="[ \"\$LABEL\" = sluice ] && \"$here/sluice-up.sh\" || true"
export KEEP_UP=1
"$here/run-all.sh"
"$here/summarize.sh" "$OUT" pgbouncer >"${OUT%.tsv}.vs-pgbouncer.tsv"
column -t -s $'\t' "${OUT%.tsv}.vs-pgbouncer.tsv"
if [ "${KEEP_SERVERS:-0}" != 1 ]; then
    "$here/sluice-down.sh"
    "$here/pgbouncer-down.sh"
    "$here/pg-down.sh"
fi

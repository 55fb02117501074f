#!/usr/bin/env bash
# Everything the closing notes of issues 2 and 3 report, in one session on one machine:
#  1. run-sluice.sh: the select/tpcb/churn/overload matrix, PostgreSQL directly vs PgBouncer vs Sluice;
#  2. overload-figures.sh: overload.sh against each target (the high-priority stream under a
#     1000-client mix), Sluice with its defaults and with 8 reserved connections;
#  3. idle-clients.py: memory per idle client connection, Sluice and PgBouncer (10,000 clients).
# Results under bench/results/. Servers are stopped at the end.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stamp=$(date +%Y%m%d-%H%M)
mkdir -p "$here/results"
KEEP_SERVERS=1 OUT="$here/results/matrix-$stamp.tsv" "$here/run-sluice.sh"
KEEP_SERVERS=1 STAMP=$stamp "$here/overload-figures.sh"
SLUICE_ROOT=/tmp/benchsluice-reserved "$here/sluice-down.sh"
# 10,000 clients need max_client_conn above PgBouncer's and Sluice's bench default of 5000
"$here/sluice-down.sh"
PGB_MAX_CLIENT_CONN=11000 "$here/pgbouncer-up.sh"
PGB_MAX_CLIENT_CONN=11000 "$here/sluice-up.sh"
{
    echo "== sluice"; python3 "$here/idle-clients.py" 61432 "$(cat /tmp/benchsluice/sluice.pid)" "${IDLE_CLIENTS:-10000}"
    echo "== pgbouncer"; python3 "$here/idle-clients.py" 56432 "$(cat /tmp/benchpgbouncer/pgbouncer.pid)" "${IDLE_CLIENTS:-10000}"
} >"$here/results/idle-clients-$stamp.txt" 2>&1
"$here/sluice-down.sh"
"$here/pgbouncer-down.sh"
"$here/pg-down.sh"
echo "results in $here/results/*-$stamp.*"

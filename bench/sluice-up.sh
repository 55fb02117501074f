#!/usr/bin/env bash
# Start Sluice on 127.0.0.1:$SLUICE_PORT (default 61432, outside the ephemeral port range) in
# transaction pooling mode in front of the pg-up.sh cluster, with the same pool size as
# PgBouncer's. Writes its log and pidfile under $SLUICE_ROOT (default /tmp/benchsluice).
# Idempotent: a running Sluice is left alone.
#
# Env: SLUICE_PORT=61432 SLUICE_POOL_SIZE=$PGB_POOL_SIZE SLUICE_ROOT=/tmp/benchsluice
#      SLUICE_POOL_MODE=transaction SLUICE_JAR=<repo>/target/sluice.jar SLUICE_EXTRA_ARGS=
#      SLUICE_IO_TRANSPORT=auto (read by Sluice itself; auto is io_uring where the kernel has it,
#      see io_transport in docs/configuration.md)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
repo=$(cd "$here/.." && pwd)

SLUICE_PORT=${SLUICE_PORT:-61432}
SLUICE_ROOT=${SLUICE_ROOT:-/tmp/benchsluice}
SLUICE_POOL_SIZE=${SLUICE_POOL_SIZE:-$PGB_POOL_SIZE}
SLUICE_POOL_MODE=${SLUICE_POOL_MODE:-transaction}
export SLUICE_IO_TRANSPORT=${SLUICE_IO_TRANSPORT:-auto}
SLUICE_JAR=${SLUICE_JAR:-$repo/target/sluice.jar}
pidfile=$SLUICE_ROOT/sluice.pid
raise_nofile "$NOFILE"

if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "sluice already running (pid $(cat "$pidfile"))"
    exit 0
fi
# shellcheck source=../.ci/java-home.sh
. "$repo/.ci/java-home.sh"
sluice_select_java
[ -f "$SLUICE_JAR" ] || (cd "$repo" && ./mvnw -q -DskipTests package) >&2
mkdir -p "$SLUICE_ROOT"
touch "$SLUICE_ROOT/.bench-harness"
# the JVM options ./sluice runs with (sluice_jvm_opts in .ci/java-home.sh)
mapfile -t opts < <(sluice_jvm_opts)
log "starting sluice on $BENCH_HOST:$SLUICE_PORT (pool_size=$SLUICE_POOL_SIZE, mode=$SLUICE_POOL_MODE, io_transport=$SLUICE_IO_TRANSPORT)"
# shellcheck disable=SC2086
nohup "$JAVA_HOME/bin/java" "${opts[@]}" ${SLUICE_JAVA_OPTS:-} -jar "$SLUICE_JAR" run \
    --listen "$BENCH_HOST:$SLUICE_PORT" \
    --upstream "postgresql://$BENCH_USER@$BENCH_HOST:$PG_PORT/$BENCH_DB" \
    --auth-type trust --pool-mode "$SLUICE_POOL_MODE" --pool-size "$SLUICE_POOL_SIZE" \
    --max-client-conn "${PGB_MAX_CLIENT_CONN:-5000}" --server-tls-mode disable \
    --admin-listen "$BENCH_HOST:${SLUICE_ADMIN_PORT:-61480}" \
    --priority-rule "application_name=checkout:high" \
    --pidfile "$pidfile" ${SLUICE_EXTRA_ARGS:-} >"$SLUICE_ROOT/sluice.log" 2>&1 &
wait_port "$SLUICE_PORT" 30 || { tail -20 "$SLUICE_ROOT/sluice.log" >&2; die "sluice not accepting on $SLUICE_PORT"; }
for _ in $(seq 1 50); do [ -s "$pidfile" ] && break; sleep 0.1; done
log "ready: pid $(cat "$pidfile")"

#!/usr/bin/env bash
# Stop the Sluice started by sluice-up.sh (SIGTERM by PID from its pidfile, then SIGKILL after
# 15 s) and remove its directory (unless --keep-dir).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
SLUICE_ROOT=${SLUICE_ROOT:-/tmp/benchsluice}
pidfile=$SLUICE_ROOT/sluice.pid
if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        log "stopping sluice (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
fi
if [ "${1:-}" != --keep-dir ] && [ -f "$SLUICE_ROOT/.bench-harness" ]; then
    rm -rf -- "$SLUICE_ROOT"
fi

#!/usr/bin/env bash
# make dev: moto on MOTO_PORT, then the local stack in the foreground. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/../.."
source local/scripts/common.sh

mkdir -p .local
trap stop_moto EXIT INT TERM
start_moto "${MOTO_PORT:-5055}" .local/moto.log
export_aws_env "${MOTO_PORT:-5055}"
echo "moto on http://127.0.0.1:${MOTO_PORT:-5055} (log: .local/moto.log)"

export_local_env

cargo build --package local --bin local
# In the background with `wait`, so that Ctrl-C or a TERM runs the trap and stops both processes.
"$CARGO_TARGET_DIR/debug/local" &
LOCAL_PID=$!
trap 'kill "$LOCAL_PID" 2>/dev/null || true; stop_moto' EXIT INT TERM
wait "$LOCAL_PID"

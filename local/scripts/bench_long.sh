#!/usr/bin/env bash
# make bench-long: the long-session benchmark against ONE stack as `make dev` runs it (the debug
# `local` binary, its configuration, a fresh moto), BENCH_REQUESTS (5000) mixed requests.
# MOTO_WHOLE_TABLE_ROLLBACK=1 runs moto's own whole-table transaction copy, for comparison.
set -euo pipefail
cd "$(dirname "$0")/../.."
source local/scripts/common.sh

cargo build --package local --bin local --package api-tests --bin long_session
mkdir -p .local
moto_port=$(free_port)
start_moto "$moto_port" .local/moto-long.log
export_aws_env "$moto_port"
export PORT=$(free_port) WS_PORT=$(free_port)
export_local_env
export MAIL_ECHO=0 RUST_LOG=warn
"$CARGO_TARGET_DIR/debug/local" >.local/local-long.log 2>&1 &
LOCAL_PID=$!
trap 'kill "$LOCAL_PID" 2>/dev/null || true; stop_moto' EXIT INT TERM
for _ in $(seq 1 100); do
  if "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/api/alive')" 2>/dev/null; then break; fi
  sleep 0.1
done
BENCH_BASE_URL="http://127.0.0.1:$PORT" BENCH_LOCAL_PID=$LOCAL_PID BENCH_MOTO_PID=$MOTO_PID \
  "$CARGO_TARGET_DIR/debug/long_session" | tee .local/bench-long.md

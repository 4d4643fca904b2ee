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

# Local configuration; any of these can be overridden from the environment.
export TABLE_NAME=${TABLE_NAME:-insta-local}
export MEDIA_BUCKET=${MEDIA_BUCKET:-insta-media-local}
export JWT_SECRET=${JWT_SECRET:-local-development-secret-not-for-production}
export MAIL_FROM=${MAIL_FROM:-no-reply@insta.local}
export APP_BASE_URL=${APP_BASE_URL:-http://127.0.0.1:${PORT:-3000}/api/auth}
export MAIL_ECHO=${MAIL_ECHO:-1}
export DEBUG_HEADERS=${DEBUG_HEADERS:-1}
export S3_FORCE_PATH_STYLE=1
# The WebSocket API and its @connections endpoint (local/src/websocket.rs) share one port.
export WS_PORT=${WS_PORT:-3001}
export WS_MANAGEMENT_ENDPOINT=${WS_MANAGEMENT_ENDPOINT:-http://127.0.0.1:${WS_PORT}}
# Test suites register hundreds of users from this one loopback address: per-source budgets are
# high here; every per-user and per-account limit keeps its default.
export RATE_LIMIT_LOGIN_SOURCE=${RATE_LIMIT_LOGIN_SOURCE:-100000/900}
export RATE_LIMIT_REGISTER_SOURCE=${RATE_LIMIT_REGISTER_SOURCE:-100000/3600}
export RUST_LOG=${RUST_LOG:-info}

cargo build --package local --bin local
# In the background with `wait`, so that Ctrl-C or a TERM runs the trap and stops both processes.
"$CARGO_TARGET_DIR/debug/local" &
LOCAL_PID=$!
trap 'kill "$LOCAL_PID" 2>/dev/null || true; stop_moto' EXIT INT TERM
wait "$LOCAL_PID"

# Shared by dev.sh, test.sh and bench.sh: moto's lifecycle and the local configuration.

VENV=${VENV:-.venv}

free_port() {
  "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_moto PORT LOGFILE: starts moto_server in the background and waits until it answers.
start_moto() {
  local port=$1 log=$2
  # moto_server with DynamoDB calls serialised (see moto_server.py for why).
  "$VENV/bin/python" "$(dirname "${BASH_SOURCE[0]}")/moto_server.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  MOTO_PID=$!
  for _ in $(seq 1 100); do
    if "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
      echo "moto failed to start; its log:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "moto did not answer on port $port" >&2
  return 1
}

stop_moto() {
  if [ -n "${MOTO_PID:-}" ] && kill -0 "$MOTO_PID" 2>/dev/null; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
  fi
}

# The AWS side of the local configuration: dummy credentials, everything pointed at moto.
export_aws_env() {
  export AWS_ENDPOINT_URL="http://127.0.0.1:$1"
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local}
  export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
  export AWS_REGION=${AWS_REGION:-us-east-1}
  export AWS_EC2_METADATA_DISABLED=true
}

# The local configuration of `make dev` (and `make watch`); any of these can be overridden from the
# environment. Call after export_aws_env.
export_local_env() {
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
}

# The variables of export_aws_env and export_local_env as an env file (cargo lambda watch --env-file).
write_env_file() {
  local file=$1 name
  : >"$file"
  for name in AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_EC2_METADATA_DISABLED \
    TABLE_NAME MEDIA_BUCKET JWT_SECRET MAIL_FROM APP_BASE_URL MAIL_ECHO DEBUG_HEADERS S3_FORCE_PATH_STYLE \
    WS_MANAGEMENT_ENDPOINT RATE_LIMIT_LOGIN_SOURCE RATE_LIMIT_REGISTER_SOURCE RUST_LOG AWS_LC_SYS_NO_JITTER_ENTROPY; do
    printf '%s=%s\n' "$name" "${!name:-}" >>"$file"
  done
}

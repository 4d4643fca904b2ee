#!/usr/bin/env bash
# make watch: `cargo lambda watch` serving every HTTP route at its real path on WATCH_PORT (9000),
# each function rebuilt on change, with the configuration of `make dev`. It uses the moto of a
# running `make dev` on MOTO_PORT when one answers (same data), or starts its own there.
set -euo pipefail
cd "$(dirname "$0")/../.."
source local/scripts/common.sh
export PATH="$PWD/.venv/bin:$PATH" # cargo-lambda

mkdir -p .local
moto_port=${MOTO_PORT:-5055}
if "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$moto_port/moto-api/')" 2>/dev/null; then
  echo "using the moto already on http://127.0.0.1:$moto_port"
else
  trap stop_moto EXIT INT TERM
  start_moto "$moto_port" .local/moto-watch.log
  echo "moto on http://127.0.0.1:$moto_port (log: .local/moto-watch.log)"
fi
export_aws_env "$moto_port"
export_local_env
write_env_file .local/watch.env

cargo build --package local --bin local
"$CARGO_TARGET_DIR/debug/local" --create-resources
echo "cargo lambda watch on http://127.0.0.1:${WATCH_PORT:-9000}/api/... (routes: [workspace.metadata.lambda.watch.router] in Cargo.toml)"
cargo lambda watch -A 127.0.0.1 -P "${WATCH_PORT:-9000}" --env-file .local/watch.env "$@"

#!/usr/bin/env bash
# make test: lints, then every test against a private moto on a free port. Non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source local/scripts/common.sh

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cfn-lint template.yaml"
"$VENV/bin/cfn-lint" template.yaml

step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "build the function binaries (the Lambda fixture tests run them)"
cargo build --workspace --bins

mkdir -p .local
port=$(free_port)
trap stop_moto EXIT INT TERM
step "moto on 127.0.0.1:$port"
start_moto "$port" .local/moto-test.log
export_aws_env "$port"

step "cargo test"
cargo test --workspace -- --test-threads "${TEST_THREADS:-8}"

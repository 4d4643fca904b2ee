#!/usr/bin/env bash
# make test: lints, then every test against a private moto on a free port. Non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source local/scripts/common.sh

step() { printf '\n==> %s\n' "$*"; }

# The docs page test drives Debian's headless Chromium through chromedriver (tests/src/browser.rs).
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] || [ ! -x "${CHROMEDRIVER:-/usr/bin/chromedriver}" ]; then
  step "installing chromium and chromium-driver (apt)"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver
fi

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
# Every AWS call the suite makes is logged per function, then held against template.yaml's IAM
# policies (tests/src/iam.rs, run by the iam_check binary).
mkdir -p .local
export AWS_CALL_LOG="$PWD/.local/aws-calls.log"
rm -f "$AWS_CALL_LOG"
cargo test --workspace -- --test-threads "${TEST_THREADS:-8}"

step "IAM: every recorded AWS call is granted by its function's policy"
cargo run -q -p api-tests --bin iam_check
unset AWS_CALL_LOG

step "schemathesis against docs/openapi.yaml on the local stack (local/scripts/fuzz.sh)"
local/scripts/fuzz.sh

stop_moto
trap - EXIT INT TERM
step "sam validate --lint and sam build (arm64 bootstraps, cached in \$CARGO_TARGET_DIR)"
local/scripts/sam_build.sh

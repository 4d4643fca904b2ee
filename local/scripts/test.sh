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

# sam build's fat-LTO links run on one core: it builds in the background while the fuzzer,
# which is time-boxed, uses the other. Its log is printed when both are done.
step "sam validate --lint and sam build in the background (log: .local/sam-build.log)"
local/scripts/sam_build.sh >.local/sam-build.log 2>&1 &
sam_pid=$!
trap 'kill "$sam_pid" 2>/dev/null || true; stop_moto' EXIT INT TERM

step "schemathesis against docs/openapi.yaml on the local stack (local/scripts/fuzz.sh)"
fuzz_status=0
local/scripts/fuzz.sh || fuzz_status=$?

stop_moto
step "sam validate --lint and sam build (arm64 bootstraps, cached in \$CARGO_TARGET_DIR)"
sam_status=0
wait "$sam_pid" || sam_status=$?
trap - EXIT INT TERM
cat .local/sam-build.log
if [ "$fuzz_status" -ne 0 ] || [ "$sam_status" -ne 0 ]; then
  echo "failed: fuzz exit $fuzz_status, sam build exit $sam_status" >&2
  exit 1
fi

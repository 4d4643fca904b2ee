#!/usr/bin/env bash
# The SAM path a new user takes, offline: `sam validate --lint`, then `sam build` (BuildMethod
# rust-cargolambda: one `cargo lambda build --release --arm64 --bin <fn>` per function, in the
# function's crate, into the cached CARGO_TARGET_DIR), then checks each artifact is an arm64 bootstrap.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/.venv/bin:$PATH" # sam, cargo-lambda and zig
export SAM_CLI_TELEMETRY=0
: "${CARGO_TARGET_DIR:?CARGO_TARGET_DIR must point at the cached target dir (the Makefile sets it)}"

start=$(date +%s)
sam validate --lint
sam build
built=0
for dir in .aws-sam/build/*Function; do
  bootstrap="$dir/bootstrap"
  if [ ! -x "$bootstrap" ]; then
    echo "sam build left no executable bootstrap in $dir" >&2
    exit 1
  fi
  # ELF header: e_machine at offset 18, 0xb7 0x00 is EM_AARCH64.
  machine=$(od -An -tx1 -j18 -N2 "$bootstrap" | tr -d ' \n')
  if [ "$machine" != "b700" ]; then
    echo "$bootstrap is not an arm64 ELF (e_machine $machine)" >&2
    exit 1
  fi
  built=$((built + 1))
done
expected=$(ls -d functions/*/ | wc -l)
if [ "$built" -ne "$expected" ]; then
  echo "sam build produced $built bootstraps for $expected function crates" >&2
  exit 1
fi
echo "sam build: $built arm64 bootstraps in .aws-sam/build in $(($(date +%s) - start)) s"
local/scripts/lambda_sizes.sh --check

#!/usr/bin/env bash
# make bench: release binaries, a private moto, then the benchmark; the markdown goes to stdout and
# .local/bench.md (BENCHMARKS.md quotes it).
set -euo pipefail
cd "$(dirname "$0")/../.."
source local/scripts/common.sh

cargo build --release --workspace --bins
mkdir -p .local
port=$(free_port)
trap stop_moto EXIT INT TERM
start_moto "$port" .local/moto-bench.log
export_aws_env "$port"
export BENCH_BIN_DIR="$CARGO_TARGET_DIR/release"
"$BENCH_BIN_DIR/bench" | tee .local/bench.md

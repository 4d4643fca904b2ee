#!/usr/bin/env bash
# make lambda: every function's arm64 release bootstrap, built as `sam build` builds it (from the
# function's crate directory, so cargo resolves that crate's features of the shared library only).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/.venv/bin:$PATH" # zig for cargo-lambda's cross-compilation
for dir in functions/*/; do
  name=$(basename "$dir")
  (cd "$dir" && cargo lambda build --release --arm64 --bin "$name")
done
ls -l "$CARGO_TARGET_DIR"/lambda/*/bootstrap

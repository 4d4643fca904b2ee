#!/usr/bin/env bash
# Prints the size table of BENCHMARKS.md ("Sizes") from sam build's artifacts: each arm64
# bootstrap and its zip (deflate -9, as sam package zips it), in MB (10^6 bytes).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
"$VENV/bin/python" - <<'PY'
import glob, io, os, zipfile
print("| function | bootstrap (MB) | zip (MB) |")
print("|---|---|---|")
for path in sorted(glob.glob(".aws-sam/build/*Function/bootstrap")):
    name = path.split("/")[2].removesuffix("Function")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.write(path, "bootstrap")
    print(f"| {name} | {os.path.getsize(path) / 1e6:.2f} | {len(buffer.getvalue()) / 1e6:.2f} |")
PY

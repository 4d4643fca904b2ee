#!/usr/bin/env bash
# Prints the size table of BENCHMARKS.md ("Arm64 Lambda sizes") from sam build's artifacts: each
# arm64 bootstrap and its zip (deflate -9, as sam package zips it), in MB (10^6 bytes).
# With --check, fails when a bootstrap is over 8 MB or its zip over 4 MB (issue 11's bars).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
"$VENV/bin/python" - "$@" <<'PY'
import glob, io, os, sys, zipfile
BOOTSTRAP_MAX, ZIP_MAX = 8e6, 4e6
check = "--check" in sys.argv[1:]
over = []
print("| function | bootstrap (MB) | zip (MB) |")
print("|---|---|---|")
paths = sorted(glob.glob(".aws-sam/build/*Function/bootstrap"))
if not paths:
    sys.exit("no .aws-sam/build/*Function/bootstrap: run sam build first")
for path in paths:
    name = path.split("/")[2].removesuffix("Function")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.write(path, "bootstrap")
    size, zipped = os.path.getsize(path), len(buffer.getvalue())
    print(f"| {name} | {size / 1e6:.2f} | {zipped / 1e6:.2f} |")
    if size > BOOTSTRAP_MAX or zipped > ZIP_MAX:
        over.append(name)
if check and over:
    sys.exit(f"over the size bars (bootstrap <= 8 MB, zip <= 4 MB): {', '.join(over)}")
PY

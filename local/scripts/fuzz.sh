#!/usr/bin/env bash
# Schema fuzzing: schemathesis generates requests from docs/openapi.yaml against the local stack
# (the `local` binary on a free port): a stateful run and a run of the other phases with a
# signed-in user's bearer token, one anonymously and one as root on the admin routes, and checks that no answer is a server error
# and that every answer matches its documented schema. Non-zero on any failure, or when fewer than FUZZ_MIN_CASES cases ran.
#
# Uses the moto of AWS_ENDPOINT_URL when it is set (make test calls this with its moto running),
# else starts a private one. Tunables: FUZZ_EXAMPLES (per operation and phase), FUZZ_MAX_TIME
# (seconds per run), FUZZ_STATEFUL_TIME (seconds of the stateful run), FUZZ_WORKERS, FUZZ_SEED, FUZZ_MIN_CASES.
#
# Left out: the Google, Apple and Facebook sign-in routes, which answer 501 by design where their
# providers are not configured (tests/tests/api/social_signin.rs covers them against fake
# providers).
set -euo pipefail
cd "$(dirname "$0")/../.."
source local/scripts/common.sh

EXAMPLES=${FUZZ_EXAMPLES:-10}
MAX_TIME=${FUZZ_MAX_TIME:-90}
STATEFUL_TIME=${FUZZ_STATEFUL_TIME:-60}
WORKERS=${FUZZ_WORKERS:-4}
SEED=${FUZZ_SEED:-20261201}
MIN_CASES=${FUZZ_MIN_CASES:-2000}
LOCAL_BIN="${CARGO_TARGET_DIR:-target}/debug/local"
mkdir -p .local/fuzz

if [ ! -x "$LOCAL_BIN" ]; then
  cargo build --package local --bin local
fi

cleanup() {
  if [ -n "${LOCAL_PID:-}" ] && kill -0 "$LOCAL_PID" 2>/dev/null; then
    kill "$LOCAL_PID" 2>/dev/null || true
    wait "$LOCAL_PID" 2>/dev/null || true
  fi
  if [ -n "${OWN_MOTO:-}" ]; then stop_moto; fi
}
trap cleanup EXIT INT TERM

if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  moto_port=$(free_port)
  OWN_MOTO=1
  start_moto "$moto_port" .local/fuzz/moto.log
  export_aws_env "$moto_port"
else
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local}
  export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
  export AWS_REGION=${AWS_REGION:-us-east-1}
  export AWS_EC2_METADATA_DISABLED=true
fi

# A table and bucket of its own, so that the fuzzer's users and posts meet no other test's.
suffix=$(date +%s)-$$
export TABLE_NAME="insta-fuzz-$suffix" MEDIA_BUCKET="insta-fuzz-$suffix"
PORT=$(free_port)
WS_PORT=$(free_port)
export PORT WS_PORT
export MAIL_ECHO=0 RUST_LOG=${RUST_LOG:-warn}
export_local_env
base="http://127.0.0.1:$PORT"

"$LOCAL_BIN" >.local/fuzz/local.log 2>&1 &
LOCAL_PID=$!
for _ in $(seq 1 300); do
  if "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('$base/api/alive')" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$LOCAL_PID" 2>/dev/null; then
    echo "the local stack did not start; its log:" >&2
    cat .local/fuzz/local.log >&2
    exit 1
  fi
  sleep 0.2
done

# sign_in NAME [--register]: registers (with --register) and signs in NAME; prints its token.
sign_in() {
  "$VENV/bin/python" local/scripts/fuzz_seed.py "$base" sign-in "$@"
}

# A signed-in user for the authenticated run, and a root for the admin run (granted as an
# operator would, with admin-cli), so the admin routes' real answers meet their schemas.
stamp=$(date +%s%N)
token=$(sign_in "fuzz_$stamp" --register)
sign_in "fuzzroot_$stamp" --register >/dev/null
# Real objects around the fuzz user (a friend, posts, comments, a conversation, stories, a
# report, a pending follow request), so operations on ids reach them through the list answers'
# OpenAPI links instead of only ever answering 404.
"$VENV/bin/python" local/scripts/fuzz_seed.py "$base" seed "fuzz_$stamp"
ADMIN_CLI="${CARGO_TARGET_DIR:-target}/debug/admin-cli"
if [ ! -x "$ADMIN_CLI" ]; then
  cargo build --package admin-cli --bin admin-cli
fi
"$ADMIN_CLI" grant-root --email "fuzzroot_$stamp@example.com" >.local/fuzz/grant-root.log 2>&1
root_token=$(sign_in "fuzzroot_$stamp")

# run NAME [schemathesis options...]: one run, its output in .local/fuzz/NAME.txt; answers the
# number of generated cases in CASES.
run() {
  local name=$1
  shift
  local status=0
  printf '\n==> schemathesis: %s\n' "$name"
  NO_COLOR=1 "$VENV/bin/python" local/scripts/schemathesis_cli.py run docs/openapi.yaml \
    --url "$base" \
    --checks not_a_server_error,response_schema_conformance \
    --phases "${PHASES:-examples,coverage,fuzzing}" \
    --max-examples "$EXAMPLES" \
    --max-time "$MAX_TIME" \
    --workers "$WORKERS" \
    --seed "$SEED" \
    --request-timeout 30 \
    --continue-on-failure \
    --suppress-health-check all \
    --warnings off \
    --exclude-path-regex '^/api/auth/(google|apple|facebook)$' \
    --report ndjson --report-ndjson-path ".local/fuzz/$name.ndjson" \
    "$@" 2>&1 | tee ".local/fuzz/$name.txt" || status=$?
  CASES=$("$VENV/bin/python" - ".local/fuzz/$name.txt" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
match = re.findall(r"Test cases:\s*\n?\s*(\d+) generated", text) or re.findall(r"(\d+) generated", text)
print(match[-1] if match else 0)
PY
)
  return $status
}

failed=0
# Routes that end the token's validity are left to the anonymous run (there they answer 401).
# First, while the seeded objects are as fuzz_seed.py left them, the stateful phase alone: it
# follows the document's links from list and object answers into the operations on their ids.
PHASES=stateful run stateful -H "Authorization: Bearer $token" \
  --exclude-path /api/auth/invalidate-all-jwt-tokens --max-time "$STATEFUL_TIME" || failed=1
stateful=$CASES
run authenticated -H "Authorization: Bearer $token" \
  --exclude-path /api/auth/invalidate-all-jwt-tokens || failed=1
authenticated=$CASES
# Mostly 401s: a shorter run.
run anonymous --max-time 60 || failed=1
anonymous=$CASES
# Root on the admin routes: the directory, reports and audit lists answer 200 with real items.
# (Deleting or editing its own account is refused, so the run keeps its token.)
PHASES=examples,coverage,fuzzing,stateful run admin -H "Authorization: Bearer $root_token" \
  --include-path-regex '^/api/admin/' --max-time 45 || failed=1
admin=$CASES
total=$((stateful + authenticated + anonymous + admin))
printf '\nschemathesis: %s cases stateful + %s authenticated + %s anonymous + %s admin = %s\n' \
  "$stateful" "$authenticated" "$anonymous" "$admin" "$total"
"$VENV/bin/python" local/scripts/fuzz_coverage.py docs/openapi.yaml .local/fuzz/stateful.ndjson \
  .local/fuzz/authenticated.ndjson .local/fuzz/admin.ndjson
if [ "$total" -lt "$MIN_CASES" ]; then
  echo "fewer than $MIN_CASES cases ran" >&2
  failed=1
fi
exit $failed

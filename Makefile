# Two commands matter: `make dev` serves the whole API locally, `make test` runs every test and lint.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
MOTO_PORT ?= 5055
PORT ?= 3000
WS_PORT ?= 3001

# Builds reuse one target dir outside the clone, so a fresh clone (CI) starts warm.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/insta-target
export AWS_LC_SYS_NO_JITTER_ENTROPY := 1
export MOTO_PORT PORT WS_PORT

.PHONY: help dev test lint fmt clippy cfn-lint build lambda bench clean venv grant-root

help:
	@echo "make dev    - moto + the whole API on http://127.0.0.1:$(PORT) (Ctrl-C stops everything)"
	@echo "make test   - every test and lint against a private moto on a free port"
	@echo "make lint   - cargo fmt --check, clippy -D warnings, cfn-lint"
	@echo "make lambda - release bootstraps for every function (cargo-lambda, arm64)"
	@echo "make bench  - the benchmark behind BENCHMARKS.md"
	@echo "make grant-root EMAIL=you@example.com - make that account root in the make dev stack"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

dev: venv
	local/scripts/dev.sh

test: venv
	local/scripts/test.sh

lint: venv fmt clippy cfn-lint

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

cfn-lint: venv
	$(VENV)/bin/cfn-lint template.yaml

build:
	cargo build --workspace --bins

# Release bootstraps into ./target/lambda/<function>/, where template.yaml's CodeUri points.
# Needs cargo-lambda and zig: `pip install cargo-lambda ziglang` (see README).
lambda:
	cargo lambda build --release --arm64 --workspace --lambda-dir target/lambda

# The first root is the operator's to make, never the API's: straight into the local table of
# `make dev` (moto on MOTO_PORT). Against AWS: TABLE_NAME=<stack table> cargo run -p admin-cli -- ...
grant-root:
	@test -n "$(EMAIL)" || { echo "usage: make grant-root EMAIL=you@example.com"; exit 2; }
	AWS_ENDPOINT_URL=$${AWS_ENDPOINT_URL:-http://127.0.0.1:$(MOTO_PORT)} \
	AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-local} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-local} \
	AWS_REGION=$${AWS_REGION:-us-east-1} TABLE_NAME=$${TABLE_NAME:-insta-local} \
	cargo run --quiet -p admin-cli -- grant-root --email "$(EMAIL)"

bench: venv
	local/scripts/bench.sh

clean:
	cargo clean
	rm -rf $(VENV)

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

.PHONY: help dev test lint fmt clippy cfn-lint build lambda lambda-tools sam-build watch bench bench-long clean venv grant-root

help:
	@echo "make dev    - moto + the whole API on http://127.0.0.1:$(PORT) (Ctrl-C stops everything)"
	@echo "make test   - every test and lint against a private moto on a free port"
	@echo "make watch  - cargo lambda watch: every route on http://127.0.0.1:9000, rebuilt on change"
	@echo "make lint   - cargo fmt --check, clippy -D warnings, cfn-lint"
	@echo "make lambda - release arm64 bootstraps for every function (cargo-lambda, no SAM)"
	@echo "make sam-build - sam validate --lint + sam build (what sam deploy ships)"
	@echo "make bench  - the benchmark behind BENCHMARKS.md"
	@echo "make grant-root EMAIL=you@example.com - make that account root in the make dev stack"
	@echo "make bench-long - the long-session benchmark (5000 mixed requests, one make dev stack)"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# SAM CLI, cargo-lambda and zig (PyPI) in the same venv, plus Rust's arm64 target.
lambda-tools: $(VENV)/.lambda-tools

$(VENV)/.lambda-tools: requirements-lambda.txt $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-lambda.txt
	rustup target add aarch64-unknown-linux-gnu
	touch $@

dev: venv
	local/scripts/dev.sh

test: lambda-tools
	local/scripts/test.sh

watch: lambda-tools
	local/scripts/watch.sh

lint: venv fmt clippy cfn-lint

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

cfn-lint: venv
	$(VENV)/bin/cfn-lint template.yaml

build:
	cargo build --workspace --bins

# Release arm64 bootstraps in $(CARGO_TARGET_DIR)/lambda/<function>/bootstrap, built exactly as
# `sam build` builds them (one cargo-lambda call per function crate, so each links only the
# features it enables): `sam build` right after finds them fresh.
lambda: lambda-tools
	local/scripts/lambda.sh

sam-build: lambda-tools
	local/scripts/sam_build.sh

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

bench-long: venv
	local/scripts/bench_long.sh

clean:
	cargo clean
	rm -rf $(VENV)

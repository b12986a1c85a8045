# The two commands a new user types: `make run` and `make test`.
# Builds go to a cache outside the clone so repeated runs are fast.

SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/lake-target
CARGO ?= cargo
SCALE ?= 0.1

.PHONY: run test lint fmt build toolchain clean-lake help

help:
	@echo "make run     the main job: generate SF $(SCALE) data if needed, ingest, Silver, Gold, KPIs"
	@echo "make test    formatting, clippy and every test"
	@echo "make lint    formatting and clippy only"

toolchain:
	@scripts/ensure-toolchain.sh

build: toolchain
	$(CARGO) build --workspace --bins

run: build
	$(CARGO) run --quiet -p lake-cli --bin lake -- run --scale $(SCALE)

lint: toolchain
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The cluster tests start the lake-scheduler and lake-executor binaries: build them first.
test: lint
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace

fmt:
	$(CARGO) fmt --all

clean-lake:
	rm -rf lake data/sources

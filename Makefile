# The two commands a new user types: `make run` and `make test`.
# Builds go to a cache outside the clone so repeated runs are fast.

SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/lake-target
CARGO ?= cargo
SCALE ?= 0.1
VENV ?= $(HOME)/.cache/lake-venv
export LAKE_VENV := $(VENV)

PYTHON_SOURCES := flight-api/tests benches dashboard flows compose/metabase
DASHBOARD_VENV ?= $(HOME)/.cache/lake-dashboard-venv
export LAKE_DASHBOARD_VENV := $(DASHBOARD_VENV)
FLOWS_VENV ?= $(HOME)/.cache/lake-flows-venv
export LAKE_FLOWS_VENV := $(FLOWS_VENV)

.PHONY: run test test-fast lint fmt build toolchain test-servers bench-tools python-env dashboard-venv dashboard-env flows-env flows test-flows compose-check cluster-up cluster-down clean-lake help bench bench-dashboard test-dashboard

help:
	@echo "make run     the main job: generate SF $(SCALE) data if needed, ingest, Silver, Gold, ML, KPIs,"
	@echo "             then serve the API, Flight SQL and the dashboard until Ctrl-C (SERVE=0: pipeline only)"
	@echo "make test    formatting, clippy and every test (what CI runs)"
	@echo "make test-fast  unit tests and the in-process suites: no server, Spark, cluster or browser"
	@echo "make lint    formatting and clippy only"
	@echo "make cluster-up / cluster-down   a local Ballista cluster (1 scheduler + 2 executors)"
	@echo "make bench-dashboard          the dashboard's refresh delay to the pixel and page render times"
	@echo "make flows   the pipeline as Prefect flows, once, in Prefect's local ephemeral mode"

toolchain:
	@scripts/ensure-toolchain.sh

# Real servers the tests talk to (S3), installed once outside the clone.
test-servers: toolchain
	@scripts/ensure-test-servers.sh

# The Python clients the tests drive (ADBC Flight SQL, pyarrow) and ruff, in a venv outside the
# clone.
python-env:
	@scripts/ensure-python.sh >/dev/null

# The dashboard's venv (Streamlit, Plotly, pytest, Playwright) and, for its browser tests,
# Debian's Chromium.
dashboard-venv:
	@scripts/ensure-dashboard.sh >/dev/null

dashboard-env:
	@scripts/ensure-dashboard.sh --browser >/dev/null

# The Prefect flows' venv (Prefect 3.9, pytest).
flows-env:
	@scripts/ensure-flows.sh >/dev/null

# The pipeline once as Prefect flows (flows/lake_flows), on the default sources and lake, in
# Prefect's local ephemeral mode (or against PREFECT_API_URL when set).
flows: build flows-env
	@ls data/sources/*.csv >/dev/null 2>&1 || \
		$(CARGO_TARGET_DIR)/debug/lake generate --scale $(SCALE) --out data/sources
	cd flows && LAKE_BIN=$(CARGO_TARGET_DIR)/debug/lake LAKE_WORKDIR=$(CURDIR) \
		$(FLOWS_VENV)/bin/python -m lake_flows run

# The serving benchmarks' load generator (vegeta), outside the clone.
bench-tools: toolchain
	@scripts/ensure-bench-tools.sh

# compose/docker-compose.yml, checked without a Docker engine.
compose-check:
	@scripts/check-compose.sh

build: toolchain
	$(CARGO) build --workspace --bins

# The binary of the workspace build (`cargo run -p lake-cli` would resolve features for that
# crate alone and rebuild DataFusion). Then, unless SERVE=0, the API, Flight SQL and the
# dashboard serve the lake until Ctrl-C (scripts/serve.sh). Layers already published from the
# same inputs are not built again, so a second `make run` starts serving at once.
SERVE ?= 1
run: build dashboard-venv
	$(CARGO_TARGET_DIR)/debug/lake run --scale $(SCALE)
	@if [ "$(SERVE)" != 0 ]; then LAKE_BIN_DIR=$(CARGO_TARGET_DIR)/debug scripts/serve.sh; fi

lint: toolchain python-env
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/ruff check $(PYTHON_SOURCES)
	$(VENV)/bin/ruff format --check $(PYTHON_SOURCES)

# The cluster tests start the lake-scheduler and lake-executor binaries: build them first.
test: lint test-servers compose-check dashboard-env flows-env
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace
	$(MAKE) test-dashboard
	$(MAKE) test-flows
	$(MAKE) test-metabase

# The everyday run: every unit test, the golden figures, ingestion, the API over HTTP, the
# OpenAPI row schemas, `lake compare` and the `lake` binary end to end; no test server, Python
# venv, Spark, Kafka, cluster or browser (the pandas baseline of the golden test is skipped).
FAST_TESTS := --lib --bins --test golden --test ingest --test http --test table_schemas \
	--test compare --test cli
test-fast: toolchain
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace $(FAST_TESTS) -- --skip pandas_baseline

# The dashboard's page tests (Streamlit's AppTest) and browser tests (Chromium), against a real
# lake-api over the golden fixtures; screenshots go to $(DASHBOARD_ARTIFACTS).
DASHBOARD_ARTIFACTS ?= $(CURDIR)/target/dashboard-screenshots
test-dashboard: dashboard-env
	cd dashboard && LAKE_TEST_ARTIFACTS=$(DASHBOARD_ARTIFACTS) \
		$(DASHBOARD_VENV)/bin/python -m pytest -q -p no:cacheprovider tests

# The Prefect flows end to end in Prefect's test harness, on the golden fixtures.
test-flows: flows-env
	cd flows && LAKE_BIN_DIR=$(CARGO_TARGET_DIR)/debug DO_NOT_TRACK=1 \
		$(FLOWS_VENV)/bin/python -m pytest -q -p no:cacheprovider tests

# Metabase's provisioning logic (compose/metabase); Metabase itself cannot run here.
test-metabase: python-env
	cd compose/metabase && $(VENV)/bin/python -m pytest -q -p no:cacheprovider .

# The engines benchmark (benches/engines/bench_engines.py) on the release binaries: the same
# Silver + Gold on each engine, alternating, parity checked; results into benches/results/.
# BENCH_ARGS passes more options, e.g. "--runs-of spark-cluster=1 --engine duckdb".
RUNS ?= 3
BENCH_ARGS ?=
bench: toolchain python-env
	$(CARGO) build --release --workspace --bins
	$(VENV)/bin/python benches/engines/bench_engines.py --scale $(SCALE) --runs $(RUNS) \
		--lake-bin $(CARGO_TARGET_DIR)/release --out benches/results $(BENCH_ARGS)

# The dashboard's refresh time to the pixel (a new Gold → the open home page in headless
# Chromium shows the new CA, lake store and MongoDB via FerretDB) and each page's render time;
# results into benches/results/refresh-dashboard-*, shown on the "Fraîcheur des données" page.
DASHBOARD_BENCH_ARGS ?= --refresh-scale 0.1 --render-scale 1 --rounds 20 --render-repetitions 10
bench-dashboard: build dashboard-env test-servers
	$(DASHBOARD_VENV)/bin/python benches/dashboard/bench_dashboard.py \
		--lake-bin $(CARGO_TARGET_DIR)/debug --out benches/results $(DASHBOARD_BENCH_ARGS)

# A local cluster (1 scheduler + 2 executors) on the default ports 50050-50057.
cluster-up: build
	$(CARGO_TARGET_DIR)/debug/lake cluster up

cluster-down:
	$(CARGO_TARGET_DIR)/debug/lake cluster down

fmt:
	$(CARGO) fmt --all

clean-lake:
	rm -rf lake data/sources

# roamhub: two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run demo test faults check format bench bench-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Run the hub on the default configuration (SQLite under ./var/, http://127.0.0.1:8080).
run: $(STAMP)
	$(BIN)/roamhub serve

## A whole roaming day through a hub and four simulated partners, on SQLite in a fresh temp dir (<1 min).
demo: $(STAMP)
	$(BIN)/roamhub demo

## Run the whole test suite (PostgreSQL variants too when ROAMHUB_TEST_POSTGRES_URL is set).
test: $(STAMP)
	$(BIN)/pytest -q -m "not disruptive" $(PYTEST_ARGS)

## The fault scenarios that restart or kill a shared service (PostgreSQL under load); each prints what it
## injected and what it verified. CI runs it after `make test`; it needs ROAMHUB_TEST_POSTGRES_URL.
faults: $(STAMP)
	$(BIN)/pytest -q -s -m disruptive $(PYTEST_ARGS)

## Linters and types.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Benchmark the hub against direct and proxy baselines (<10 min); PostgreSQL too when
## ROAMHUB_BENCH_POSTGRES_URL or ROAMHUB_TEST_POSTGRES_URL is set.
bench: $(STAMP)
	$(BIN)/python -m hub.bench.run --out var/bench/bench-results.json

## The benchmark's quick mode: a few seconds per scenario (the test suite runs it on SQLite).
bench-smoke: $(STAMP)
	$(BIN)/python -m hub.bench.run --quick --out var/bench/bench-smoke.json

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

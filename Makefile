# roamhub: two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test check format demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Run the hub on the default configuration (SQLite under ./var/, http://127.0.0.1:8080).
run: $(STAMP)
	$(BIN)/roamhub serve

## Run the whole test suite (PostgreSQL variants too when ROAMHUB_TEST_POSTGRES_URL is set).
test: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

## Linters and types.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

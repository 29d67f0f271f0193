# Entry points: `make demo` (main job on the default real data), `make test` (CI: everything) and
# `make test-fast` (development: the tests not marked slow).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The read-only data mirror of these machines; used only when it exists.
MIRROR := $(abspath ../shared/data)
export CROSSSCALE_MIRROR ?= $(if $(wildcard $(MIRROR)/SOURCES.md),$(MIRROR),)

.PHONY: env demo test test-fast lint bench clean

$(BIN)/crossscale: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $@

env: $(BIN)/crossscale

demo: env
	$(BIN)/crossscale fit --out results/ad_default --overwrite

test: env
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

# For development: ruff, then the tests not marked slow, stopping at the first failure.
# `make test` (above) is the CI command and runs every test.
test-fast: env
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q -x -m "not slow"

bench: env
	$(BIN)/python benchmarks/bench_fit.py

clean:
	rm -rf $(VENV) results

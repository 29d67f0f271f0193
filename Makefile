# Entry points: `make demo` (main job on the default real data), `make test` (CI: everything) and
# `make test-fast` (development: the tests not marked slow).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The read-only data mirror of these machines; used only when it exists.
MIRROR := $(abspath ../shared/data)
export CROSSSCALE_MIRROR ?= $(if $(wildcard $(MIRROR)/SOURCES.md),$(MIRROR),)

.PHONY: env demo test test-fast lint bench mutation clean

$(BIN)/crossscale: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	# ComBat reference (extra `harmonize`): its numpy<2 / pandas<3 pins are stale, so no deps
	$(BIN)/python -m pip install -q --no-deps -c constraints.txt neuroHarmonize neuroCombat
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

# Mutation testing of the statistical and generative core (not part of `make test`; over an hour
# on 2 cores): mutmut mutates the files in pyproject's [tool.mutmut], runs their unit tests, and
# benchmarks/run_mutation.py writes benchmarks/results/mutation.md. ARGS="--only compare" for one module.
mutation: env
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev,mutation]"
	$(BIN)/python benchmarks/run_mutation.py $(ARGS)

clean:
	rm -rf $(VENV) results mutants

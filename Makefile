# Two entry points: `make demo` (main job on the default real data) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The read-only data mirror of these machines; used only when it exists.
MIRROR := $(abspath ../shared/data)
export CROSSSCALE_MIRROR ?= $(if $(wildcard $(MIRROR)/SOURCES.md),$(MIRROR),)

.PHONY: env demo test lint bench clean

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

bench: env
	$(BIN)/python benchmarks/bench_fit.py

clean:
	rm -rf $(VENV) results

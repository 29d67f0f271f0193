# Entry points: `make demo` (main job on the default real data), `make test` (CI: everything) and
# `make test-fast` (development: the tests not marked slow).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The read-only data mirror of these machines; used only when it exists.
MIRROR := $(abspath ../shared/data)
export CROSSSCALE_MIRROR ?= $(if $(wildcard $(MIRROR)/SOURCES.md),$(MIRROR),)

.PHONY: env demo test test-fast lint bench docs docs-gallery dist mutation clean

$(BIN)/crossscale: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev,docs]"
	# ComBat reference (extra `harmonize`): its numpy<2 / pandas<3 pins are stale, so no deps
	$(BIN)/python -m pip install -q --no-deps -c constraints.txt neuroHarmonize neuroCombat
	touch $@

env: $(BIN)/crossscale

demo: env
	$(BIN)/crossscale fit --out results/ad_default --overwrite

# pytest runs on 2 worker processes (pytest-xdist; an idle worker takes queued tests from the
# busy one: worksteal), each on one BLAS/OpenMP thread: two workers with two threads each on
# 2 cores made the suite ~25% slower (threads spinning against the other worker). The
# timings: benchmarks/results/test_time.md.
test: env
	$(BIN)/ruff check src tests benchmarks examples docs
	$(BIN)/lint-imports
	$(MAKE) docs
	$(MAKE) dist
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist worksteal

# For development: ruff, then the tests not marked slow, stopping at the first failure.
# `make test` (above) is the CI command and runs every test.
test-fast: env
	$(BIN)/ruff check src tests benchmarks examples docs
	$(BIN)/python -m pytest -q -x -m "not slow"

# The documentation site -> docs/_build/html/index.html. Offline, warnings are errors, and the
# gallery is rendered without running the examples (they run as tests: tests/test_examples.py).
docs: env
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# The same site with every example run and its figures and output shown (a few minutes).
docs-gallery: env
	rm -rf docs/auto_examples  # sphinx-gallery reruns only changed scripts: start afresh
	$(BIN)/sphinx-build -W --keep-going -q -b html -D plot_gallery=1 docs docs/_build/html-gallery

# The sdist and the wheel (version from the git tag, hatch-vcs) -> dist/, checked by twine.
# tests/test_wheel.py installs a wheel into a fresh venv and runs a smoke fit.
dist: env
	rm -f dist/crossscale-*.tar.gz dist/crossscale-*.whl
	$(BIN)/python -m build --no-isolation --outdir dist .
	$(BIN)/twine check --strict dist/crossscale-*

bench: env
	$(BIN)/python benchmarks/bench_fit.py

# Mutation testing of the statistical and generative core (not part of `make test`; over an hour
# on 2 cores): mutmut mutates the files in pyproject's [tool.mutmut], runs their unit tests, and
# benchmarks/run_mutation.py writes benchmarks/results/mutation.md. ARGS="--only compare" for one module.
mutation: env
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev,mutation]"
	$(BIN)/python benchmarks/run_mutation.py $(ARGS)

clean:
	rm -rf $(VENV) results mutants docs/_build docs/generated docs/auto_examples docs/sg_execution_times.rst

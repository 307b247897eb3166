# Quick start: `make demo` (synthetic company, offline) and `make test`. Both create .venv when it is
# missing or older than pyproject.toml, using the first Python 3.11–3.13 found.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster

.PHONY: demo test test-all lint dev check docs bench clean focus-check

$(STAMP): pyproject.toml
	@set -e; \
	if [ ! -x "$(PY)" ] || ! $(PY) -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 13)))' 2>/dev/null; then \
	  PYBIN=""; \
	  for c in python3.13 python3.12 python3.11 python3; do \
	    if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 13)))' 2>/dev/null; then PYBIN=$$c; break; fi; \
	  done; \
	  if [ -z "$$PYBIN" ]; then echo "make: no Python 3.11-3.13 found on PATH (tokencomp needs one)" >&2; exit 1; fi; \
	  echo "make: creating $(VENV) with $$PYBIN" >&2; \
	  rm -rf $(VENV); $$PYBIN -m venv $(VENV) || { echo "make: could not create $(VENV) with $$PYBIN (is the venv module installed?)" >&2; exit 1; }; \
	fi; \
	echo "make: installing tokencomp and its dependencies into $(VENV) (a minute or two, plus downloads; pip's progress follows)" >&2; \
	$(PY) -m pip install --disable-pip-version-check --upgrade pip 2> >(grep -v 'is ignored: it is neither' >&2) || true; \
	$(PY) -m pip install --disable-pip-version-check -e '.[dev]' 2> >(grep -v 'is ignored: it is neither' >&2) || true; \
	$(PY) -c 'import dagster, duckdb, polars, pytest' 2>/dev/null || { echo "make: installing tokencomp into $(VENV) failed (see pip output above)" >&2; exit 1; }; \
	touch $(STAMP)

# the packaged instance config (storage in $DAGSTER_HOME); ./dagster.yaml is the same with its storage in ./.dagster
$(DAGSTER_HOME)/dagster.yaml: pipelines/dagster.yaml
	@mkdir -p $(DAGSTER_HOME) && cp pipelines/dagster.yaml $(DAGSTER_HOME)/dagster.yaml

demo: $(STAMP) $(DAGSTER_HOME)/dagster.yaml  ## synthetic company, whole pipeline, offline
	$(VENV)/bin/tokencomp demo

# The fast suite on every core (pytest-xdist): a test file stays on one worker, so a module's expensive set-up
# (a demo company) is built once; session-wide ones are shared across workers (tests/conftest.py built_once).
test: $(STAMP)  ## the fast suite (slow suites are marked and run by .ci/run)
	@bash .ci/system-packages chromium
	$(VENV)/bin/pytest -q -m "not slow" -n auto --dist loadfile

test-all: $(STAMP)
	$(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

check: $(STAMP) $(DAGSTER_HOME)/dagster.yaml  ## the code location loads
	$(VENV)/bin/dg check defs

dev: $(STAMP) $(DAGSTER_HOME)/dagster.yaml  ## Dagster UI on http://127.0.0.1:3000 with this instance
	$(VENV)/bin/dg dev -h 127.0.0.1 -p 3000

docs: $(STAMP)  ## regenerate docs/data-dictionary.md from the warehouse COMMENTs
	$(PY) -m pipelines.docs docs/data-dictionary.md

# SIZES=1M REPEAT=1 narrow a run, ZSTD=1 writes every size as zstd files, BENCH_ARGS passes bench/run.py options
bench: $(STAMP)  ## Claude Code logs at 1M and 10M lines vs one DuckDB statement and ccusage (SIZE=100M adds 100M), incremental nightly, large company; bench/results.md
	$(PY) bench/run.py $(if $(SIZE),--size $(SIZE)) $(if $(ZSTD),--zstd) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .dagster data .pytest_cache .ruff_cache bench/.node

focus-check: $(STAMP)  ## the demo month's FOCUS export through focus-validator 2.2.1 (installs it into .venv-focus)
	$(PY) -m pipelines.focus_check

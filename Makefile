# aignostics-jupyter: the two commands are `make demo` and `make test`; everything else is a step of those.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PYTEST := $(BIN)/pytest
STAMP := $(VENV)/.installed
JLPM := PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/jlpm
PYTEST_ARGS ?=

.PHONY: help install lint format test test_unit test_integration test_e2e test_live test_live_local check-markers \
        chromium wrk bench \
        demo clean

help:  ## list the targets
	@grep -E '^[a-z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml package.json yarn.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | sed '/is ignored: it is neither/d'
	PATH="$(CURDIR)/$(BIN):$$PATH" $(PY) -m pip install --quiet -e ".[dev]" 2>&1 | sed '/is ignored: it is neither/d'
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter labextension develop --overwrite . >/dev/null
	$(BIN)/jupyter server extension enable --sys-prefix aignostics_jupyter >/dev/null
	touch $(STAMP)

install: $(STAMP)  ## create .venv with the package (editable), its extras and the built lab extension
	@$(JLPM) build >/dev/null
	@echo "installed: $$($(BIN)/jupyter labextension list 2>&1 | grep aignostics-jupyter)"

chromium:  ## make sure a Chromium for the browser tests exists (apt-get when root and missing)
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = "0" ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && \
	  echo "chromium installed: $$(command -v chromium)"; \
	else echo "chromium is missing and this is not root: install Debian's chromium package" >&2; exit 1; fi

format: install  ## format Python and TypeScript in place
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(JLPM) prettier

lint: install  ## ruff, mypy --strict, eslint, prettier, tsc, and no registry host in any tracked file
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(JLPM) lint
	$(JLPM) build:lib >/dev/null
	bash scripts/check-no-registry-hosts

check-markers: install  ## fail when a test lacks exactly one category marker (the root conftest enforces it)
	@$(PYTEST) --collect-only -q -p no:cacheprovider $(PYTEST_ARGS) | tail -n 1

# pytest's exit code 5 means "no tests collected": for this suite that is a failure, never a pass.
define run_pytest
	$(PYTEST) $(1) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests for '$(1)': failing" >&2; exit 1; fi; exit $$rc
endef

test: install chromium lint check-markers  ## lint, every category but live (coverage >= 85 %), live suite locally
	$(JLPM) test
	$(call run_pytest,-m "not live" --cov=aignostics_jupyter --cov-report=term --cov-fail-under=85)
	$(PY) scripts/with_local_platform.py -- $(PYTEST) --nbval-lax --nbval-current-env notebooks -p no:cacheprovider
	$(MAKE) --no-print-directory test_live_local

test_live_local: install  ## the live suite and the smoke script, against a local platform started for them
	$(PY) scripts/with_local_platform.py -- $(PYTEST) -m live tests/live -p no:cacheprovider $(PYTEST_ARGS)
	$(PY) scripts/with_local_platform.py -- $(PY) scripts/smoke.py --verbose

test_unit: install  ## unit tests only
	$(call run_pytest,-m unit)

test_integration: install  ## integration tests only
	$(call run_pytest,-m integration)

test_e2e: install chromium  ## end-to-end tests only (browser, notebooks, wheel)
	$(call run_pytest,-m e2e)

test_live: install  ## the live checks against the real platform (needs AIGNOSTICS_RUN_E2E=1 and credentials)
	$(call run_pytest,-m live)

wrk:  ## make sure wrk (the benchmarks' C load generator) exists (apt-get when root and missing)
	@if command -v wrk >/dev/null 2>&1; then echo "wrk: $$(command -v wrk)"; \
	elif [ "$$(id -u)" = "0" ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null && \
	  echo "wrk installed: $$(command -v wrk)"; \
	else echo "wrk is missing and this is not root: the tile benchmark falls back to Python clients" >&2; fi

bench: install chromium wrk  ## the benchmarks (long; ratios against baselines measured in the same run)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

demo: install  ## local platform + sample slides + JupyterLab on the tutorials; prints the URL (Ctrl-C stops all)
	$(BIN)/aignostics-jupyter demo

clean:  ## remove build output, caches and the venv
	rm -rf $(VENV) node_modules lib aignostics_jupyter/labextension aignostics_jupyter/_version.py dist build \
	  tsconfig.tsbuildinfo .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov .eslintcache .demo

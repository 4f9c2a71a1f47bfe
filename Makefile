# FLchain developer entry points. `make demo` and `make test` set everything up first.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
PIP   := $(VENV)/bin/pip
STAMP_PY  := $(VENV)/.setup-stamp
STAMP_NPM := node_modules/.setup-stamp

.PHONY: setup demo test test-fast lint build clean

setup: $(STAMP_PY) $(STAMP_NPM)

# torch is installed first and alone, so that nothing pulls a CUDA build.
$(STAMP_PY): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev]'
	@touch $@

# Without npm, FLchain still runs on the embedded py-evm chain (no Anvil, Ganache or solc).
$(STAMP_NPM): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: skipping the JavaScript toolchain; the embedded py-evm chain will be used"; \
	fi

demo: setup
	$(VENV)/bin/flchain demo

test: setup
	$(VENV)/bin/pytest -n 2 --dist loadgroup

test-fast: setup
	$(VENV)/bin/pytest -n 2 --dist loadgroup -m "not slow and not e2e"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

build: setup
	$(VENV)/bin/flchain build

clean:
	rm -rf $(VENV) node_modules .flchain .pytest_cache .mypy_cache .ruff_cache

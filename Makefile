# FLchain developer entry points. `make demo` and `make test` set everything up first.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
PIP   := $(VENV)/bin/pip
STAMP_PY  := $(VENV)/.setup-stamp
STAMP_NPM := node_modules/.setup-stamp
# Slither pins web3 < 8 while FLchain needs web3 8, so it lives in a venv of its own.
SLITHER_VENV  := .venv-slither
SLITHER_PIN   := slither-analyzer==0.11.6
STAMP_SLITHER := $(SLITHER_VENV)/.setup-stamp
# forge and the scripts/solc wrapper come from node_modules (see foundry.toml).
NPM_PATH := PATH="$(CURDIR)/node_modules/.bin:$$PATH"

.PHONY: setup demo test test-kubo test-fast lint slither coverage build clean

# Every optional extra too (Flower, Ray, Slither, forge), so no test skips here.
setup: $(STAMP_PY) $(STAMP_NPM) $(STAMP_SLITHER)

# torch is installed first and alone, so that nothing pulls a CUDA build.
$(STAMP_PY): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev,flower,ray]'
	@touch $@

# Without npm, FLchain still runs on the embedded py-evm chain (no Anvil, Ganache or solc).
$(STAMP_NPM): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: skipping the JavaScript toolchain; the embedded py-evm chain will be used"; \
	fi

$(STAMP_SLITHER):
	@test -x $(SLITHER_VENV)/bin/python || python3 -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/pip install -q '$(SLITHER_PIN)'
	@touch $@

demo: setup
	$(VENV)/bin/flchain demo

test: setup
	$(VENV)/bin/pytest -n 2 --dist loadgroup

# Against a Kubo daemon (`ipfs` on PATH), which `make setup` cannot install.
test-kubo: setup
	$(VENV)/bin/pytest -m kubo

test-fast: setup
	$(VENV)/bin/pytest -n 2 --dist loadgroup -m "not slow and not e2e"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@$(MAKE) --no-print-directory slither

# Fails on any Slither finding not justified in contracts/slither-triage.json.
slither: setup $(STAMP_SLITHER)
	@mkdir -p .forge
	$(NPM_PATH) $(SLITHER_VENV)/bin/slither . --json - 2>.forge/slither.log \
		| $(PY) scripts/slither_gate.py contracts/slither-triage.json

# Line and branch coverage of contracts/ by the forge suite (unoptimised build: a few minutes).
coverage: setup
	$(NPM_PATH) forge coverage --no-match-coverage 'contracts/test|node_modules' \
		--report summary --report lcov --report-file .forge/lcov.info
	$(PY) scripts/coverage_gate.py .forge/lcov.info 98 90

build: setup
	$(VENV)/bin/flchain build

clean:
	rm -rf $(VENV) $(SLITHER_VENV) .forge node_modules .flchain .pytest_cache .mypy_cache .ruff_cache

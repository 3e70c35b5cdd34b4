# Jalon: `make demo` and `make test` do every set-up step on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
JALON  := $(VENV)/bin/jalon
STAMP  := $(VENV)/.installed-stamp

.PHONY: install up down status demo test test-unit lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

up: install
	$(JALON) up

down:
	@if [ -x $(JALON) ]; then $(JALON) down; else echo "nothing to stop (no $(VENV))"; fi

status: install
	$(JALON) status

demo: install
	$(JALON) up
	$(PY) -m shared.demo

test: install
	$(PY) -m pytest

test-unit: install
	$(PY) -m pytest tests/unit

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared services bench tests
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) -m bench

clean: down
	rm -rf .jalon .pytest_cache .mypy_cache .ruff_cache

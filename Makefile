# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXPRLAB_DATA ?= $(abspath ../shared/data)
export EXPRLAB_DATA

.PHONY: install test test-fast lint format demo bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not realdata"

lint: install
	$(BIN)/ruff check src tests benchmarks scripts docs
	$(BIN)/ruff format --check src tests benchmarks scripts docs
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests benchmarks scripts docs
	$(BIN)/ruff check --fix src tests benchmarks scripts docs

demo: install
	$(BIN)/exprlab demo --out demo-output

clean:
	rm -rf $(VENV) demo-output

# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXPRLAB_DATA ?= $(abspath ../shared/data)
export EXPRLAB_DATA

.PHONY: install test test-fast lint format demo docs bench clean

install: $(STAMP)

# uv resolves and installs in about a quarter of pip's time. It is installed into the venv with
# pip and told where pip finds wheels (pip's find-links, e.g. a local CPU build of torch), so both
# resolve the same packages; INSTALLER=pip forces the plain pip path.
INSTALLER ?= uv
PIP_FIND_LINKS ?= $(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null)
UV_LINKS := $(foreach link,$(PIP_FIND_LINKS),--find-links $(link))

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
ifeq ($(INSTALLER),uv)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python $(UV_LINKS) -c constraints.txt -e '.[dev]'
else
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
endif
	touch $(STAMP)

# the suite runs on every core up to 4 (pytest-xdist), handing out two tests at a time so that
# the long document runs (collected first) spread over the workers; PYTEST_WORKERS=0 runs it in
# one process. The slowest tests are listed at the end.
PYTEST_WORKERS ?= auto
XDIST := -n $(PYTEST_WORKERS) --maxprocesses 4 --maxschedchunk 2
test: install
	$(BIN)/python -m pytest -q $(XDIST) --durations 15

test-fast: install
	$(BIN)/python -m pytest -q $(XDIST) -m "not slow and not realdata"

lint: install
	$(BIN)/ruff check src tests benchmarks scripts docs
	$(BIN)/ruff format --check src tests benchmarks scripts docs
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests benchmarks scripts docs
	$(BIN)/ruff check --fix src tests benchmarks scripts docs

docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

demo: install
	$(BIN)/exprlab demo --out demo-output

clean:
	rm -rf $(VENV) demo-output site

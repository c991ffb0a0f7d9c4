# medmodal: the two set-up commands are `make demo` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU wheel of PyTorch is found by this exact pin; any other spec pulls a CUDA build.
TORCH := torch==2.13.0
PYTEST_ARGS ?=

.PHONY: demo test test-all lint typecheck bench clean install install-dev docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# Stamp files re-run the install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install "$(TORCH)"
	$(BIN)/pip install -e ".[all]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install "$(TORCH)"
	$(BIN)/pip install -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## demo: install into .venv and run the main job (report in medmodal-report/)
demo: $(VENV)/.installed
	$(BIN)/medmodal demo --out medmodal-report --overwrite

## test: install with dev extras, then lint, type-check and run the quick test suite
test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -m "not slow" -n 2 $(PYTEST_ARGS)

## test-all: every test, slow ones included
test-all: $(VENV)/.installed-dev
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

## bench: the QRS detection benchmark on all 48 MIT-BIH records (needs the shared data)
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/ecg_qrs.py

## docs: API reference from the docstrings (pdoc) into site/ (open site/index.html)
DOC_MODULES = import pkgutil, medmodal; print(" ".join(["medmodal"] + [m.name for m in \
	pkgutil.walk_packages(medmodal.__path__, "medmodal.") if "._" not in m.name]))
docs: $(VENV)/.installed-dev
	rm -rf site
	$(BIN)/pdoc --docformat google -o site $$($(BIN)/python -c '$(DOC_MODULES)')
	@echo "API reference: site/index.html"

clean:
	rm -rf $(VENV) medmodal-report .pytest_cache .mypy_cache .ruff_cache

# `make setup` is idempotent: it (re)creates .venv only when pyproject.toml or
# constraints.txt changed. `make test` sets up if needed, then runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# torch==2.13.0 from PyPI is a multi-GB CUDA build on Linux. Where a local CPU
# wheel exists (pip's find-links on this machine) pip takes it as is; elsewhere
# we point pip at PyTorch's CPU index so a laptop install stays small.
TORCH_LOCAL := $(shell ls /opt/wheels/torch-2.13.0+cpu-*.whl 2>/dev/null | head -1)
ifeq ($(TORCH_LOCAL),)
TORCH_INDEX := --extra-index-url https://download.pytorch.org/whl/cpu
endif

.PHONY: setup test lint bench clean browser

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q $(TORCH_INDEX) "torch==2.13.0"
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check src tests bench

bench: setup
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/accuracy.py

clean:
	rm -rf $(VENV) build *.egg-info

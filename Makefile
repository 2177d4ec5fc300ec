# `make setup` is idempotent: it (re)creates .venv only when pyproject.toml or
# constraints.txt changed. `make test` sets up if needed, then runs the suite.
# .venv has everything (torch too: the `neural` extra); .venv-core is what
# `pip install workout-classifier` gives, without torch. CI (`make ci`) runs the
# core tests in .venv-core and only the `neural` tests in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORE := .venv-core
CORE_STAMP := $(CORE)/.installed

# torch==2.13.0 from PyPI is a multi-GB CUDA build on Linux. Where a local CPU
# wheel exists (pip's find-links on this machine) pip takes it as is; elsewhere
# we point pip at PyTorch's CPU index so a laptop install stays small.
TORCH_LOCAL := $(shell ls /opt/wheels/torch-2.13.0+cpu-*.whl 2>/dev/null | head -1)
ifeq ($(TORCH_LOCAL),)
TORCH_INDEX := --extra-index-url https://download.pytorch.org/whl/cpu
endif

.PHONY: setup setup-core test test-core test-neural ci lint bench clean browser

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q $(TORCH_INDEX) "torch==2.13.0"
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,neural]"
	touch $(STAMP)

setup-core: $(CORE_STAMP)

$(CORE_STAMP): pyproject.toml constraints.txt
	test -x $(CORE)/bin/python || $(PYTHON) -m venv $(CORE)
	$(CORE)/bin/pip install -q -c constraints.txt -e ".[dev]"
	@# The promise of the light install: nothing in it pulled torch.
	@if $(CORE)/bin/python -c "import importlib.util as u, sys; sys.exit(u.find_spec('torch') is None)"; then \
		echo "error: the core install pulled torch"; exit 1; fi
	touch $(CORE_STAMP)

test: setup
	$(BIN)/python -m pytest -q

test-core: setup-core
	$(CORE)/bin/python -m pytest -q -m "not neural"

test-neural: setup
	$(BIN)/python -m pytest -q -m neural

ci: lint test-core test-neural

# Style is part of CI: ruff's rules (pyproject.toml) and its formatter, checked, not applied.
lint: setup-core
	$(CORE)/bin/ruff check src tests bench
	$(CORE)/bin/ruff format --check src tests bench

bench: setup
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/accuracy.py

clean:
	rm -rf $(VENV) $(CORE) build *.egg-info

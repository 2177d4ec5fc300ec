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

# Benchmarks: `make bench` runs every maintained one (hours on 2 cores), `make bench-NAME` one of them,
# e.g. `make bench-accuracy CACHE=/work/cache`. Each writes bench/results/NAME.md (bench/common.py's
# write_table: a header with the commit, date and command line). They need ../shared/data/clips beside
# the checkout; most read its poses from CACHE (`workout extract ../shared/data/clips --cache CACHE`).
# PYTHONPATH=src: the checkout's code is what gets measured. Timings: run them on an idle machine.
CACHE ?= cache
ANSWERS ?= out/same_answers.json
BENCH_PY = PYTHONPATH=src $(BIN)/python
BENCHES := accuracy levers unknown damaged predict serve_long serve_load extract extract_profile extract_full live reps form timeline ray_extract pose_recovery same_answers invariance

.PHONY: $(addprefix bench-,$(BENCHES))
bench: $(addprefix bench-,$(BENCHES))

bench-accuracy: setup           # every model, grouped 5-fold and leave-source-out (about 2 h)
	$(BENCH_PY) bench/accuracy.py --cache $(CACHE)
bench-levers: setup             # accuracy levers of trees: grouped, leave-source-out, new sources (about 20 min)
	$(BENCH_PY) bench/levers.py --cache $(CACHE)
bench-invariance: setup         # new-source clips mirrored, cropped, shrunk, slowed, sped up: same answer? (2 min)
	$(BENCH_PY) bench/invariance.py --cache $(CACHE)
bench-damaged: setup            # damaged copies of real clips through predict: errors, warnings, clean clips
	$(BENCH_PY) bench/damaged.py
bench-serve_long: setup         # a 4-minute session through the job API against a cold workout predict
	$(BENCH_PY) bench/serve_long.py --repeats 3
bench-serve_load: setup         # 30 uploads at once to a local workout serve: 503s, memory, files left
	$(BENCH_PY) bench/serve_load.py
bench-unknown: setup            # what the unknown gate rejects (about 8 min)
	$(BENCH_PY) bench/unknown.py --cache $(CACHE)
bench-predict: setup            # time to an answer, cold and warm, against a bare MediaPipe loop
	$(BENCH_PY) bench/predict.py --repeats 5
bench-extract: setup            # extraction pipeline against a bare Pose.process loop, 12 clips
	$(BENCH_PY) bench/extract.py
bench-extract_profile: setup    # CPU time of each extraction stage per frame against a bare loop
	$(BENCH_PY) bench/extract_profile.py
bench-extract_full: setup       # the whole clip set into an empty cache (about 7 min); adds a row
	$(BENCH_PY) bench/extract.py --full
bench-live: setup               # workout live on files played as streams, and the page's camera mode
	$(BENCH_PY) bench/live.py
bench-reps: setup               # rep counts against the hand counts of bench/rep_labels*.csv
	$(BENCH_PY) bench/reps.py --cache $(CACHE)
bench-form: setup               # push-up form check, grouped CV (--no-save: the shipped form model stays)
	$(BENCH_PY) bench/form.py --cache $(CACHE) --no-save
bench-timeline: setup           # timeline of real clips joined end to end
	$(BENCH_PY) bench/timeline.py --cache $(CACHE)
bench-ray_extract: setup        # Ray actors against local workers on the same clips
	$(BENCH_PY) bench/ray_extract.py --clips 12 --cpus 2
bench-pose_recovery: setup      # frames with a person per exercise, from CACHE's metadata
	$(BENCH_PY) bench/pose_recovery.py frames --cache $(CACHE)
	$(BENCH_PY) bench/pose_recovery.py report
bench-same_answers: setup       # the shipped model's answers against those saved in ANSWERS (saved first if missing)
	mkdir -p $(dir $(ANSWERS))
	test -f $(ANSWERS) || $(BENCH_PY) bench/same_answers.py --cache $(CACHE) --save $(ANSWERS)
	$(BENCH_PY) bench/same_answers.py --cache $(CACHE) --against $(ANSWERS)

clean:
	rm -rf $(VENV) $(CORE) build *.egg-info

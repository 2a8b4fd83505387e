# Task entry points of bprop (see README.md).
#
#   make demo    build the extension, then run the main job: the digits MLP (examples/digits.py)
#   make fit     build the extension, then run the curve-fitting example (examples/fit.py)
#   make test    build the extension, then cargo test of the core, pytest (with the mypy checks)
#   make bench   build the extension, then the Python benchmark harnesses and cargo bench
#
# Everything works from a fresh clone: the virtual environment .venv is created (with python3)
# and filled the first time a target needs it. Needs a Rust toolchain (cargo) and python3 >= 3.11.

PYTHON3 ?= python3
CARGO   ?= cargo
VENV    := .venv
PY      := $(VENV)/bin/python
# Written once the Python tools are installed, so an interrupted install is redone next time.
# It depends on this Makefile, so that an existing venv gets packages added to PY_DEPS.
DEPS    := $(VENV)/.deps-installed
# build and test tools (scipy: the scipy.special tests), then what the demo and the array
# benchmarks need (pyproject's `demo` extra)
PY_DEPS := maturin "numpy>=2" pytest hypothesis mypy scipy scikit-learn matplotlib tqdm

.PHONY: venv build demo fit test bench clean distclean

venv: $(DEPS)

$(PY):
	$(PYTHON3) -m venv $(VENV)

$(DEPS): $(PY) Makefile
	$(PY) -m pip install -U pip
	$(PY) -m pip install $(PY_DEPS)
	touch $@

# maturin installs into the environment named by VIRTUAL_ENV; set it so that no activation is needed.
build: $(DEPS)
	VIRTUAL_ENV="$(CURDIR)/$(VENV)" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/maturin develop --release

demo: build
	$(PY) examples/digits.py

fit: build
	$(PY) examples/fit.py

test: build
	$(CARGO) test -p bprop-core
	$(PY) -m pytest

bench: build
	$(PY) benches/bench_scalar.py
	$(PY) benches/bench_arrays.py
	$(PY) benches/bench_containers.py
	$(PY) benches/bench_numpy.py
	$(CARGO) bench -p bprop-core

# Build outputs and caches; `distclean` also removes the virtual environment.
clean:
	$(CARGO) clean
	rm -f python/bprop/_core*.so python/bprop/_core*.pyd
	rm -rf .pytest_cache .mypy_cache .hypothesis
	find . -name __pycache__ -type d -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

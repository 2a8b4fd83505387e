# Task entry points of bprop (see README.md).
#
#   make demo    build the extension, then run the main job: the digits MLP (examples/digits.py)
#   make fit     build the extension, then run the curve-fitting example (examples/fit.py)
#   make test    build the extension, then `make lint`, cargo test, then build the abi3 wheel and
#                run the test suite (with the typing checks) and stubtest against it, installed
#                in fresh virtual environments of Python 3.11, 3.12 and 3.13 (tools/test_wheel.py)
#   make test-dev pytest on the development build only (quick; what `make test` runs per version)
#   make wheel   the abi3 wheel (one wheel for CPython >= 3.11) in target/wheels
#   make sdist   the source distribution in target/wheels
#   make lint    cargo fmt --check, cargo clippy -D warnings, ruff check, ruff format --check,
#                mypy --strict and pyright on the package
#   make bench   build the extension, cargo bench of the Rust core, then benches/report.py: every
#                workload with bprop, the hand-written baseline and the installed peers, one
#                table printed and written to benches/RESULTS.md and README.md, and a chart
#                (benches/results.png); about 15 minutes with every peer installed
#   make peers   install the bench-only peers (HIPS autograd, JAX, PyTorch) pinned in
#                benches/peers.txt into .venv; PyTorch from PyPI brings its CUDA libraries,
#                several GB. `make bench` runs without them (their columns say "not installed")
#
# Everything works from a fresh clone: the virtual environment .venv is created (with python3)
# and filled the first time a target needs it. Needs a Rust toolchain (cargo) and python3 >= 3.11.

PYTHON3 ?= python3
CARGO   ?= cargo
VENV    := .venv
PY      := $(VENV)/bin/python
# Written once the Python tools are installed, so an interrupted install is redone next time.
# It depends on the lock file, so that an existing venv follows changes to the pins.
DEPS    := $(VENV)/.deps-installed
# The Python tools (build, tests, lint, demo), pinned: requirements-dev.in lists them and
# requirements-dev.txt locks their versions (`make lock` regenerates it).
LOCK    := requirements-dev.txt
# pyo3's build script must find the venv's interpreter (clippy builds the bindings crate).
export PYO3_PYTHON := $(CURDIR)/$(VENV)/bin/python
export PYRIGHT_PYTHON_IGNORE_WARNINGS := 1

# The distributed wheel: built once by `make test` and `make wheel`, with the stable ABI (the
# bindings crate's default `abi3` feature), in a target directory of its own so that it and the
# development build do not rebuild each other.
WHEELS  := target/wheels

.PHONY: venv build demo fit lint test test-dev wheel sdist bench peers lock clean distclean

venv: $(DEPS)

$(PY):
	$(PYTHON3) -m venv $(VENV)

$(DEPS): $(PY) $(LOCK)
	$(PY) -m pip install -U pip
	$(PY) -m pip install -r $(LOCK)
	touch $@

# maturin installs into the environment named by VIRTUAL_ENV; set it so that no activation is needed.
# The development build is specific to the venv's Python (--no-default-features drops abi3, which
# costs about 10 % on the scalar tape benchmark); the abi3 one is for the wheel.
build: $(DEPS)
	rm -f python/bprop/_core.abi3.so
	VIRTUAL_ENV="$(CURDIR)/$(VENV)" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
	  $(VENV)/bin/maturin develop --release --no-default-features

wheel: $(DEPS)
	rm -f $(WHEELS)/bprop-*.whl
	$(VENV)/bin/maturin build --release --interpreter $(PY) --target-dir target/abi3 --out $(WHEELS)

sdist: $(DEPS)
	rm -f $(WHEELS)/bprop-*.tar.gz
	$(VENV)/bin/maturin sdist --out $(WHEELS)

demo: build
	$(PY) examples/digits.py

fit: build
	$(PY) examples/fit.py

lint: $(DEPS)
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/pyright --pythonpath $(PY) python/bprop

# The suite runs on the installed wheel (tools/test_wheel.py skips, and names, a Python version
# this machine lacks); the development build is still made for lint, the demo and benchmarks.
test: build lint
	$(CARGO) test -p bprop-core
	$(MAKE) wheel
	$(PY) tools/test_wheel.py $(WHEELS)

test-dev: build
	$(PY) -m pytest

# cargo bench runs first so that the report reads its fresh results from target/criterion.
bench: build
	$(CARGO) bench -p bprop-core
	$(PY) benches/report.py --write

# The peers are for benchmarks only (never in the lock or the tests); the lock is passed as
# constraints so that installing them cannot move numpy or any other pinned package.
peers: $(DEPS)
	$(PY) -m pip install -c $(LOCK) -r benches/peers.txt

# Re-pin the Python tools: install requirements-dev.in into a scratch venv and freeze it.
lock:
	rm -rf .lock-venv
	$(PYTHON3) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q -U pip
	.lock-venv/bin/python -m pip install -q -r requirements-dev.in
	{ echo "# Pinned versions of requirements-dev.in and their dependencies, for reproducible test runs."; \
	  echo "# Generated by \`make lock\` (pip freeze of a fresh virtual environment): edit requirements-dev.in."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable; } > $(LOCK)
	rm -rf .lock-venv

# Build outputs and caches; `distclean` also removes the virtual environment.
clean:
	$(CARGO) clean
	rm -f python/bprop/_core*.so python/bprop/_core*.pyd
	rm -rf .pytest_cache .mypy_cache .hypothesis
	find . -name __pycache__ -type d -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

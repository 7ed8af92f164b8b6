# Two commands for a new user: `make demo` and `make test`. Needs only Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-quick test-slow test-floor lint docs clean

# The virtual environment is rebuilt whenever pyproject.toml changes. The pip that comes with
# Python 3.11 installs everything here; --no-compile leaves byte-compiling to first imports
# (a fresh .venv on 2 cores: 25.7 s with a pip upgrade and byte-compiling, 16.0 s without).
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) not found; run 'make PYTHON=python3 ...'"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-compile -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) experiments/demo.py --out out/demo --figure out/demo/demo.png

# Two pytest workers, one per core of the reference machine, each taking whole files (tests
# of one file share compiled programs); PYTEST_PARALLEL= runs serially.
PYTEST_PARALLEL ?= -n 2 --dist loadfile
test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_PARALLEL) --durations=15

# What a developer runs while editing: every test but the `integration` files (whole protocols,
# fits, sweeps, gallery scripts), which `make test` adds.
test-quick: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_PARALLEL) -m "not slow and not integration"

# The documentation site (mkdocs.yml, sources in docs/) into site/; --strict: a broken
# cross-reference, link, anchor or formula fails the build. Needs no network.
DOCS_STAMP := $(VENV)/.installed-docs
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --no-compile -e '.[docs]'
	@touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# The suite at the declared floors of pyproject.toml (constraints/floor.txt); not part of CI.
FLOOR := .venv-floor
test-floor:
	rm -rf $(FLOOR)
	$(PYTHON) -m venv $(FLOOR)
	$(FLOOR)/bin/python -m pip install --quiet --no-compile -c constraints/floor.txt -e '.[test]'
	$(FLOOR)/bin/python -m pip list 2>/dev/null | grep -iE '^(jax|jaxlib|diffrax|equinox|optax|lineax|optimistix|jaxtyping|numpy|matplotlib|tqdm|pytest|pytest-xdist|pandas) '
	$(FLOOR)/bin/python -m pytest -q $(PYTEST_PARALLEL)

lint: $(STAMP)
	$(VENV)/bin/ruff check jaxnc tests experiments

clean:
	rm -rf $(VENV) $(FLOOR) out site .pytest_cache

# Two commands on a fresh machine with Python 3.11:  make demo   and   make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast install install-test lint smoke clean

# What running needs (make demo); the test extras come with make test.
$(BIN)/tunenet: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(BIN)/tunenet

$(VENV)/.test-extras: $(BIN)/tunenet
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(VENV)/.test-extras

install: $(BIN)/tunenet

install-test: $(VENV)/.test-extras

demo: install
	$(BIN)/tunenet search configs/quickstart.yaml --overwrite
	$(BIN)/tunenet report runs/quickstart

# pytest-xdist processes: one per core of a 2-core machine (most tests use one core each).
# PYTEST_WORKERS=0 runs the tests in this one process.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal

# The whole suite; the example configs' smoke searches (scripts/smoke.py) are one of its tests
# (tests/test_smoke.py), run beside the others instead of before them.
test: install-test
	$(PYTEST)

# The inner loop: everything but the tests that train real models (e2e) or take seconds (slow).
test-fast: install-test
	$(PYTEST) -m "not e2e and not slow"

smoke: install
	$(BIN)/python scripts/smoke.py

lint: install-test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

clean:
	rm -rf $(VENV) runs/*/ .pytest_cache

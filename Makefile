# Two commands on a fresh machine with Python 3.11:  make demo   and   make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install lint smoke clean

$(BIN)/tunenet: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(BIN)/tunenet

install: $(BIN)/tunenet

demo: install
	$(BIN)/tunenet search configs/quickstart.yaml --overwrite
	$(BIN)/tunenet report runs/quickstart

# The example configs' smoke searches first, then the test suite (whose summary ends the output).
test: install
	$(BIN)/python scripts/smoke.py
	$(BIN)/python -m pytest -q

smoke: install
	$(BIN)/python scripts/smoke.py

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

clean:
	rm -rf $(VENV) runs/*/ .pytest_cache

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

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

clean:
	rm -rf $(VENV) runs/*/ .pytest_cache

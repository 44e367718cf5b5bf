# navbat — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint format install messages compile-messages bench acceptance clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "navbat needs $(PYTHON) (Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	NAVBAT_PUBLIC_URL=$${NAVBAT_PUBLIC_URL:-http://$(HOST):$(PORT)} $(BIN)/navbat run --host $(HOST) --port $(PORT)

# The whole suite, on every core (pytest-xdist; PYTEST_WORKERS=0 runs it in this process).
# Exit code 5 (no tests collected) is a failure, never a pass.
PYTEST_WORKERS ?= auto
# Bytecode and pytest's rewritten test modules are kept between runs even where the machine
# sets PYTHONDONTWRITEBYTECODE: without them every worker and every `navbat run` a test starts
# compiles the whole tree again (about half of collection's time).
PYTEST = env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist load
NO_TESTS = rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

test: $(STAMP)
	$(PYTEST) tests; $(NO_TESTS)

# The part a developer runs while working (about a minute on 2 cores): services, selectors,
# states, models and the bank's protocols — no pages through the test client, no browser, no
# processes started, no PostgreSQL-only tests, no fuzzing, no tests that commit.
# `make test` before pushing.
FAST = not slow and not browser and not postgres and not fuzz and not transactional and not pages
test-fast: $(STAMP)
	$(PYTEST) -m "$(FAST)" tests; $(NO_TESTS)

# The arrows of docs/ARCHITECTURE.md: imports (lint-imports, contracts in pyproject.toml),
# then templates and model relations (tools/check_arrows.py, the same contracts).
lint: $(STAMP)
	$(BIN)/ruff check navbat tests bench tools
	$(BIN)/ruff format --check navbat tests bench tools
	$(BIN)/lint-imports
	$(BIN)/python tools/check_arrows.py

format: $(STAMP)
	$(BIN)/ruff format navbat tests bench tools
	$(BIN)/ruff check --fix navbat tests bench tools

# Collect new strings into navbat/locale/*/django.po, then (after translating) compile them.
# The compiled .mo files are committed, so a fresh machine needs no gettext tools.
messages: $(STAMP)
	cd navbat && ../$(BIN)/navbat makemessages -l uz -l ru -l en --no-location --no-obsolete

compile-messages: $(STAMP)
	cd navbat && ../$(BIN)/navbat compilemessages

# navbat side by side with a bare Django app on PostgreSQL (BENCH_DATABASE_URL or
# NAVBAT_DATABASE_URL names the server); BENCH_SERVER changes the WSGI server of both apps,
# BENCH_ARGS passes options (e.g. --quick). Results: bench/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

acceptance: $(STAMP)
	$(BIN)/python bench/acceptance.py

clean:
	rm -rf $(VENV) var .pytest_cache

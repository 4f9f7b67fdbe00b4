# Patchbay: `make run` starts the app on this machine; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export LITELLM_LOCAL_MODEL_COST_MAP := True

# Tests use the scale-out parts for real: PostgreSQL and Redis (override as needed). When nothing
# answers there, `make test` starts embedded ones for the session (backend/config/embedded.py).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/patchbay
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
WITH_TEST_SERVICES = $(PY) -m backend.config.embedded --database $(TEST_DATABASE_URL) --redis $(TEST_REDIS_URL) --

.PHONY: run test test-fast install frontend lint bench clean fuzz

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

install: $(STAMP)

# The canvas (frontend/): installed from package-lock.json, built by Vite into frontend/dist (served by Django).
FRONTEND_DEPS := frontend/node_modules/.installed
FRONTEND_BUILD := frontend/dist/index.html
FRONTEND_SOURCES := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html frontend/vite.config.ts \
	frontend/tsconfig.json $(wildcard graphs/*.json)

$(FRONTEND_DEPS): frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20.19+ with npm is needed to build the canvas"; exit 1; }
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $(FRONTEND_DEPS)

$(FRONTEND_BUILD): $(FRONTEND_DEPS) $(FRONTEND_SOURCES)
	cd frontend && npm run build --silent

frontend: $(FRONTEND_BUILD)

# One process prepares everything (embedded PostgreSQL + Redis when DATABASE_URL / REDIS_URL are unset,
# migrate, first user, seed, static files) and then supervises the web server, worker and beat.
run: install frontend
	$(PY) manage.py serve

# pytest-xdist: two worker processes (most of a test's time is spent waiting on the live stack's processes, Redis,
# PostgreSQL and sleeps, not on this process's CPU); each worker has its own test database, Redis database, Celery
# queue and live stack (tests/settings.py), and --dist loadgroup keeps the process-heavy tests on one worker, one at
# a time (tests/conftest.py). The browser tests (marker `browser`) then run in one process, alone: beside the other
# worker's tests, a starved Chromium lost a click or a keystroke once in each of two whole-suite runs.
# `make test PYTEST_XDIST=` runs everything in one process; so does an embedded Redis (no Redis answered at
# TEST_REDIS_URL), whose unix-socket URL names no database: xdist workers need one each (tests/settings.py). Exit code 5 (no test collected by either) fails make.
PYTEST_XDIST ?= -n 2 --dist loadgroup
test: lint frontend
	cd frontend && npx vitest run
	$(WITH_TEST_SERVICES) bash -c 'xdist="$(PYTEST_XDIST)"; case "$$REDIS_URL" in unix://*) xdist="-p no:xdist";; esac; \
		$(PY) -m pytest -q $$xdist -m "not browser" --durations=25 $(PYTEST_ARGS); \
		rest=$$?; $(PY) -m pytest -q -p no:xdist -m browser --durations=5 $(PYTEST_ARGS); browser=$$?; \
		if [ $$rest = 5 ] && [ $$browser = 5 ]; then exit 5; fi; \
		for rc in $$rest $$browser; do [ $$rc = 0 ] || [ $$rc = 5 ] || exit $$rc; done'

# The property-based suites (tests/fuzz) with many more examples than `make test` runs (500 a target),
# fresh randomness each time: a nightly-style hunt. PATCHBAY_FUZZ_EXAMPLES sets the count per target.
PATCHBAY_FUZZ_EXAMPLES ?= 20000
fuzz: install
	PATCHBAY_FUZZ_PROFILE=nightly PATCHBAY_FUZZ_EXAMPLES=$(PATCHBAY_FUZZ_EXAMPLES) \
		$(WITH_TEST_SERVICES) $(PY) -m pytest -q -p no:logging tests/fuzz $(PYTEST_ARGS)

# mypy loads the settings (django-stubs' plugin): PATCHBAY_NO_EMBEDDED keeps it from starting embedded services.
lint: install
	$(VENV)/bin/ruff check backend tests bench
	PATCHBAY_NO_EMBEDDED=1 $(VENV)/bin/mypy

bench: install
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .patchbay .mypy_cache frontend/dist frontend/node_modules

# Patchbay: `make run` starts the app on this machine; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export LITELLM_LOCAL_MODEL_COST_MAP := True

# Tests use the scale-out parts for real: PostgreSQL and Redis (override as needed).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/patchbay
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test test-fast install frontend lint bench clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py ensure_first_user
	$(PY) manage.py seed
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py serve

test: install
	$(VENV)/bin/ruff check backend tests bench
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check backend tests bench

bench: install
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .patchbay

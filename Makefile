# OpenClaw — the two commands a new user runs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DEMO_PORT ?= 8000
EVENTS_PORT ?= 8765
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/openclaw
TEST_REDIS_URL ?= redis://127.0.0.1:6379/14

.PHONY: demo test lint bench venv venv-test services browser clean

$(VENV)/.base-installed: requirements/base.txt requirements/constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check -r requirements/base.txt -c requirements/constraints.txt
	@touch $@

$(VENV)/.test-installed: $(VENV)/.base-installed requirements/test.txt
	$(PIP) install -q --disable-pip-version-check -r requirements/test.txt -c requirements/constraints.txt
	@touch $@

venv: $(VENV)/.base-installed
venv-test: $(VENV)/.test-installed

## demo: the product on SQLite with in-process tasks, the fake `op` and a seeded organisation.
demo: venv
	@bash scripts/demo.sh $(DEMO_PORT) $(EVENTS_PORT)

services:
	@bash scripts/ensure-services.sh

browser:
	@bash scripts/ensure-browser.sh

lint: venv-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .

## test: lint, type-check and the whole suite against real PostgreSQL and Redis.
test: venv-test services browser lint
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) OPENCLAW_VAR_DIR=$(CURDIR)/var/test \
	  $(VENV)/bin/pytest -q

## bench: speed and memory benchmarks (never part of `make test`).
bench: venv-test services
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk >/dev/null 2>&1; } || echo "wrk is missing (apt-get install wrk): the load benchmark will be skipped"
	DATABASE_URL=$(TEST_DATABASE_URL) OPENCLAW_VAR_DIR=$(CURDIR)/var/bench HTTPS=0 $(PY) -m bench $(BENCH)

clean:
	rm -rf var staticfiles

# OpenClaw — the two commands a new user runs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DEMO_PORT ?= 8000
EVENTS_PORT ?= 8765
# One test database per checkout (pytest-django adds `test_`), so two checkouts testing on one
# server never drop each other's database; Redis databases are leased per run (tests/redis_slot.py).
CHECKOUT_ID := $(shell printf '%s' "$(CURDIR)" | sha1sum | cut -c1-8)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/openclaw_$(CHECKOUT_ID)
TEST_REDIS_URL ?= redis://127.0.0.1:6379
export TEST_DATABASE_URL TEST_REDIS_URL

.PHONY: demo test test-samples audit lock lint bench venv venv-test services browser clean

# The stamp is written last, only when the install finished and every product module imports:
# a failed or interrupted install (or a half-made venv) is simply done again by the next run.
# base.lock is base.txt resolved with every package's sha256 (scripts/lock-requirements.sh): a file
# that differs from the one locked is refused, not installed.
$(VENV)/.base-installed: requirements/base.lock
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found): apt-get install python3.11 python3.11-venv"; exit 1; }
	@rm -f $@
	@$(PY) -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); } \
	  || { echo "Could not create $(VENV): apt-get install python3.11-venv"; exit 1; }
	$(PIP) install -q --disable-pip-version-check --require-hashes --no-deps -r requirements/base.lock
	@$(PY) -W ignore scripts/import_product.py >/dev/null
	@touch $@

$(VENV)/.test-installed: $(VENV)/.base-installed requirements/test.txt requirements/audit.txt requirements/constraints.txt
	@rm -f $@
	$(PIP) install -q --disable-pip-version-check -r requirements/test.txt -c requirements/constraints.txt
	@touch $@

venv: $(VENV)/.base-installed
venv-test: $(VENV)/.test-installed

## demo: the product on SQLite with in-process tasks, the fake `op` and a seeded organisation.
demo: venv
	@PY=$(PY) bash scripts/demo.sh $(DEMO_PORT) $(EVENTS_PORT)

services: venv
	@PY=$(PY) bash scripts/ensure-services.sh

browser:
	@bash scripts/ensure-browser.sh

lint: venv-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .

## test: lint, type-check and the whole suite against real PostgreSQL and Redis.
# Two test processes (pytest-xdist, whole files to each: module fixtures stay shared): the suite
# waits on PostgreSQL, fake `op` subprocesses and Chromium as much as it computes, so on this
# 2-core machine two processes ran it in 31 min where one took 62 (17 min once sync reads were
# batched). Each worker gets its own test
# database (pytest-django adds gw0/gw1), Redis pair (tests/redis_slot.py) and var directory
# (tests/xdist_worker.py, loaded before Django's settings). TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: venv-test services browser lint
	PYTHONPATH=$(CURDIR) DATABASE_URL=$(TEST_DATABASE_URL) OPENCLAW_VAR_DIR=$(CURDIR)/var/test \
	  $(VENV)/bin/pytest -q -rs --durations=25 -p tests.xdist_worker -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

## test-samples: the parsers and the fake `op` against the real `op` outputs in SAMPLES_DIR
## (CI runs it beside ../shared; a missing sample fails here instead of skipping).
SAMPLES_DIR ?= $(CURDIR)/../shared/op-samples
test-samples: venv-test services
	DATABASE_URL=$(TEST_DATABASE_URL) OPENCLAW_VAR_DIR=$(CURDIR)/var/test OP_SAMPLES_DIR=$(SAMPLES_DIR) OP_SAMPLES_REQUIRED=1 \
	  $(VENV)/bin/pytest -q -rs tests/vaults/op tests/vaults/fake_op

## audit: known vulnerabilities in the locked base requirements (AUDIT_STRICT=1: fail when no
## vulnerability service answers); lock: regenerate requirements/base.lock after editing base.txt.
audit: venv-test
	@PYTHON=$(PY) bash scripts/audit-dependencies.sh

lock: venv-test
	@PIP_COMPILE=$(abspath $(VENV))/bin/pip-compile bash scripts/lock-requirements.sh

## bench: speed and memory benchmarks (never part of `make test`).
bench: venv-test services
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk >/dev/null 2>&1; } || echo "wrk is missing (apt-get install wrk): the load benchmark will be skipped"
	DATABASE_URL=$(TEST_DATABASE_URL) OPENCLAW_VAR_DIR=$(CURDIR)/var/bench HTTPS=0 $(PY) -m bench $(BENCH)

clean:
	rm -rf var staticfiles

# Two commands on a fresh machine: `make run` and `make test`. Both create .venv themselves.
# DATABASE_URL=postgres://... switches any target to PostgreSQL.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=


.PHONY: run test install migrate demo lint check bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Local runs are development runs unless told otherwise.
run demo migrate: export DJANGO_DEBUG ?= true
# Tests run with production settings (DEBUG off), so they need some secret key.
test lint: export DJANGO_SECRET_KEY ?= test-only-not-a-secret

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

# The web server and one job worker (manage.py db_worker) together: one Ctrl-C stops both
# (the trap also ends the worker when runserver exits on its own).
run: demo
	@echo "Serving on http://$(HOST):$(PORT)/  (API: /api/v1/, docs: /api/docs/, admin: /admin/)"
	@echo "Job worker: manage.py db_worker (logs below, prefixed by Django's)"
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py db_worker --interval 0.5 & worker=$$!; \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	PYTHONPATH=. $(PY) -m mypy
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	PYTHONPATH=. $(PY) -m mypy

clean:
	rm -rf $(VENV) var/*.sqlite3* .pytest_cache

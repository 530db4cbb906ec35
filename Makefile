# Safeground: every entry point the README and .ci/run use.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
WITH_DB := source .dev-db.env &&

.PHONY: help install db migrate run test test-fast lint fmt bench bench-import bench-priorities bench-tiles bench-load bench-history bench-paging clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml scripts/bootstrap.sh
	scripts/bootstrap.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

WEB_STAMP := web/node_modules/.installed
$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

install: $(STAMP) $(WEB_STAMP)  ## create .venv and install the package and the web map's npm packages, all pinned

db: install  ## provision PostGIS (local when DATABASE_URL is unset) and write .dev-db.env
	scripts/dev-db.sh

migrate: db  ## apply the Alembic migrations
	$(WITH_DB) $(BIN)/safeground db upgrade

run: migrate  ## install, provision, migrate, load demo data into an empty DB, serve on HOST:PORT with an import worker
	$(WITH_DB) $(BIN)/safeground demo load --if-empty
	$(WITH_DB) { $(BIN)/safeground worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/safeground serve --host $(HOST) --port $(PORT); }

# one pytest worker per core (at most four), each on its own throwaway database; a module's
# tests stay on one worker, so its module-scoped servers start once
PARALLEL := -n auto --maxprocesses 4 --dist loadfile

test: db lint  ## lint, then the whole suite against throwaway PostGIS databases, one worker per core
	$(WITH_DB) $(BIN)/pytest $(PARALLEL)

test-fast: db lint  ## the same, without the tests marked slow (fuzz, browser, property, migration)
	$(WITH_DB) $(BIN)/pytest $(PARALLEL) -m "not slow"

lint: install  ## ruff lint, format check and mypy (api/, as [tool.mypy] in pyproject.toml says)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check api tests scripts migrations
	$(BIN)/mypy

fmt: install  ## format the code
	$(BIN)/ruff format api tests scripts migrations
	$(BIN)/ruff check --fix .

bench: db  ## benchmarks (scripts/bench/); never part of `make test`
	$(WITH_DB) $(BIN)/python scripts/bench/land_release.py
	$(WITH_DB) $(BIN)/python scripts/bench/import.py
	$(WITH_DB) $(BIN)/python scripts/bench/priorities.py
	$(WITH_DB) $(BIN)/python scripts/bench/tiles.py
	$(WITH_DB) $(BIN)/python scripts/bench/history.py
	$(WITH_DB) $(BIN)/python scripts/bench/paging.py

bench-priorities: db  ## only the prioritisation benchmark (scripts/bench/priorities.py)
	$(WITH_DB) $(BIN)/python scripts/bench/priorities.py

bench-history: db  ## only the burn-down / as-of benchmark with legacy rows (scripts/bench/history.py)
	$(WITH_DB) $(BIN)/python scripts/bench/history.py

bench-paging: db  ## only the paging benchmark: page 1 and 500 of 50,000 hazards, offset and cursor (scripts/bench/paging.py)
	$(WITH_DB) $(BIN)/python scripts/bench/paging.py

bench-import: db  ## only the import / OGC benchmark (scripts/bench/import.py)
	$(WITH_DB) $(BIN)/python scripts/bench/import.py

bench-tiles: db  ## only the vector-tile benchmark against tipg (scripts/bench/tiles.py)
	$(WITH_DB) $(BIN)/python scripts/bench/tiles.py

BENCH_ANON_RATE ?= 0
bench-load: db  ## load test, 200 clients, on a demo server (scripts/bench/load.py; BENCH_ANON_RATE=0: limit off)
	$(WITH_DB) $(BIN)/python scripts/bench/load.py --serve --server-rate $(BENCH_ANON_RATE) $(BENCH_ARGS)

clean:  ## remove the virtualenv and caches (the database is left alone)
	rm -rf $(VENV) .pytest_cache .ruff_cache .dev-db.env

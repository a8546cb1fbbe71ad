# `make run` serves the API on SQLite; `make test` runs the whole suite, on
# SQLite and, when TEST_DATABASE_URL names a PostgreSQL server, on PostgreSQL
# too; `make test-fast` only its unit and api tiers, on SQLite
# (docs/test-tiers.md); `make check` runs the formatter's check, the linter,
# the type checker and the import-layer contract. They create .venv and
# install into it what they need, when needed, from the lock files in
# requirements/ (exact versions, with hashes): `make run` only what serving
# needs, the test targets and `make check` the test and check tools besides.
# `make lock` refreshes the locks from pyproject.toml (docs/development.md).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per install set, all in the one .venv. A larger set touches the
# stamps of those it includes, so `make run` after `make test` installs
# nothing, and `make test` after `make run` adds what the tests need.
RUN_STAMP := $(VENV)/.installed-runtime
BENCH_STAMP := $(VENV)/.installed-bench
STAMP := $(VENV)/.installed
PIP_INSTALL := $(BIN)/python -m pip install --quiet
# One lock per install set, each a subset of the test lock at the same versions.
RUN_LOCK := requirements/runtime.txt
BENCH_LOCK := requirements/bench.txt
TEST_LOCK := requirements/test.txt

.PHONY: run test test-fast bench bench-instructions bench-monitoring schema rules clean test-deps system-tools graphiql-mirror serve-graphiql-mirror check format lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip

# Each set: its lock, hashes required, then the project itself without
# dependencies (the lock has them all); pip check fails when pyproject.toml
# asks for something the lock lacks (run `make lock`).
# What serving needs: pyproject's dependencies, no extras.
$(RUN_STAMP): pyproject.toml $(RUN_LOCK) | $(BIN)/python
	@echo "installing what serving needs into $(VENV)"
	$(PIP_INSTALL) --require-hashes -r $(RUN_LOCK)
	$(PIP_INSTALL) --no-deps -e .
	$(BIN)/python -m pip check
	touch $@

# The benchmark's chart (matplotlib).
$(BENCH_STAMP): pyproject.toml $(BENCH_LOCK) | $(BIN)/python
	$(PIP_INSTALL) --require-hashes -r $(BENCH_LOCK)
	$(PIP_INSTALL) --no-deps -e .
	$(BIN)/python -m pip check
	touch $@ $(RUN_STAMP)

# Everything the suite drives from Python (it runs the benchmark too), and
# the tools of `make check`.
$(STAMP): pyproject.toml $(TEST_LOCK) | $(BIN)/python
	$(PIP_INSTALL) --require-hashes -r $(TEST_LOCK)
	$(PIP_INSTALL) --no-deps -e .
	$(BIN)/python -m pip check
	touch $@ $(BENCH_STAMP) $(RUN_STAMP)

# The locks, from pyproject.toml: the test lock first, then the smaller sets
# constrained to its versions, so that a venv that grows from one set to a
# larger one never changes a version. For every platform (--universal), from
# Python 3.11 on. uv keeps the pins already in the locks and resolves only
# what pyproject.toml's changes need; `make lock UV_ARGS=--upgrade` moves
# every pin to the newest release pyproject.toml allows,
# `make lock UV_ARGS="--upgrade-package NAME"` one package.
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --universal --python-version 3.11 $(UV_ARGS)
lock: $(STAMP)
	$(UV_COMPILE) --extra test --extra bench --extra dev -o $(TEST_LOCK)
	$(UV_COMPILE) -c $(TEST_LOCK) -o $(RUN_LOCK)
	$(UV_COMPILE) --extra bench -c $(TEST_LOCK) -o $(BENCH_LOCK)

# The checks CI runs first (docs/development.md): formatting, lint, types and
# the import layers models <- resolvers <- schema <- switchboard.
check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo --no-cache

# Rewrites the tree as the first two steps of `make check` want it.
format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make run PORT=8123 HOST=0.0.0.0`; SWITCHBOARD_PORT and SWITCHBOARD_HOST
# work too. Only values given on make's command line count: an unrelated
# PORT or HOST in the environment (some shells and platforms set them) does not.
SERVE_ARGS := $(strip $(if $(filter command line,$(origin HOST)),--host '$(HOST)') $(if $(filter command line,$(origin PORT)),--port '$(PORT)'))

run: $(RUN_STAMP)
	$(BIN)/switchboard serve $(SERVE_ARGS)

# Hypothesis' profile (tests/conftest.py): `make test` and CI try 1,000
# examples per property, `make test-fast` 100; HYPOTHESIS_PROFILE=ci or =dev
# in the environment overrides either.
DATABASES_NOTE = if [ -z "$$TEST_DATABASE_URL" ]; then \
	  echo "TEST_DATABASE_URL is not set: testing on SQLite only, PostgreSQL tests are skipped"; \
	  echo "(e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test make test)"; \
	else echo "TEST_DATABASE_URL is set: testing on SQLite and on PostgreSQL"; fi

# Every tier: unit, api and system (real processes, Kamailio, the browser,
# the clients, the audits, the benchmark's smoke run). What CI runs. Every
# operation an in-process test runs compiled is answered by graphql-core's
# executor too and the two answers compared (SWITCHBOARD_TEST_DIFFERENTIAL,
# tests/support/differential.py; =0 turns it off).
test: $(STAMP) test-deps
	@$(DATABASES_NOTE)
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} SWITCHBOARD_TEST_DIFFERENTIAL=$${SWITCHBOARD_TEST_DIFFERENTIAL:-1} $(BIN)/python -m pytest

# The unit and api tiers on SQLite: no server process, nothing from
# test-deps, about two minutes on two quiet cores (docs/test-tiers.md).
# PostgreSQL costs two and a half to four times SQLite per test, so it is
# left to `make test` and CI unless asked for: `make test-fast POSTGRES=1`
# keeps TEST_DATABASE_URL. PYTEST_ARGS adds options, e.g. PYTEST_ARGS="-x -k cursor".
test-fast: $(STAMP)
	@if [ -n "$(POSTGRES)" ]; then $(DATABASES_NOTE); else echo "testing on SQLite only (make test-fast POSTGRES=1 for PostgreSQL too)"; fi
	$(if $(POSTGRES),,TEST_DATABASE_URL= )HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-dev} $(BIN)/python -m pytest tests/unit tests/api $(PYTEST_ARGS)

# The benchmark: `make bench`, or `make bench BENCH_ARGS="--postgres postgres://postgres@127.0.0.1:5432/test"`.
# It needs wrk and taskset (apt-get install -y wrk) and two cores. Then what
# monitoring costs creates (bench-monitoring below), when Kamailio and the
# PostgreSQL server at BENCH_POSTGRES are there; it says so and goes on when not.
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.monitoring --unless-unavailable --postgres '$(BENCH_POSTGRES)'

# Instructions per request under valgrind's callgrind, figures that hold still
# between commits: `make bench-instructions`, BENCH_ARGS as above (--requests,
# --rounds, --postgres URL). It needs valgrind and a C compiler (apt-get install -y valgrind gcc).
bench/.build/callgrind.so: bench/callgrind.c
	mkdir -p $(@D)
	$(CC) -O2 -shared -fPIC -o $@ $<

bench-instructions: $(BENCH_STAMP) bench/.build/callgrind.so
	$(BIN)/python -m bench.instructions $(BENCH_ARGS)

# What monitoring costs the API's creates (1,000 numbers, 2 workers, 10 s
# interval, PostgreSQL, against a local Kamailio), and one check's latency:
# `make bench-monitoring BENCH_POSTGRES=postgres://user@host:5432/db`. It
# needs wrk, taskset and Kamailio (`make system-tools`) and two cores.
BENCH_POSTGRES ?= postgres://postgres@127.0.0.1:5432/postgres

bench-monitoring: $(BENCH_STAMP)
	$(BIN)/python -m bench.monitoring --postgres '$(BENCH_POSTGRES)' $(BENCH_ARGS)

schema: $(RUN_STAMP)
	$(BIN)/switchboard export-schema > schema.graphql

# docs/rules.md, from the provider specs (resolvers/providers.py).
rules: $(RUN_STAMP)
	$(BIN)/switchboard export-rules > docs/rules.md

clean:
	rm -rf $(VENV) data .pytest_cache

# What the system tests drive besides Python, installed here and never by a
# test (a test only checks it is there, and names this target when not):
# Debian's packages below, with apt-get and only when missing (Kamailio is the
# SIP registrar the provider checks are tested against; redis-server runs a
# Redis a test can stop); Node.js 20 or
# newer; each npm project's packages, `npm ci` whenever its package-lock.json
# changed; the Python client's own venv (clients/python/requirements.txt).
# .ci/run runs it before the suite.
DEBIAN_PACKAGES := chromium wrk kamailio kamailio-tls-modules redis-server
NPM_PROJECTS := tests/graphiql-cdn tests/graphql_http_audit clients/typescript
INSTALLED_FROM := .switchboard-installed-from
CLIENT_VENV := clients/python/.venv

test-deps: system-tools $(NPM_PROJECTS:%=%/node_modules/$(INSTALLED_FROM)) $(CLIENT_VENV)/$(INSTALLED_FROM)

system-tools:
	@missing=""; for package in $(DEBIAN_PACKAGES); do dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then echo "missing:$$missing; as root: apt-get install -y$$missing" >&2; exit 1; fi; \
	  echo "installing$$missing with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing; \
	fi
	@command -v npm >/dev/null && node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' \
	  || { echo "Node.js 20 or newer with npm is needed: https://nodejs.org/en/download" >&2; exit 1; }

# The stamp holds the digest of the lock installed from; tests compare it.
%/node_modules/$(INSTALLED_FROM): %/package-lock.json %/package.json
	cd $* && npm ci --no-audit --no-fund
	sha256sum $*/package-lock.json | cut -d' ' -f1 > $@

$(CLIENT_VENV)/$(INSTALLED_FROM): clients/python/requirements.txt
	$(PYTHON) -m venv --clear $(CLIENT_VENV)
	$(CLIENT_VENV)/bin/python -m pip install --quiet -r $<
	sha256sum $< | cut -d' ' -f1 > $@

# A mirror of the GraphiQL page's CDN files for browsers that cannot reach
# the CDN (docs/graphiql-offline.md): the pinned npm packages' files laid out
# as a CDN does, checked against the page's hashes; then serve it with the
# CORS header, or copy it to a web server that sends it.
GRAPHIQL_MIRROR ?= graphiql-mirror
GRAPHIQL_MIRROR_HOST ?= 127.0.0.1
GRAPHIQL_MIRROR_PORT ?= 8081

graphiql-mirror: $(RUN_STAMP) tests/graphiql-cdn/node_modules/$(INSTALLED_FROM)
	$(BIN)/python -m switchboard.http.graphiql_mirror build --packages tests/graphiql-cdn/node_modules $(GRAPHIQL_MIRROR)

serve-graphiql-mirror: graphiql-mirror
	$(BIN)/python -m switchboard.http.graphiql_mirror serve --host $(GRAPHIQL_MIRROR_HOST) --port $(GRAPHIQL_MIRROR_PORT) $(GRAPHIQL_MIRROR)

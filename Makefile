# `make run` serves the API on SQLite; `make test` runs the whole suite, on
# SQLite and, when TEST_DATABASE_URL names a PostgreSQL server, on PostgreSQL
# too. Both create .venv and install the project into it when needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench schema clean system-packages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/switchboard serve

test: $(STAMP)
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
	  echo "TEST_DATABASE_URL is not set: testing on SQLite only, PostgreSQL tests are skipped"; \
	  echo "(e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test make test)"; \
	else echo "TEST_DATABASE_URL is set: testing on SQLite and on PostgreSQL"; fi
	$(BIN)/python -m pytest

# The benchmark: `make bench`, or `make bench BENCH_ARGS="--postgres postgres://postgres@127.0.0.1:5432/test"`.
# It needs wrk and taskset (apt-get install -y wrk) and two cores.
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Debian packages the tests run against: Kamailio, a real SIP registrar, and its
# TLS module. Needs root; .ci/run calls it. Does nothing when they are installed.
system-packages:
	@if dpkg -s kamailio kamailio-tls-modules >/dev/null 2>&1; then \
	  echo "kamailio and kamailio-tls-modules are installed"; \
	else \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q kamailio kamailio-tls-modules; \
	fi

schema: $(STAMP)
	$(BIN)/switchboard export-schema > schema.graphql

clean:
	rm -rf $(VENV) data .pytest_cache

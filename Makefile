# `make run` serves the API on SQLite; `make test` runs the whole suite, on
# SQLite and, when TEST_DATABASE_URL names a PostgreSQL server, on PostgreSQL
# too. Both create .venv and install the project into it when needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench schema clean

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

schema: $(STAMP)
	$(BIN)/switchboard export-schema > schema.graphql

clean:
	rm -rf $(VENV) data .pytest_cache

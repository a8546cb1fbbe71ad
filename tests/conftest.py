"""Fixtures for every tier: a migrated database per test, on SQLite and PostgreSQL; the ASGI app over HTTP; API keys;
real servers; the session's secret sweep; Hypothesis' profiles.

Every test that asks for `settings` (or for `app` and `api`, which build on
it) runs once per backend. PostgreSQL runs need TEST_DATABASE_URL, a server
where the tests may create databases; without it they are skipped, saying so.

Only fixtures and hooks live here: what a test imports is in tests/support/.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import settings as hypothesis_settings

from resolvers.api_keys import issue_key
from resolvers.verification.checks import RECENT_CHALLENGES
from switchboard.settings import Settings
from tests.support.app import Api, api_client, running_app
from tests.support.cursors import Lists, make_lists
from tests.support.database import (
    BACKENDS,
    ENCRYPTION_KEY,
    MIGRATIONS_TABLE,
    TEST_DATABASE_URL,
    execute,
    migrate,
    postgres_url,
    run_sync,
)
from tests.support.differential import ENVIRONMENT_SWITCH, SESSION, Differential, comparing
from tests.support.redis_counters import Counters
from tests.support.secret_sweep import SWEEP, SecretSweep, SweepHandler
from tests.support.servers import Servers

# Hypothesis' examples per property: "dev" (the default, `make test-fast`) for
# a quick answer, "ci" (`make test`, .ci/run) for the thorough one.
# Derandomized, so a run tries the same examples every time; no example
# database, so nothing is written beside the tests.
for name, examples in (("dev", 100), ("ci", 1000)):
    hypothesis_settings.register_profile(name, max_examples=examples, derandomize=True, deadline=None, database=None)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or "dev"
hypothesis_settings.load_profile(HYPOTHESIS_PROFILE)


@pytest.fixture(scope="session", autouse=True)
def secret_sweep() -> Iterator[SecretSweep]:
    """Watches every log record of the run; at its end, no secret a test sent may be anywhere."""
    root = logging.getLogger()
    handler, level = SweepHandler(SWEEP), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # what production logs
    yield SWEEP
    assert handler in root.handlers, "something removed the sweep's log handler"
    root.removeHandler(handler)
    root.setLevel(level)
    leaks = SWEEP.leaks()
    assert leaks == [], "secrets leaked:\n" + "\n".join(leaks)


@pytest.fixture(autouse=True)
def forget_registrars_challenges() -> None:
    """Each test's checks start without challenges kept from another test's registrar.

    They are kept per address and port (resolvers/verification/challenges.py),
    and a registrar a test starts may get a port an earlier test's had.
    """
    RECENT_CHALLENGES.clear()


@pytest.fixture(autouse=os.environ.get(ENVIRONMENT_SWITCH) == "1")
def differential(request: pytest.FixtureRequest) -> Iterator[Differential]:
    """Compiled execution checked against graphql-core's: each compiled operation's answer beside its answer.

    Asked for by tests of the compiled path; every test when SWITCHBOARD_TEST_DIFFERENTIAL=1, but those
    marked `counts_statements` (a query run twice runs its statements twice).
    """
    if request.node.get_closest_marker("counts_statements"):
        yield Differential()
        return
    with comparing() as checked:
        yield checked


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "counts_statements: counts one request's SQL statements, so SWITCHBOARD_TEST_DIFFERENTIAL skips it"
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"hypothesis profile: {HYPOTHESIS_PROFILE} ({hypothesis_settings().max_examples} examples)"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(SWEEP.summary())
    if SESSION["compared"]:
        terminalreporter.write_line(
            f"differential: {SESSION['compared']} compiled answers compared with graphql-core's"
        )


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated once by the real `switchboard migrate`, copied per test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate(f"sqlite://{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of this run's own, migrated once by the real `switchboard migrate`, dropped at the end.

    Its random name keeps concurrent runs on one server apart; it is dropped
    whatever the tests did, connections still open to it included.
    """
    if not TEST_DATABASE_URL:
        pytest.skip("PostgreSQL: TEST_DATABASE_URL is not set, so tests on PostgreSQL are skipped")
    name = f"switchboard_test_{uuid.uuid4().hex[:12]}"
    run_sync(execute(TEST_DATABASE_URL, f'CREATE DATABASE "{name}"'))
    try:
        url = postgres_url(name)
        migrate(url)
        yield url
    finally:
        run_sync(execute(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Empties every table but the migrations' record, whatever tables later
# migrations add, in one round trip. DELETE, not TRUNCATE: on tables this
# small it is several times quicker (TRUNCATE swaps every table's files), and
# PostgreSQL runs half the api tier. A table another still refers to is
# emptied on a later pass.
EMPTY_APP_TABLES = f"""
DO $$
DECLARE
  pending text[] := ARRAY(
    SELECT format('%I', tablename) FROM pg_tables
    WHERE schemaname = current_schema() AND tablename <> '{MIGRATIONS_TABLE}'
  );
  remaining text[];
  name text;
BEGIN
  WHILE cardinality(pending) > 0 LOOP
    remaining := '{{}}';
    FOREACH name IN ARRAY pending LOOP
      BEGIN
        EXECUTE 'DELETE FROM ' || name;
      EXCEPTION WHEN foreign_key_violation THEN
        remaining := remaining || name;
      END;
    END LOOP;
    IF cardinality(remaining) = cardinality(pending) THEN
      RAISE EXCEPTION 'cannot empty %: their rows refer to each other', remaining;
    END IF;
    pending := remaining;
  END LOOP;
END $$
"""


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A migrated, empty database: a copied SQLite file, or the run's PostgreSQL database emptied."""
    if request.param == "sqlite":
        database = tmp_path / "switchboard.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), database)
        database_url = f"sqlite://{database}"
    else:
        database_url = request.getfixturevalue("postgres_database")
        run_sync(execute(database_url, EMPTY_APP_TABLES))
    # No monitoring unless a test asks: it would check every number a test makes, in the background.
    return Settings(database_url=database_url, data_dir=tmp_path, encryption_keys=(ENCRYPTION_KEY,), health_interval=0)


@pytest.fixture
def unmigrated_database_url(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """An empty database on the same backend as `settings`, no migration applied."""
    if settings.is_sqlite:
        yield f"sqlite://{tmp_path / 'unmigrated.sqlite3'}"
        return
    schema = f"unmigrated_{uuid.uuid4().hex[:12]}"
    run_sync(execute(settings.database_url, f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{settings.database_url}?schema={schema}"
    finally:
        run_sync(execute(settings.database_url, f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    """Starts real `switchboard serve` processes; whatever a test leaves running is killed."""
    started = Servers(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
        for server in started.started:
            SWEEP.add_text("server log", str(server.log_path), server.log())


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
async def api(app: Any) -> AsyncIterator[Api]:
    async with api_client(app) as client:
        yield client


@pytest.fixture
async def other_key(app: Any) -> str:
    """A key of a second organization."""
    key = (await issue_key("Globex")).key
    SWEEP.add_secret(key)
    return key


TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()


# --- Redis, for the shared rate limit -------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The machine's Redis; outside CI, tests needing it are skipped when TEST_REDIS_URL is unset, never when it fails."""
    if not TEST_REDIS_URL:
        pytest.skip(
            "Redis: TEST_REDIS_URL is not set (e.g. TEST_REDIS_URL=redis://127.0.0.1:6379/0), so tests of shared rate limits are skipped"
        )
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"TEST_REDIS_URL is set but Redis does not answer ({type(error).__name__})")
    finally:
        client.close()
    return TEST_REDIS_URL


@pytest.fixture
def counters(redis_url: str) -> Iterator[Counters]:
    made = Counters(redis_url)
    yield made
    made.delete()


# --- cursors --------------------------------------------------------------------------------------------


@pytest.fixture
async def lists(api: Api) -> Lists:
    return await make_lists(api)

"""Fixtures: a migrated database per test, on SQLite and PostgreSQL; the ASGI app over HTTP; API keys.

Every test that asks for `settings` (or for `app` and `api`, which build on
it) runs once per backend. PostgreSQL runs need TEST_DATABASE_URL, a server
where the tests may create databases; without it they are skipped, saying so.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from tortoise import connections
from tortoise.backends.base.executor import EXECUTOR_CACHE

from models.secrets import generate_key
from resolvers.api_keys import issue_key
from switchboard.app import create_app
from switchboard.settings import MAX_RATE_LIMIT_BURST, Settings
from tests.secret_sweep import SecretSweep, SweepHandler
from tests.servers import REPO as REPO  # tests import it from here
from tests.servers import Servers, switchboard

ENCRYPTION_KEY = generate_key()
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
BACKENDS = ("sqlite", "postgres")
MIGRATIONS_TABLE = "tortoise_migrations"

T = TypeVar("T")

# One for the whole run: see tests/secret_sweep.py.
SWEEP = SecretSweep()
APP_TABLES = (
    "organizations",
    "api_keys",
    "agents",
    "phone_numbers",
    "idempotency_keys",
    "audit_events",
    "phone_number_health",
    "phone_number_health_events",
)
# How SecretBox seals a value: version, key id, base64url of nonce and ciphertext.
SEALED_TOKEN = re.compile(r"v1:[0-9a-f]{8}:[A-Za-z0-9_-]{16,}")


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


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(SWEEP.summary())


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running event loop."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as error:  # handed to the caller below
            failure.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def migrate(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "SWITCHBOARD_ENCRYPTION_KEYS": ENCRYPTION_KEY}
    result = switchboard("migrate", env=env)
    assert result.returncode == 0, result.stderr


def postgres_url(database: str, **query: str) -> str:
    """TEST_DATABASE_URL's server, with another database (and options such as `schema`)."""
    parts = urlsplit(TEST_DATABASE_URL)
    return parts._replace(path=f"/{database}", query="&".join(f"{k}={v}" for k, v in query.items())).geturl()


async def execute(database_url: str, *statements: str) -> None:
    connection = await asyncpg.connect(urlsplit(database_url)._replace(query="").geturl())
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


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
# migrations add, in one round trip.
TRUNCATE_APP_TABLES = f"""
DO $$ BEGIN
  EXECUTE (
    SELECT 'TRUNCATE ' || string_agg(format('%I', tablename), ', ') || ' CASCADE'
    FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '{MIGRATIONS_TABLE}'
  );
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
        run_sync(execute(database_url, TRUNCATE_APP_TABLES))
    # No monitoring unless a test asks: it would check every number a test makes, in the background.
    return Settings(database_url=database_url, data_dir=tmp_path, encryption_keys=(ENCRYPTION_KEY,), health_interval=0)


def unthrottled(settings: Settings) -> Settings:
    """For tests that send thousands of requests in seconds: the key's rate limit is lifted; requests are still charged."""
    return dataclasses.replace(settings, rate_limit=float(MAX_RATE_LIMIT_BURST), rate_limit_burst=MAX_RATE_LIMIT_BURST)


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


class Api:
    """An HTTP client for the app, speaking GraphQL with a chosen key."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.key: str | None = None

    async def post(self, query: str, variables: dict[str, Any] | None = None, *, key: str | None = None) -> httpx.Response:
        token = key or self.key
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *, key: str | None = None) -> dict[str, Any]:
        """Run an operation expected to succeed at the GraphQL level; return `data`."""
        response = await self.post(query, variables, key=key)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[Any]:
    """The app of these settings, started; one at a time, as Tortoise has one default connection."""
    # Tortoise keeps each table's INSERT and DELETE statements for the life
    # of the process, keyed by connection name but not by dialect; tests
    # switch between SQLite and PostgreSQL under the same name.
    EXECUTOR_CACHE.clear()
    application = create_app(settings)
    async with LifespanManager(application) as manager:
        yield manager.app
        # Whatever the test stored: secrets are only ever there encrypted.
        for table in APP_TABLES:
            SWEEP.add_text("stored table", f"{table} ({settings.database})", repr(await stored_rows(table)))
        # The sweep finds values the tests sent; the audit log must not hold their ciphertexts either.
        sealed = SEALED_TOKEN.findall(repr(await stored_rows("audit_events")))
        assert sealed == [], f"sealed secrets in the audit log: {sealed}"


@asynccontextmanager
async def api_client(app: Any) -> AsyncIterator[Api]:
    """An Api over the app, with a key of a new organization, Acme."""
    transport = httpx.ASGITransport(app=app)
    hooks = {"request": [SWEEP.on_request], "response": [SWEEP.on_response]}
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test", event_hooks=hooks) as client:
        api = Api(client)
        api.key = (await issue_key("Acme")).key
        SWEEP.add_secret(api.key)
        yield api


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


async def stored_rows(table: str) -> list[dict[str, Any]]:
    """Rows exactly as the database holds them, bypassing the models."""
    return await connections.get("default").execute_query_dict(f"SELECT * FROM {table}")

"""The test databases: the run's encryption key, migrating, SQL beside the app, running a coroutine from sync code.

conftest.py's `settings` fixture gives each test a migrated, empty database on
SQLite and on PostgreSQL (TEST_DATABASE_URL's server); these are its parts.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import Counter
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
from tortoise import connections

from models.secrets import generate_key
from tests.support.servers import switchboard

# One for the whole run: every database of the run is sealed with it.
ENCRYPTION_KEY = generate_key()
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
BACKENDS = ("sqlite", "postgres")
MIGRATIONS_TABLE = "tortoise_migrations"
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

T = TypeVar("T")


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


async def stored_rows(table: str) -> list[dict[str, Any]]:
    """Rows exactly as the database holds them, bypassing the models."""
    return await connections.get("default").execute_query_dict(f"SELECT * FROM {table}")


async def organization_counts() -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Each organization's (numbers, agents): as its row counts them, and as the tables hold them."""
    organizations = await stored_rows("organizations")
    counted = {str(o["id"]): (o["phone_number_count"], o["agent_count"]) for o in organizations}
    numbers = Counter(str(row["organization_id"]) for row in await stored_rows("phone_numbers"))
    agents = Counter(str(row["organization_id"]) for row in await stored_rows("agents"))
    return counted, {id: (numbers[id], agents[id]) for id in counted}

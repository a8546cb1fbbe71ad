"""Tortoise ORM configuration shared by the server, the CLI and `tortoise` itself."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from tortoise import connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.loader import MigrationLoader
from tortoise.migrations.recorder import MigrationRecorder

from switchboard.settings import Settings

# Writers wait this long for a SQLite lock instead of failing with
# "database is locked" when another connection holds it.
SQLITE_BUSY_TIMEOUT_MS = 5000

APPS: dict[str, dict[str, Any]] = {
    "models": {
        "models": ["models"],
        "migrations": "models.migrations",
        "default_connection": "default",
    }
}

# Any constant will do, as long as no other program on the same PostgreSQL
# database takes the same advisory lock.
MIGRATION_LOCK_ID = 0x5B_4D_16


def tortoise_config(database_url: str) -> dict[str, Any]:
    connection = expand_db_url(database_url)
    if connection["engine"] == "tortoise.backends.sqlite":
        credentials = connection["credentials"]
        credentials.setdefault("busy_timeout", SQLITE_BUSY_TIMEOUT_MS)
        # In WAL mode NORMAL loses no committed transaction when the process
        # dies; only an OS crash or power cut can undo the last commits.
        credentials.setdefault("synchronous", "NORMAL")
        path = credentials["file_path"]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return {
        "connections": {"default": connection},
        "apps": copy.deepcopy(APPS),
        "use_tz": True,
        "timezone": "UTC",
    }


@asynccontextmanager
async def migration_lock(database_url: str) -> AsyncIterator[None]:
    """Lets one process at a time migrate a PostgreSQL database.

    Hosts that start together would otherwise all find the same migrations
    pending and race to create the same tables. The lock is held by its own
    session, so it is released even if the process dies mid-migration.
    """
    connection = expand_db_url(database_url)
    if connection["engine"] == "tortoise.backends.sqlite":
        # One host owns a SQLite file, and each migration runs in a transaction.
        yield
        return
    credentials = connection["credentials"]
    session = await asyncpg.connect(
        host=credentials.get("host"),
        port=credentials.get("port"),
        user=credentials.get("user"),
        password=credentials.get("password"),
        database=credentials.get("database"),
        ssl=credentials.get("ssl"),
    )
    try:
        await session.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
        yield
    finally:
        await session.close()


def committed_migrations() -> frozenset[str]:
    """The migrations this version of Switchboard ships, as `app.name`."""
    loader = MigrationLoader(APPS, recorder=None)
    loader.load_disk()
    return frozenset(f"{key.app_label}.{key.name}" for key in loader.disk_migrations)


async def pending_migrations(committed: frozenset[str]) -> list[str]:
    """The committed migrations the database has not applied yet."""
    recorder = MigrationRecorder(connections.get("default"))
    applied = {f"{key.app_label}.{key.name}" for key in await recorder.applied_migrations()}
    return sorted(committed - applied)


def __getattr__(name: str) -> Any:
    # The `tortoise` command line (makemigrations, sqlmigrate) reads the
    # configuration from `switchboard.db.TORTOISE_ORM` (see pyproject.toml).
    if name == "TORTOISE_ORM":
        return tortoise_config(Settings.from_env().database_url)
    raise AttributeError(name)

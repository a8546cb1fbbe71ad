"""Tortoise ORM configuration shared by the server, the CLI and `tortoise` itself."""

from __future__ import annotations

import copy
import fcntl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
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
    """Lets one process at a time migrate a database.

    Processes that start together (workers' hosts, or `serve` beside
    `create-api-key`) would otherwise all find the same migrations pending and
    race to create the same tables. Either lock dies with its holder, so a
    process killed mid-migration blocks no one.
    """
    connection = expand_db_url(database_url)
    credentials = connection["credentials"]
    if connection["engine"] == "tortoise.backends.sqlite":
        with _file_lock(Path(f"{credentials['file_path']}.migrate-lock")):
            yield
        return
    session = await connect_postgres(database_url)
    try:
        # Held by this session, so closing it releases the lock.
        await session.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
        yield
    finally:
        await session.close()


async def connect_postgres(database_url: str, **options: Any) -> asyncpg.Connection:
    """A connection of its own to DATABASE_URL's PostgreSQL database, outside Tortoise's pool."""
    credentials = expand_db_url(database_url)["credentials"]
    return await asyncpg.connect(
        host=credentials.get("host"),
        port=credentials.get("port"),
        user=credentials.get("user"),
        password=credentials.get("password"),
        database=credentials.get("database"),
        ssl=credentials.get("ssl"),
        **options,
    )


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def committed_migrations() -> frozenset[str]:
    """The migrations this version of Switchboard ships, as `app.name`."""
    # Only the files on disk are read: no recorder (Tortoise types it as required).
    loader = MigrationLoader(APPS, recorder=None)  # type: ignore[arg-type]
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

"""Tortoise ORM configuration shared by the server, the CLI and `tortoise` itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

from switchboard.settings import Settings

# Writers wait this long for a SQLite lock instead of failing with
# "database is locked" when another connection holds it.
SQLITE_BUSY_TIMEOUT_MS = 5000


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
        "apps": {
            "models": {
                "models": ["models"],
                "migrations": "models.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:
    # The `tortoise` command line (makemigrations, sqlmigrate) reads the
    # configuration from `switchboard.db.TORTOISE_ORM` (see pyproject.toml).
    if name == "TORTOISE_ORM":
        return tortoise_config(Settings.from_env().database_url)
    raise AttributeError(name)

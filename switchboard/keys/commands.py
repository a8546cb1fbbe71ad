"""The command line's API key commands: create-api-key, list-api-keys, revoke-api-key.

Each opens its own connections; the rules are resolvers/api_keys.py's, as
over the API. A revocation here reaches running servers as one made through
the API does (see docs/api-keys.md).
"""

from __future__ import annotations

import argparse
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from tortoise import Tortoise

from models import ApiKey, ApiKeyScope
from resolvers import api_keys
from switchboard.db import committed_migrations, pending_migrations, tortoise_config
from switchboard.rest.api_keys import api_key_body
from switchboard.settings import Settings

T = TypeVar("T")

_DURATION = re.compile(r"^([1-9][0-9]{0,6})([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
# The command line's names for the rules' fields.
OPTION_NAMES = {"name": "--name", "scopes": "--scope", "expiresAt": "--expires-in"}


class KeyCommandError(Exception):
    """The command ran, and could not do what was asked: exit status 1."""


class KeyArgumentError(Exception):
    """An argument breaks a rule of API keys: exit status 2, as for any bad argument."""


def duration(value: str) -> timedelta:
    """`--expires-in`: a whole number of days, hours or minutes, such as 90d, 12h or 30m."""
    match = _DURATION.match(value.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"expected a duration such as 90d, 12h or 30m, got {value!r}")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def key_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"an API key id is a UUID, as list-api-keys shows, got {value!r}") from None


async def _with_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        pending = await pending_migrations(committed_migrations())
        if pending:
            raise KeyCommandError(f"the database lacks migrations {', '.join(pending)}: run `switchboard migrate` first")
        return await work()
    finally:
        await Tortoise.close_connections()


async def create_key(
    settings: Settings, organization: str, name: str, scope: ApiKeyScope, expires_in: timedelta | None
) -> api_keys.IssuedKey:
    """Expects a migrated database (create-api-key migrates first)."""
    expires_at = api_keys.utcnow() + expires_in if expires_in is not None else None
    data = api_keys.CreateApiKeyInput(name=name, scopes=[scope], expires_at=expires_at)
    try:
        return await _with_database(settings, lambda: api_keys.issue_key(organization, data))
    except api_keys.InvalidApiKeyInput as invalid:
        raise KeyArgumentError(
            "; ".join(f"{OPTION_NAMES.get(e.field[0], e.field[0])}: {e.message}" for e in invalid.errors)
        ) from None


async def list_keys(settings: Settings, organization: str) -> list[ApiKey]:
    found = await _with_database(settings, lambda: api_keys.keys_of_organization(organization))
    if found is None:
        raise KeyCommandError(f"there is no organization named {organization!r}")
    return found[1]


async def revoke_key(settings: Settings, id: uuid.UUID) -> ApiKey:
    result = await _with_database(settings, lambda: api_keys.revoke_key_by_id(id))
    if result.api_key is None:
        raise KeyCommandError(f"there is no API key {id}")
    if result.errors:
        raise KeyCommandError(f"API key {id}: {result.errors[0].message}")
    return result.api_key


# --- output ---------------------------------------------------------------------

COLUMNS = ("ID", "NAME", "PREFIX", "SCOPES", "STATUS", "CREATED", "EXPIRES", "LAST USED")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _cell(text: str) -> str:
    # A name may hold tabs or line breaks, which would break the columns.
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def table(rows: list[ApiKey], now: datetime) -> str:
    """Keys as aligned columns, newest first."""
    lines = [COLUMNS] + [
        (
            str(row.id),
            _cell(row.name),
            row.display_prefix,
            ",".join(s.value for s in api_keys.stored_scopes(row)),
            api_keys.status(row, now),
            _when(row.created_at),
            _when(row.expires_at),
            _when(row.last_used_at),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines)


def as_json(rows: list[ApiKey], now: datetime) -> str:
    keys: list[dict[str, Any]] = [{**api_key_body(row), "status": api_keys.status(row, now)} for row in rows]
    return json.dumps(keys, indent=2)

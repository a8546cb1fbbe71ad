"""Rows an organization owns: looked up by an id the caller sent, and counted against its limits.

An id that is not a UUID, unknown, or another organization's all read as
absent: callers cannot tell them apart.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from typing import TypeVar

from tortoise import connections
from tortoise.expressions import F
from tortoise.models import Model

from models import Agent, Organization, PhoneNumber
from resolvers import rules
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, UserError

OwnedT = TypeVar("OwnedT", bound=Model)


@dataclass
class DeleteResult:
    deleted_id: uuid.UUID | None
    errors: list[UserError] = field(default_factory=list)


async def get_owned(model: type[OwnedT], ctx: RequestContext, id: str) -> OwnedT | None:
    parsed = rules.parse_uuid(id)
    if parsed is None:
        return None
    return await model.get_or_none(id=parsed, organization_id=ctx.organization_id)


async def locked(model: type[OwnedT], ctx: RequestContext, id: uuid.UUID, *, key: bool = False) -> OwnedT | None:
    """Inside a transaction: the organization's row, which no other writer changes until the transaction ends.

    PostgreSQL locks the row FOR NO KEY UPDATE, which lets other rows go on
    referring to it, or with `key` FOR UPDATE, which also waits for those
    references being made and holds off new ones. SQLite: a write that changes
    nothing takes the database's write lock first; a read first would begin a
    snapshot that another connection's commit could leave stale, and the
    transaction's first write would then fail as busy.
    """
    query = model.filter(id=id, organization_id=ctx.organization_id)
    if supports_row_locks():
        return await query.select_for_update(no_key=not key).first()
    await query.update(organization_id=F("organization_id"))
    return await query.first()


# --- limits on rows per organization ----------------------------------------------------


class LimitReached(Exception):
    """Raised inside a create's transaction, to roll it back: the organization has no room left."""


def supports_row_locks() -> bool:
    """PostgreSQL: yes. Tortoise's SQLite client has none, and drops `select_for_update()` silently."""
    return bool(connections.get("default").capabilities.support_for_update)


# The column of the organization's row that counts its rows of each model.
# Triggers on the models' tables keep them (models/migrations/0007_row_counts.py).
_COUNTS: dict[type[Model], str] = {PhoneNumber: "phone_number_count", Agent: "agent_count"}


async def at_limit(model: type[Model], ctx: RequestContext, limit: int) -> bool:
    """Whether the organization has `limit` or more rows of `model`."""
    column = _COUNTS[model]
    return await Organization.filter(id=ctx.organization_id, **{f"{column}__gte": limit}).exists()


async def claim_room(model: type[Model], ctx: RequestContext, limit: int) -> None:
    """Inside the transaction that inserts a row of `model`: raise LimitReached unless there is room for it.

    One statement both locks the organization's row and checks its count
    against the limit as the setting is now (a limit lowered below the count
    refuses every create until enough rows are deleted). The insert's trigger
    then counts the row, under that lock, so concurrent creates of one
    organization claim in turn and cannot all take the last place: on
    PostgreSQL the next one waits for the row and checks the count it
    committed; on SQLite the write takes the database's write lock first.
    The lock is FOR NO KEY UPDATE's, so other inserts' foreign-key checks
    (FOR KEY SHARE) of the organization do not wait for it.
    """
    connection = connections.get("default")
    postgres = connection.capabilities.dialect == "postgres"
    organization_id = ctx.organization_id if postgres else str(ctx.organization_id)
    claimed, _ = await connection.execute_query(_claim_sql(_COUNTS[model], postgres), [organization_id, limit])
    if not claimed:
        raise LimitReached


@functools.cache
def _claim_sql(column: str, postgres: bool) -> str:
    # Written out rather than built by the query builder: a create runs it every time.
    id, limit = ("$1", "$2") if postgres else ("?", "?")
    return f'UPDATE "organizations" SET "{column}" = "{column}" WHERE "id" = {id} AND "{column}" < {limit}'


async def hold_counts(ctx: RequestContext) -> None:
    """Inside a transaction that deletes rows the organization counts, before it deletes any.

    The delete's trigger updates the organization's row; a create holds that
    row from its first statement and may then wait for the deleted row (a
    number taken again, an agent's key share). Taking the row first, as
    creates do, keeps the two from waiting for each other. SQLite has one
    writer at a time, and nothing to take.
    """
    if supports_row_locks():
        await Organization.filter(id=ctx.organization_id).select_for_update(no_key=True).only("id")


def limit_reached(limit: int, rows: str) -> UserError:
    return UserError(
        (),
        f"This organization has reached its limit of {limit} {rows}: delete one before creating another",
        ErrorCode.LIMIT_REACHED,
    )

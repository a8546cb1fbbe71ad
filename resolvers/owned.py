"""Rows an organization owns: looked up by an id the caller sent, and counted against its limits.

An id that is not a UUID, unknown, or another organization's all read as
absent: callers cannot tell them apart.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TypeVar

from tortoise import connections
from tortoise.expressions import F
from tortoise.models import Model

from models import Organization
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


async def at_limit(model: type[Model], ctx: RequestContext, limit: int) -> bool:
    """Whether the organization has `limit` or more rows of `model`; reads at most `limit` index entries."""
    beyond = await model.filter(organization_id=ctx.organization_id).offset(limit - 1).limit(1).values_list("id", flat=True)
    return bool(beyond)


async def claim_room(model: type[Model], ctx: RequestContext, limit: int) -> None:
    """Inside the transaction that inserts a row of `model`: raise LimitReached unless there is room for it.

    The organization's row is locked first, so concurrent creates of one
    organization count and insert in turn and cannot all take the last place.
    """
    organization = Organization.filter(id=ctx.organization_id)
    if supports_row_locks():
        # FOR NO KEY UPDATE queues creators behind each other without blocking
        # the foreign-key checks (FOR KEY SHARE) of other inserts.
        # (A plain query: Tortoise drops FOR UPDATE from values() and values_list().)
        await organization.select_for_update(no_key=True)
    else:
        # SQLite locks the whole database for a writer. Writing first takes that
        # lock now; counting first would let another connection commit in
        # between, and this transaction's insert would then fail as busy.
        await organization.update(name=F("name"))
    if await at_limit(model, ctx, limit):
        raise LimitReached


def limit_reached(limit: int, rows: str) -> UserError:
    return UserError(
        (),
        f"This organization has reached its limit of {limit} {rows}: delete one before creating another",
        ErrorCode.LIMIT_REACHED,
    )

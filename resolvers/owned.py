"""Rows an organization owns, looked up by an id the caller sent.

An id that is not a UUID, unknown, or another organization's all read as
absent: callers cannot tell them apart.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TypeVar

from tortoise import connections
from tortoise.models import Model

from resolvers import rules
from resolvers.context import RequestContext
from resolvers.errors import UserError

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


async def delete_owned(model: type[Model], ctx: RequestContext, id: str, not_found: UserError) -> DeleteResult:
    parsed = rules.parse_uuid(id)
    if parsed is None or not await model.filter(id=parsed, organization_id=ctx.organization_id).delete():
        return DeleteResult(None, [not_found])
    return DeleteResult(parsed)


def supports_row_locks() -> bool:
    """PostgreSQL: yes. Tortoise's SQLite client has none, and drops `select_for_update()` silently."""
    return connections.get("default").capabilities.support_for_update

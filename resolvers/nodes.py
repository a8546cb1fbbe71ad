"""Any row an organization owns, found by its id alone, whatever its kind.

Ids are the rows' UUIDs, as REST has them, and name no kind: a lookup asks
each table in turn. As with one kind (resolvers/owned.py), an id that is not
a UUID, unknown, or another organization's all read as absent.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from models import Agent, PhoneNumber
from resolvers import rules
from resolvers.context import RequestContext
from resolvers.pagination import PAGE_SIZE_MAX, InvalidArgument

# As many as a page holds, so a lookup costs and weighs what a full page does.
MAX_IDS = PAGE_SIZE_MAX

Owned = PhoneNumber | Agent


def parse_ids(ids: Sequence[str]) -> list[uuid.UUID | None]:
    """Each id as a UUID, None where it is not one; refused when there are more than MAX_IDS, duplicates included."""
    if len(ids) > MAX_IDS:
        raise InvalidArgument("ids", f"ids holds at most {MAX_IDS} ids, got {len(ids)}")
    return [rules.parse_uuid(id) for id in ids]


async def owned_by_id(ctx: RequestContext, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Owned]:
    """The organization's rows among `ids`, by id: a query per kind at most, whatever the number of ids.

    Numbers are looked for first, as they are what clients mostly refetch;
    agents only among the ids that are not numbers.
    """
    found: dict[uuid.UUID, Owned] = {}
    for model in (PhoneNumber, Agent):
        wanted = [id for id in ids if id not in found]
        if wanted:
            found.update(
                (row.id, row) for row in await model.filter(organization_id=ctx.organization_id, id__in=wanted)
            )
    return found

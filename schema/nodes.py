"""The `node` and `nodes` queries: objects of the organization refetched by id, whatever their type."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry

from models import Agent as AgentRow
from models import PhoneNumber as PhoneNumberRow
from resolvers import nodes
from schema.agents import Agent
from schema.context import GraphQLContext
from schema.node import Node
from schema.pagination import argument_errors
from schema.phone_numbers.types import PhoneNumber

Info = strawberry.Info[GraphQLContext, None]


def _node(row: nodes.Owned | None) -> Node | None:
    if isinstance(row, PhoneNumberRow):
        return PhoneNumber.from_row(row)
    if isinstance(row, AgentRow):
        return Agent.from_row(row)
    return None


async def _load(info: Info, ids: list[uuid.UUID | None]) -> list[Node | None]:
    """The object of each id, in order; None for an id that is not a UUID, no loader call made for it."""
    rows = await info.context.loaders.node.load_many([id for id in ids if id is not None])
    found = iter(rows)
    return [_node(next(found)) if id is not None else None for id in ids]


async def node(info: Info, id: strawberry.ID) -> Node | None:
    (found,) = await _load(info, nodes.parse_ids([id]))
    return found


async def node_list(
    info: Info,
    ids: Annotated[
        list[strawberry.ID],
        strawberry.argument(description=f"At most {nodes.MAX_IDS}; an id may repeat, and is answered each time."),
    ],
) -> list[Node | None]:
    with argument_errors():
        parsed = nodes.parse_ids(ids)
    return await _load(info, parsed)

"""The GraphQL request context: the caller, plus per-request DataLoaders."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from models import Agent, PhoneNumber, PhoneNumberHealth
from resolvers import agents, health, nodes, phone_numbers
from resolvers.context import RequestContext
from resolvers.pagination import Page, Position

AgentPageKey = tuple[uuid.UUID, int, Position | None]
# (phone number id, page size, position): a page of the number's health events.
EventPageKey = tuple[uuid.UUID, int, Position | None]


class Loaders:
    """Batch the per-row reads of one request into a constant number of queries."""

    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx
        self.agent = DataLoader[uuid.UUID, Agent | None](self._agents)
        self.agent_numbers = DataLoader[AgentPageKey, Page[PhoneNumber]](self._agent_numbers)
        self.agent_number_count = DataLoader[uuid.UUID, int](self._agent_number_counts)
        # Every node and nodes field of a request together, at most a page of ids a batch.
        self.node = DataLoader[uuid.UUID, nodes.Owned | None](self._nodes, max_batch_size=nodes.MAX_IDS)
        self.health = DataLoader[uuid.UUID, PhoneNumberHealth | None](self._health)
        self.health_events = DataLoader[EventPageKey, Page[Any]](self._health_events)

    async def _health(self, ids: list[uuid.UUID]) -> list[PhoneNumberHealth | None]:
        found = await health.health_by_number(self.ctx, set(ids))
        return [found.get(i) for i in ids]

    async def _health_events(self, keys: list[EventPageKey]) -> list[Page[Any]]:
        groups: dict[tuple[int, Position | None], set[uuid.UUID]] = defaultdict(set)
        for number_id, first, position in keys:
            groups[(first, position)].add(number_id)
        pages: dict[EventPageKey, Page[Any]] = {}
        for (first, position), number_ids in groups.items():
            for number_id, page in (await health.event_pages(self.ctx, number_ids, first, position)).items():
                pages[(number_id, first, position)] = page
        return [pages[key] for key in keys]

    async def _agents(self, ids: list[uuid.UUID]) -> list[Agent | None]:
        found = await agents.agents_by_id(self.ctx, set(ids))
        return [found.get(i) for i in ids]

    async def _nodes(self, ids: list[uuid.UUID]) -> list[nodes.Owned | None]:
        found = await nodes.owned_by_id(self.ctx, ids)
        return [found.get(i) for i in ids]

    async def _agent_numbers(self, keys: list[AgentPageKey]) -> list[Page[PhoneNumber]]:
        groups: dict[tuple[int, Position | None], set[uuid.UUID]] = defaultdict(set)
        for agent_id, first, position in keys:
            groups[(first, position)].add(agent_id)
        pages: dict[AgentPageKey, Page[PhoneNumber]] = {}
        for (first, position), agent_ids in groups.items():
            for agent_id, page in (await phone_numbers.pages_by_agent(self.ctx, agent_ids, first, position)).items():
                pages[(agent_id, first, position)] = page
        return [pages[key] for key in keys]

    async def _agent_number_counts(self, ids: list[uuid.UUID]) -> list[int]:
        counts = await phone_numbers.counts_by_agent(self.ctx, set(ids))
        return [counts[i] for i in ids]


async def unlimited(total: int) -> int | None:
    return None


async def still_authorized() -> bool:
    return True


@dataclass
class GraphQLContext(RequestContext):
    # Brings what this request has taken from the caller's rate limit up to a
    # total: None when allowed, else the whole seconds to wait.
    charge: Callable[[int], Awaitable[int | None]] = unlimited
    # Whether the caller's key still holds (not revoked or expired since it was checked):
    # asked by operations that outlive a request, as subscriptions do, before each answer.
    authorized: Callable[[], Awaitable[bool]] = still_authorized
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self)

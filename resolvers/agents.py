"""Agents: the voice-AI agents phone numbers are tied to."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from models import Agent
from resolvers import rules
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, Errors, UserError
from resolvers.owned import DeleteResult, delete_owned, get_owned
from resolvers.pagination import Page, Position, keyset_page

NAME_MAX_LENGTH = 100


@dataclass
class CreateAgentInput:
    name: str | None


@dataclass
class UpdateAgentInput:
    id: str
    name: str | None


@dataclass
class AgentResult:
    agent: Agent | None
    errors: list[UserError] = field(default_factory=list)


def _name(errors: Errors, value: str | None) -> str | None:
    return rules.text(errors, ("name",), value, label="Agent name", max_length=NAME_MAX_LENGTH, required=True)


async def create_agent(ctx: RequestContext, data: CreateAgentInput) -> AgentResult:
    errors = Errors()
    name = _name(errors, data.name)
    if errors:
        return AgentResult(None, errors.items)
    agent = await Agent.create(organization_id=ctx.organization_id, name=name)
    return AgentResult(agent)


async def update_agent(ctx: RequestContext, data: UpdateAgentInput) -> AgentResult:
    agent = await get_agent(ctx, data.id)
    if agent is None:
        return AgentResult(None, [_not_found(data.id)])
    errors = Errors()
    name = _name(errors, data.name)
    if errors:
        return AgentResult(None, errors.items)
    agent.name = name
    await agent.save(update_fields=["name", "updated_at"])
    return AgentResult(agent)


async def delete_agent(ctx: RequestContext, agent_id: str) -> DeleteResult:
    """Delete an agent; its numbers stay, untied (the foreign key sets NULL)."""
    return await delete_owned(Agent, ctx, agent_id, _not_found(agent_id))


async def get_agent(ctx: RequestContext, agent_id: str) -> Agent | None:
    return await get_owned(Agent, ctx, agent_id)


async def agents_by_id(ctx: RequestContext, agent_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Agent]:
    rows = await Agent.filter(organization_id=ctx.organization_id, id__in=list(agent_ids))
    return {row.id: row for row in rows}


async def list_agents(ctx: RequestContext, first: int, position: Position | None) -> Page[Agent]:
    return await keyset_page(Agent.filter(organization_id=ctx.organization_id), first, position)


async def count_agents(ctx: RequestContext) -> int:
    return await Agent.filter(organization_id=ctx.organization_id).count()


def _not_found(agent_id: str) -> UserError:
    return UserError(("id",), f"Agent {rules.excerpt(agent_id)} does not exist", ErrorCode.NOT_FOUND)

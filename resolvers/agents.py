"""Agents: the voice-AI agents phone numbers are tied to."""

from __future__ import annotations

from dataclasses import dataclass, field

from models import Agent
from resolvers import rules
from resolvers.context import RequestContext
from resolvers.errors import Errors, UserError

NAME_MAX_LENGTH = 100


@dataclass
class CreateAgentInput:
    name: str | None


@dataclass
class AgentResult:
    agent: Agent | None
    errors: list[UserError] = field(default_factory=list)


async def create_agent(ctx: RequestContext, data: CreateAgentInput) -> AgentResult:
    errors = Errors()
    name = rules.text(errors, ("name",), data.name, label="Agent name", max_length=NAME_MAX_LENGTH, required=True)
    if errors:
        return AgentResult(None, errors.items)
    agent = await Agent.create(organization_id=ctx.organization_id, name=name)
    return AgentResult(agent)


async def get_agent(ctx: RequestContext, agent_id: str) -> Agent | None:
    parsed = rules.parse_uuid(agent_id)
    if parsed is None:
        return None
    return await Agent.get_or_none(id=parsed, organization_id=ctx.organization_id)

"""Agent type, input and payload."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import Agent as AgentRow
from resolvers import agents
from resolvers.context import RequestContext
from schema.errors import UserError, user_errors


@strawberry.type(name="Agent", description="A voice-AI agent that phone numbers can be tied to.")
class Agent:
    id: strawberry.ID
    name: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: AgentRow) -> Agent:
        return cls(id=strawberry.ID(str(row.id)), name=row.name, created_at=row.created_at)


@strawberry.input
class CreateAgentInput:
    name: str = strawberry.field(description="1 to 100 characters after trimming.")


@strawberry.type
class CreateAgentPayload:
    agent: Agent | None
    user_errors: list[UserError]


async def create_agent(info: strawberry.Info[RequestContext, None], input: CreateAgentInput) -> CreateAgentPayload:
    result = await agents.create_agent(info.context, agents.CreateAgentInput(name=input.name))
    return CreateAgentPayload(
        agent=Agent.from_row(result.agent) if result.agent else None,
        user_errors=user_errors(result.errors),
    )


async def agent(info: strawberry.Info[RequestContext, None], id: strawberry.ID) -> Agent | None:
    row = await agents.get_agent(info.context, id)
    return Agent.from_row(row) if row else None

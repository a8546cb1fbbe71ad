"""Agent type, inputs and payloads."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import Agent as AgentRow
from resolvers import agents
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.context import GraphQLContext
from schema.errors import UserError, user_errors
from schema.node import Node
from schema.pagination import Edge, PageInfo, edges_and_page_info, page_arguments

if TYPE_CHECKING:
    from schema.phone_numbers.queries import PhoneNumberConnection

Info = strawberry.Info[GraphQLContext, None]


@strawberry.type(name="Agent", description="A voice-AI agent that phone numbers can be tied to.")
class Agent(Node):
    name: str
    created_at: datetime
    row: strawberry.Private[AgentRow]

    @classmethod
    def from_row(cls, row: AgentRow) -> Agent:
        return cls(id=strawberry.ID(str(row.id)), name=row.name, created_at=row.created_at, row=row)

    @strawberry.field(description="The agent's numbers, newest first.")  # type: ignore[untyped-decorator]  # Strawberry types field(...) without a resolver as Any
    async def phone_numbers(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Annotated[PhoneNumberConnection, strawberry.lazy("schema.phone_numbers.queries")]:
        from schema.phone_numbers.queries import PhoneNumberConnection

        return await PhoneNumberConnection.of_agent(info, self.row.id, first, after)


@strawberry.type
class AgentConnection:
    edges: list[Edge[Agent]]
    page_info: PageInfo

    @strawberry.field(description="All agents of the organization.")  # type: ignore[untyped-decorator]  # Strawberry types field(...) without a resolver as Any
    async def total_count(self, info: Info) -> int:
        return await agents.count_agents(info.context)


@strawberry.input
class CreateAgentInput:
    name: str = strawberry.field(description="1 to 100 characters after trimming.")


@strawberry.input
class UpdateAgentInput:
    id: strawberry.ID
    name: str = strawberry.field(description="1 to 100 characters after trimming.")


@strawberry.input
class DeleteAgentInput:
    id: strawberry.ID


@strawberry.type
class CreateAgentPayload:
    agent: Agent | None
    user_errors: list[UserError]


@strawberry.type
class UpdateAgentPayload:
    agent: Agent | None
    user_errors: list[UserError]


@strawberry.type
class DeleteAgentPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


def _agent(row: AgentRow | None) -> Agent | None:
    return Agent.from_row(row) if row else None


async def create_agent(info: Info, input: CreateAgentInput) -> CreateAgentPayload:
    result = await agents.create_agent(info.context, agents.CreateAgentInput(name=input.name))
    return CreateAgentPayload(agent=_agent(result.agent), user_errors=user_errors(result.errors))


async def update_agent(info: Info, input: UpdateAgentInput) -> UpdateAgentPayload:
    result = await agents.update_agent(info.context, agents.UpdateAgentInput(id=input.id, name=input.name))
    return UpdateAgentPayload(agent=_agent(result.agent), user_errors=user_errors(result.errors))


async def delete_agent(info: Info, input: DeleteAgentInput) -> DeleteAgentPayload:
    result = await agents.delete_agent(info.context, input.id)
    deleted = strawberry.ID(str(result.deleted_id)) if result.deleted_id else None
    return DeleteAgentPayload(deleted_id=deleted, user_errors=user_errors(result.errors))


async def agent(info: Info, id: strawberry.ID) -> Agent | None:
    return _agent(await agents.get_agent(info.context, id))


AGENTS = "agents"


async def agent_list(info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None) -> AgentConnection:
    organization_id = info.context.organization_id
    secrets = info.context.secrets
    size, position = page_arguments(secrets, AGENTS, organization_id, first, after)
    page = await agents.list_agents(info.context, size, position)
    edges, page_info = edges_and_page_info(
        secrets, AGENTS, organization_id, page.rows, page.has_next_page, after, Agent.from_row
    )
    return AgentConnection(edges=edges, page_info=page_info)

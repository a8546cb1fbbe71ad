"""Agents: the voice-AI agents phone numbers are tied to."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models import Agent, AuditAction, PhoneNumber
from resolvers import audit, rules
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, Errors, UserError
from resolvers.owned import DeleteResult, LimitReached, claim_room, get_owned, hold_counts, limit_reached, locked
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
    agent = Agent(organization_id=ctx.organization_id, name=name)
    try:
        async with in_transaction():
            await claim_room(Agent, ctx, ctx.policy.max_agents)
            await agent.save(force_create=True)
            await audit.record_change(ctx, AuditAction.AGENT_CREATED, agent.id, None, audit.agent_fields(agent))
    except LimitReached:
        return AgentResult(None, [limit_reached(ctx.policy.max_agents, "agents")])
    return AgentResult(agent)


async def update_agent(ctx: RequestContext, data: UpdateAgentInput) -> AgentResult:
    agent = await get_agent(ctx, data.id)
    if agent is None:
        return AgentResult(None, [_not_found(data.id)])
    errors = Errors()
    name = _name(errors, data.name)
    if errors or name is None:  # a name is required: None comes with an error
        return AgentResult(None, errors.items)
    async with in_transaction():
        # Locked, so its event's `before` is the name this rename replaces; an
        # agent deleted since it was read is not found, not renamed.
        agent = await locked(Agent, ctx, agent.id)
        if agent is None:
            return AgentResult(None, [_not_found(data.id)])
        before = audit.agent_fields(agent)
        now = datetime.now(UTC)
        await Agent.filter(id=agent.id, organization_id=ctx.organization_id).update(name=name, updated_at=now)
        agent.name, agent.updated_at = name, now
        await audit.record_change(ctx, AuditAction.AGENT_UPDATED, agent.id, before, audit.agent_fields(agent))
    return AgentResult(agent)


async def delete_agent(ctx: RequestContext, agent_id: str) -> DeleteResult:
    """Delete an agent; its numbers stay, untied, each at its next version.

    Each untied number gets a PHONE_NUMBER_UPDATED event of its own (agentId
    and version), by the same key in the same transaction as AGENT_DELETED.
    """
    parsed = rules.parse_uuid(agent_id)
    if parsed is None:
        return DeleteResult(None, [_not_found(agent_id)])
    async with in_transaction():
        # PostgreSQL: a number being tied to the agent holds FOR KEY SHARE on
        # it (the foreign-key check) until it commits. FOR UPDATE waits for
        # those, so the untying below sees them, and makes later ones wait,
        # then fail on the foreign key. (SQLite: its write lock, taken first,
        # keeps every other writer out.) The organization's row first, as
        # creates take it, before the agent another create may be tying a
        # number to.
        await hold_counts(ctx)
        agent = await locked(Agent, ctx, parsed, key=True)
        if agent is None:
            return DeleteResult(None, [_not_found(agent_id)])
        # Locked too, so each event's version is the one its number is untied from.
        tied = (
            await PhoneNumber.filter(organization_id=ctx.organization_id, agent_id=parsed)
            .select_for_update()
            .only("id", "version")
        )
        # Untied here rather than by the foreign key's ON DELETE SET NULL, which
        # would change the numbers without a new version.
        await PhoneNumber.filter(organization_id=ctx.organization_id, agent_id=parsed).update(
            agent_id=None, version=F("version") + 1, updated_at=datetime.now(UTC)
        )
        await Agent.filter(id=parsed, organization_id=ctx.organization_id).delete()
        untied = [(number.id, audit.untied_from_agent(parsed, number.version)) for number in tied]
        await audit.record_request(ctx, AuditAction.PHONE_NUMBER_UPDATED, untied)
        await audit.record_change(ctx, AuditAction.AGENT_DELETED, parsed, audit.agent_fields(agent), None)
    return DeleteResult(parsed)


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

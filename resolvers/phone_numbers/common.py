"""Checks and errors the create, update and delete of a number share.

The underscore names are private to this package: its modules share them, callers outside do not.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from models import Agent, PhoneNumber
from resolvers import rules
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, Errors, UserError
from resolvers.owned import claim_room, limit_reached
from resolvers.rules import OMITTED, OrOmitted

T = TypeVar("T")
# An update that keeps losing the race to other writes of the same number
# gives up after this many tries, answering CONFLICT.
UPDATE_ATTEMPTS = 20
# A create the database refused over a row that is gone once the refusal is
# looked into (its number deleted while it was created again) is tried
# again, up to this many times in all.
INSERT_ATTEMPTS = 3


async def _claim_room(ctx: RequestContext) -> None:
    await claim_room(PhoneNumber, ctx, ctx.policy.max_phone_numbers)


def _limit_reached(ctx: RequestContext) -> UserError:
    return limit_reached(ctx.policy.max_phone_numbers, "phone numbers")


async def _refused_at_limit(ctx: RequestContext, row: PhoneNumber) -> list[UserError]:
    # The limit is reported for input that is otherwise acceptable, as a dry run does.
    if await _number_taken(ctx, row.number):
        return [_taken(row.number)]
    return [_limit_reached(ctx)]


def _constrained(row: PhoneNumber) -> dict[str, Any]:
    return {"number": row.number, "agent_id": row.agent_id}


async def _refused_write(ctx: RequestContext, row_id: uuid.UUID, values: dict[str, Any]) -> list[UserError]:
    """The user errors behind a write the database refused, if that is what it was.

    The constraints decide races: the agent may have been deleted since it
    was looked up (its foreign key), or another row may have taken the number
    (the unique index). No error here means a real fault.
    """
    errors = []
    agent_id, number = values.get("agent_id"), values.get("number")
    if agent_id is not None and not await Agent.filter(id=agent_id, organization_id=ctx.organization_id).exists():
        errors.append(_agent_not_found(str(agent_id)))
    if (
        number is not None
        and await PhoneNumber.filter(organization_id=ctx.organization_id, number=number).exclude(id=row_id).exists()
    ):
        errors.append(_taken(number))
    return errors


def _given(value: OrOmitted[T]) -> T | None:
    return None if value is OMITTED else value


async def _agent(errors: Errors, ctx: RequestContext, agent_id: str | None) -> uuid.UUID | None:
    if agent_id is None:
        return None
    parsed = rules.uuid_id(errors, ("agentId",), agent_id, label="Agent ID")
    if parsed is None:
        return None
    if not await Agent.filter(id=parsed, organization_id=ctx.organization_id).exists():
        errors.items.append(_agent_not_found(str(parsed)))
        return None
    return parsed


def _agent_not_found(agent_id: str) -> UserError:
    return UserError(("agentId",), f"Agent {agent_id} does not exist", ErrorCode.NOT_FOUND)


async def _number_taken(ctx: RequestContext, number: str) -> bool:
    return await PhoneNumber.filter(organization_id=ctx.organization_id, number=number).exists()


def _taken(number: str) -> UserError:
    return UserError(("number",), f"Number {number} already exists in this organization", ErrorCode.TAKEN)


def _add_taken(errors: Errors, number: str) -> None:
    errors.items.append(_taken(number))


def _not_found(phone_number_id: str) -> UserError:
    return UserError(("id",), f"Phone number {rules.excerpt(phone_number_id)} does not exist", ErrorCode.NOT_FOUND)


def version_conflict(row: PhoneNumber, expected_versions: frozenset[int]) -> UserError:
    """The number is at none of the versions the client named (REST's If-Match may name none)."""
    named = " or ".join(str(v) for v in sorted(expected_versions))
    at = f"at version {row.version}, not {named}" if named else f"at version {row.version}"
    return UserError(
        ("expectedVersion",), f"Phone number {row.id} is {at}: read it again, then retry", ErrorCode.CONFLICT
    )


def _busy(phone_number_id: str) -> UserError:
    return UserError(
        ("id",),
        f"Phone number {rules.excerpt(phone_number_id)} changed {UPDATE_ATTEMPTS} times while this request "
        "was being applied; retry",
        ErrorCode.CONFLICT,
    )

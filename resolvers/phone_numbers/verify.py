"""Verify a phone number: check its stored configuration now and store the result as its health."""

from __future__ import annotations

import uuid

from tortoise.transactions import in_transaction

from models import PhoneNumber
from resolvers import health
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, UserError
from resolvers.owned import locked
from resolvers.phone_numbers.common import _not_found
from resolvers.phone_numbers.config import configuration
from resolvers.phone_numbers.inputs import VerifyResult
from resolvers.phone_numbers.queries import get_phone_number
from resolvers.verification import target_for_row


async def verify_phone_number(ctx: RequestContext, phone_number_id: str) -> VerifyResult:
    """Check the number's stored configuration now, and store the result as its health.

    The result is stored only if the configuration is still the one checked:
    a change made meanwhile has cleared the health, which must then describe
    the new configuration, so the answer is CONFLICT and the caller checks again.
    """
    row = await get_phone_number(ctx, phone_number_id)
    if row is None:
        return VerifyResult(None, errors=[_not_found(phone_number_id)])
    result = await health.run_check(ctx, target_for_row(row, ctx.secrets))
    async with in_transaction() as connection:
        current = await locked(PhoneNumber, ctx, row.id)
        if current is None:
            return VerifyResult(None, errors=[_not_found(phone_number_id)])
        if configuration(current) != configuration(row):
            return VerifyResult(None, errors=[_changed_while_checked(row.id)])
        recorded = await health.store_check(ctx, current, result, connection)
    return VerifyResult(current, recorded.health, event=recorded.event)


def _changed_while_checked(phone_number_id: uuid.UUID) -> UserError:
    return UserError(
        ("id",),
        f"Phone number {phone_number_id}'s provider configuration changed while it was being checked; "
        "nothing was stored: verify it again",
        ErrorCode.CONFLICT,
    )

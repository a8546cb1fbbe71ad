"""Delete a phone number as read, if no other write came in between."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import AuditAction, PhoneNumber
from resolvers import audit
from resolvers.context import RequestContext
from resolvers.owned import DeleteResult, hold_counts
from resolvers.phone_numbers.common import UPDATE_ATTEMPTS, _busy, _not_found, version_conflict
from resolvers.phone_numbers.config import audit_fields
from resolvers.phone_numbers.queries import get_phone_number


async def delete_phone_number(
    ctx: RequestContext, phone_number_id: str, expected_versions: frozenset[int] | None = None
) -> DeleteResult:
    """Delete the number as read, if no other write came in between: its event shows what was deleted."""
    for _ in range(UPDATE_ATTEMPTS):
        row = await get_phone_number(ctx, phone_number_id)
        if row is None:
            return DeleteResult(None, [_not_found(phone_number_id)])
        if expected_versions is not None and row.version not in expected_versions:
            return DeleteResult(None, [version_conflict(row, expected_versions)])
        async with in_transaction():
            await hold_counts(ctx)
            deleted = await PhoneNumber.filter(
                id=row.id, organization_id=ctx.organization_id, version=row.version
            ).delete()
            if deleted:
                await audit.record_change(ctx, AuditAction.PHONE_NUMBER_DELETED, row.id, audit_fields(row), None)
        if deleted:
            return DeleteResult(row.id)
    return DeleteResult(None, [_busy(phone_number_id)])

"""Update a phone number: the change applied to the row as read, written only if no other write came first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import AuditAction, HealthState, PhoneNumber
from resolvers import audit, health, rules
from resolvers.context import RequestContext
from resolvers.errors import Errors
from resolvers.phone_numbers.common import (
    UPDATE_ATTEMPTS,
    _add_taken,
    _agent,
    _busy,
    _not_found,
    _number_taken,
    _refused_write,
    version_conflict,
)
from resolvers.phone_numbers.config import _config_columns, audit_fields, reconfigures, seal_secrets
from resolvers.phone_numbers.inputs import NAME_MAX_LENGTH, HealthPreview, PhoneNumberResult, UpdatePhoneNumberInput
from resolvers.phone_numbers.queries import get_phone_number
from resolvers.rules import OMITTED
from resolvers.verification import CheckResult, CheckTarget, target_for_configuration


async def update_phone_number(ctx: RequestContext, data: UpdatePhoneNumberInput) -> PhoneNumberResult:
    """Apply the change to the row as read, and write it only if no other write came in between.

    What a change means depends on the row (keeping the provider patches it,
    another provider replaces the whole configuration), so a write that lost
    the race is worked out again from the row as it now is.
    """
    checks: dict[CheckTarget, CheckResult] = {}
    for _ in range(UPDATE_ATTEMPTS):
        row = await get_phone_number(ctx, data.id)
        if row is None:
            return PhoneNumberResult(None, [_not_found(data.id)])
        if data.expected_versions is not None and row.version not in data.expected_versions:
            return PhoneNumberResult(None, [version_conflict(row, data.expected_versions)])
        errors, changes = await _changes(ctx, data, row)
        if errors:
            return PhoneNumberResult(None, errors.items)
        checked = None
        if data.verify:
            # The configuration the write leaves; checked once, however often the write is retried.
            target = target_for_configuration(
                changes.get("number") or row.number, changes, current=row, box=ctx.secrets
            )
            if target not in checks:
                checks[target] = await health.run_check(ctx, target)
            checked = checks[target]
            if checked.state is not HealthState.OK:
                return PhoneNumberResult(None, [health.verification_failed(checked)])
        reconfigured = reconfigures(row, changes)
        sealed = seal_secrets(changes, row.id, ctx.secrets)
        if data.dry_run:
            preview = None
            if checked is not None:
                preview = HealthPreview(health.unsaved_health(row.id, ctx.organization_id, checked))
            elif reconfigured:
                preview = HealthPreview(None)
            return PhoneNumberResult(_changed(row, sealed, datetime.now(UTC)), preview=preview)
        written = await _write_unless_changed(ctx, row, sealed, reconfigured=reconfigured, checked=checked)
        if written is not None:
            return written
    return PhoneNumberResult(None, [_busy(data.id)])


async def _changes(
    ctx: RequestContext, data: UpdatePhoneNumberInput, row: PhoneNumber
) -> tuple[Errors, dict[str, Any]]:
    errors = Errors()
    changes: dict[str, Any] = {}
    if data.number is not OMITTED:
        changes["number"] = rules.phone_number(errors, ("number",), data.number)
    if data.name is not OMITTED:
        changes["name"] = rules.label_text(errors, ("name",), data.name, label="Name", max_length=NAME_MAX_LENGTH)
    if data.agent_id is not OMITTED:
        changes["agent_id"] = await _agent(errors, ctx, data.agent_id)
    if data.metadata is not OMITTED:
        changes["metadata"] = rules.metadata(errors, ("metadata",), data.metadata)
    if data.provider is not OMITTED:
        changes.update(_config_columns(errors, data.provider, row, ctx.policy))

    number = changes.get("number")
    if number is not None and number != row.number and await _number_taken(ctx, number):
        _add_taken(errors, number)
    return errors, changes


def _changed(row: PhoneNumber, sealed: dict[str, Any], now: datetime) -> PhoneNumber:
    """`row` as the write makes it: the next version."""
    for column, value in sealed.items():
        setattr(row, column, value)
    row.version += 1
    row.updated_at = now
    return row


async def _write_unless_changed(
    ctx: RequestContext,
    row: PhoneNumber,
    sealed: dict[str, Any],
    *,
    reconfigured: bool = False,
    checked: CheckResult | None = None,
) -> PhoneNumberResult | None:
    """Write the change if the row is still at the version read; None if another write came first.

    Only the columns given are written, so the answer (the row read plus the
    change) is exactly the row committed: any other write bumps the version.
    Only a write that wins records its event, in the same transaction as the write.
    """
    now = datetime.now(UTC)
    before = audit_fields(row)
    try:
        async with in_transaction() as connection:
            written = await PhoneNumber.filter(
                id=row.id, organization_id=ctx.organization_id, version=row.version
            ).update(**sealed, version=row.version + 1, updated_at=now)
            if written:
                after = audit_fields(_changed(row, sealed, now))
                await audit.record_change(ctx, AuditAction.PHONE_NUMBER_UPDATED, row.id, before, after)
                if reconfigured:
                    await health.clear_health(row.id, connection)
                if checked is not None:
                    await health.store_check(ctx, row, checked, connection)
    except IntegrityError:
        errors = await _refused_write(ctx, row.id, sealed)
        if not errors:
            raise
        return PhoneNumberResult(None, errors)
    if not written:
        return None
    return PhoneNumberResult(row)

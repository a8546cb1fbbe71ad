"""Create a phone number: its rules checked, its secrets sealed, its key honoured."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import AuditAction, HealthState, PhoneNumber
from resolvers import audit, health, rules
from resolvers.context import RequestContext
from resolvers.errors import Errors
from resolvers.owned import LimitReached, at_limit
from resolvers.phone_numbers.common import (
    INSERT_ATTEMPTS,
    _add_taken,
    _agent,
    _claim_room,
    _constrained,
    _given,
    _limit_reached,
    _number_taken,
    _refused_at_limit,
    _refused_write,
    _taken,
)
from resolvers.phone_numbers.config import _config_columns, audit_fields, seal_secrets
from resolvers.phone_numbers.idempotency import _idempotency_key, _insert_once, _replay
from resolvers.phone_numbers.inputs import NAME_MAX_LENGTH, CreatePhoneNumberInput, HealthPreview, PhoneNumberResult
from resolvers.verification import CheckResult, target_for_configuration


async def create_phone_number(ctx: RequestContext, data: CreatePhoneNumberInput) -> PhoneNumberResult:
    errors = Errors()
    number = rules.phone_number(errors, ("number",), data.number)
    name = rules.label_text(errors, ("name",), _given(data.name), label="Name", max_length=NAME_MAX_LENGTH)
    agent_id = await _agent(errors, ctx, _given(data.agent_id))
    metadata = rules.metadata(errors, ("metadata",), _given(data.metadata))
    columns = _config_columns(errors, data.provider, None, ctx.policy)
    key = _idempotency_key(errors, _given(data.idempotency_key))

    if (errors or data.dry_run) and number is not None and await _number_taken(ctx, number):
        _add_taken(errors, number)
    # A number of None always came with an error; testing it too tells the type checker it is a str below.
    if errors or number is None:
        return PhoneNumberResult(None, errors.items)

    values = dict(number=number, name=name, agent_id=agent_id, metadata=metadata, **columns)
    if key is not None:
        replay = await _replay(ctx, key, values)
        if replay is not None:
            return replay

    row_id = uuid.uuid4()
    row = PhoneNumber(id=row_id, organization_id=ctx.organization_id, **seal_secrets(values, row_id, ctx.secrets))
    if data.dry_run and await at_limit(PhoneNumber, ctx, ctx.policy.max_phone_numbers):
        return PhoneNumberResult(None, [_limit_reached(ctx)])
    checked = None
    if data.verify:
        if not data.dry_run and await _number_taken(ctx, number):
            return PhoneNumberResult(None, [_taken(number)])
        checked = await health.run_check(ctx, target_for_configuration(number, columns))
        if checked.state is not HealthState.OK:
            return PhoneNumberResult(None, [health.verification_failed(checked)])
    if data.dry_run:
        row.created_at = row.updated_at = datetime.now(UTC)
        preview = health.unsaved_health(row.id, ctx.organization_id, checked) if checked else None
        return PhoneNumberResult(row, preview=HealthPreview(preview))
    if key is None:
        return await _insert(ctx, row, checked)
    return await _insert_once(ctx, row, key, values, checked)


async def _insert(ctx: RequestContext, row: PhoneNumber, checked: CheckResult | None) -> PhoneNumberResult:
    attempts = 0
    while True:
        attempts += 1
        stored = None
        try:
            async with in_transaction() as connection:
                await _claim_room(ctx)
                await row.save(force_create=True)
                await audit.record_change(ctx, AuditAction.PHONE_NUMBER_CREATED, row.id, None, audit_fields(row))
                if checked is not None:
                    stored = (await health.store_check(ctx, row, checked, connection)).health
            return PhoneNumberResult(row, inserted=True, health=stored)
        except LimitReached:
            return PhoneNumberResult(None, await _refused_at_limit(ctx, row))
        except IntegrityError:
            errors = await _refused_write(ctx, row.id, _constrained(row))
            if errors:
                return PhoneNumberResult(None, errors)
            if attempts == INSERT_ATTEMPTS:
                raise

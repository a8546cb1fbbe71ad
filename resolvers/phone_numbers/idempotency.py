"""Idempotency keys: a create sent again with the same key answers what the first one did.

A key is claimed in the transaction that inserts the number; its record keeps
a fingerprint of the input (secrets only as given or not), for 24 hours.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import AuditAction, IdempotencyKey, PhoneNumber, Provider, SipMode, SipTransport
from models.idempotency import fingerprint, fingerprint_matches, is_legacy_fingerprint
from models.secrets import SecretDecryptionError
from resolvers import audit, health, rules
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, Errors, UserError
from resolvers.owned import LimitReached
from resolvers.phone_numbers.common import INSERT_ATTEMPTS, _claim_room, _constrained, _refused_at_limit, _refused_write
from resolvers.phone_numbers.config import audit_fields, secret_context
from resolvers.phone_numbers.inputs import PhoneNumberResult
from resolvers.providers import SECRET_COLUMNS
from resolvers.verification import CheckResult

IDEMPOTENCY_KEY_MAX_LENGTH = 255
IDEMPOTENCY_WINDOW = timedelta(hours=24)


async def _insert_once(
    ctx: RequestContext, row: PhoneNumber, key: str, values: dict[str, Any], checked: CheckResult | None
) -> PhoneNumberResult:
    """Insert the number and claim the key in one transaction.

    A concurrent request with the same key blocks on the key's unique index
    (or on SQLite's write lock) until this one commits, then replays it.
    """
    attempts = 0
    while True:
        attempts += 1
        stored = None
        try:
            async with in_transaction() as connection:
                await IdempotencyKey.create(
                    organization_id=ctx.organization_id,
                    key=key,
                    fingerprint=fingerprint(_fingerprint_message(values)),
                    phone_number_id=None,
                )
                await _claim_room(ctx)
                await row.save(force_create=True)
                await IdempotencyKey.filter(organization_id=ctx.organization_id, key=key).update(phone_number_id=row.id)
                await audit.record_change(ctx, AuditAction.PHONE_NUMBER_CREATED, row.id, None, audit_fields(row))
                if checked is not None:
                    stored = (await health.store_check(ctx, row, checked, connection)).health
            return PhoneNumberResult(row, inserted=True, health=stored)
        except LimitReached:
            return PhoneNumberResult(None, await _refused_at_limit(ctx, row))
        except IntegrityError:
            replay = await _replay(ctx, key, values)
            if replay is not None:
                return replay
            errors = await _refused_write(ctx, row.id, _constrained(row))
            if errors:
                return PhoneNumberResult(None, errors)
            if attempts == INSERT_ATTEMPTS:
                raise


async def _replay(ctx: RequestContext, key: str, values: dict[str, Any]) -> PhoneNumberResult | None:
    """The answer already given for `key`, or None when the key is free.

    Whatever secrets `values` hold, the answer is the same: were their values
    compared, a wrong guess (IDEMPOTENCY_KEY_REUSED) would tell itself apart
    from the stored secret (the original number).
    """
    record = await IdempotencyKey.get_or_none(organization_id=ctx.organization_id, key=key)
    if record is None:
        return None
    if record.created_at < datetime.now(UTC) - IDEMPOTENCY_WINDOW:
        await IdempotencyKey.filter(id=record.id).delete()
        return None
    row = None
    if record.phone_number_id is not None:
        row = await PhoneNumber.get_or_none(id=record.phone_number_id, organization_id=ctx.organization_id)
    if is_legacy_fingerprint(record.fingerprint):
        same_input = _legacy_same_input(ctx, record.fingerprint, values, row)
    else:
        same_input = fingerprint_matches(record.fingerprint, _fingerprint_message(values))
    if not same_input:
        return PhoneNumberResult(
            None,
            [
                UserError(
                    ("idempotencyKey",),
                    "This idempotency key was already used with different input; use a new key for a new request",
                    ErrorCode.IDEMPOTENCY_KEY_REUSED,
                )
            ],
        )
    if row is None:
        return PhoneNumberResult(
            None,
            [
                UserError(
                    ("idempotencyKey",),
                    "The phone number created with this idempotency key has since been deleted",
                    ErrorCode.NOT_FOUND,
                )
            ],
        )
    return PhoneNumberResult(row)


def _legacy_same_input(ctx: RequestContext, stored: str, values: dict[str, Any], row: PhoneNumber | None) -> bool:
    """Compare with a fingerprint of the earlier form, which covered the secrets' values.

    The secrets sent are replaced by those the original number holds, so the
    answer still depends only on the rest of the input. A deleted number holds
    none to compare: its key answers that the number was deleted, whatever is
    sent. Such records expire 24 hours after their first use.
    """
    if row is None:
        return True
    compared = dict(values)
    for plain, encrypted in SECRET_COLUMNS.items():
        if compared.get(plain) is None:
            continue
        token = getattr(row, encrypted)
        try:
            compared[plain] = None if token is None else ctx.secrets.decrypt(token, secret_context(row.id, encrypted))
        except SecretDecryptionError:
            return False
    return ctx.secrets.legacy_fingerprint_matches(stored, _canonical_json(compared))


def _idempotency_key(errors: Errors, value: Any) -> str | None:
    if value is None:
        return None
    return rules.text(
        errors,
        ("idempotencyKey",),
        value,
        label="Idempotency key",
        max_length=IDEMPOTENCY_KEY_MAX_LENGTH,
        required=False,
        strip=False,
    )


def _fingerprint_message(values: dict[str, Any]) -> str:
    # A secret counts only as given or not: see _replay.
    return _canonical_json({k: (v is not None) if k in SECRET_COLUMNS else v for k, v in values.items()})


def _canonical_json(values: dict[str, Any]) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, (Provider, SipMode, SipTransport)):
            return value.value
        return value

    return json.dumps({k: plain(v) for k, v in values.items()}, sort_keys=True, separators=(",", ":"), default=str)

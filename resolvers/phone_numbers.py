"""Phone numbers: the reference's rules and their persistence.

Inputs arrive as the plain dataclasses below, whichever transport built them;
every rule lives here once. Paths in errors start below the operation's
argument, e.g. ("provider", "sip", "registration", "username"). A field left
out is `OMITTED`; None is an explicit null.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pypika_tortoise.analytics import RowNumber
from pypika_tortoise.enums import Order
from pypika_tortoise.queries import Table
from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import (
    Agent,
    AuditAction,
    HealthState,
    IdempotencyKey,
    PhoneNumber,
    PhoneNumberHealth,
    PhoneNumberHealthEvent,
    Provider,
    SipMode,
    SipTransport,
)
from models.idempotency import fingerprint, fingerprint_matches, is_legacy_fingerprint
from models.secrets import SecretBox, SecretDecryptionError
from resolvers import audit, health, rules
from resolvers.context import Policy, RequestContext
from resolvers.errors import ErrorCode, Errors, UserError
from resolvers.owned import DeleteResult, LimitReached, at_limit, claim_room, get_owned, limit_reached, locked
from resolvers.pagination import InvalidArgument, Page, Position, keyset_page
from resolvers.providers import CONFIG_COLUMNS, SECRET_COLUMNS, SPECS, ProviderConfigInput, spec_of
from resolvers.rules import OMITTED, OrOmitted
from resolvers.verification import CheckResult, CheckTarget, target_for_configuration, target_for_row

T = TypeVar("T")
NAME_MAX_LENGTH = 100
IDEMPOTENCY_KEY_MAX_LENGTH = 255
IDEMPOTENCY_WINDOW = timedelta(hours=24)
# An update that keeps losing the race to other writes of the same number
# gives up after this many tries, answering CONFLICT.
UPDATE_ATTEMPTS = 20


@dataclass
class CreatePhoneNumberInput:
    number: str | None  # None: not sent (REST), refused as blank
    provider: ProviderConfigInput
    name: OrOmitted[str | None] = OMITTED
    agent_id: OrOmitted[str | None] = OMITTED
    # JSON as the caller sent it: rules.metadata checks its shape.
    metadata: OrOmitted[Any] = OMITTED
    idempotency_key: OrOmitted[str | None] = OMITTED
    dry_run: bool = False
    # Check the configuration first; save only if the check answers OK (the result becomes the number's health).
    verify: bool = False


@dataclass
class UpdatePhoneNumberInput:
    id: str
    number: OrOmitted[str] = OMITTED
    name: OrOmitted[str | None] = OMITTED
    agent_id: OrOmitted[str | None] = OMITTED
    metadata: OrOmitted[Any] = OMITTED  # JSON as sent, as on create
    provider: OrOmitted[ProviderConfigInput] = OMITTED
    # The versions the client allows the change on; None: whatever the current one.
    expected_versions: frozenset[int] | None = None
    dry_run: bool = False
    verify: bool = False


@dataclass
class PhoneNumberFilter:
    provider: Provider | None = None
    sip_mode: SipMode | None = None
    agent_id: str | None = None
    search: str | None = None


@dataclass(frozen=True)
class HealthPreview:
    """A dry run's answer: the health the write would leave (None: cleared, or never checked)."""

    health: PhoneNumberHealth | None


@dataclass
class PhoneNumberResult:
    phone_number: PhoneNumber | None
    errors: list[UserError] = field(default_factory=list)
    # Set for dry runs only; a saved number's health is read from the database.
    preview: HealthPreview | None = None


@dataclass
class VerifyResult:
    phone_number: PhoneNumber | None
    health: PhoneNumberHealth | None = None
    errors: list[UserError] = field(default_factory=list)
    # The change of state this check recorded, if any: what subscribers are told.
    event: PhoneNumberHealthEvent | None = None


# --- provider configurations -------------------------------------------------


def _config_columns(
    errors: Errors, config: ProviderConfigInput, current: PhoneNumber | None, policy: Policy
) -> dict[str, Any]:
    """Columns to write for a provider configuration.

    Keeping the provider and SIP mode of `current` patches only the fields
    given. Any other choice is a whole new configuration: required fields must
    be given, and every column of the old one, secrets included, is cleared.
    """
    spec = SPECS[type(config)]
    patch = current is not None and (current.provider, current.sip_mode) == (spec.provider, spec.sip_mode)
    columns: dict[str, Any] = {}
    if not patch:
        columns = dict.fromkeys(CONFIG_COLUMNS)
        columns.update(provider=spec.provider, sip_mode=spec.sip_mode)
    for f in spec.fields:
        value = getattr(config, f.attr)
        if value is OMITTED:
            if patch:
                continue
            value = None
        if value is None and f.default is not None:
            value = f.default
        columns[f.column] = f.check(errors, spec.path + (f.name,), value, policy)
    return columns


def seal_secrets(columns: dict[str, Any], row_id: uuid.UUID, box: SecretBox) -> dict[str, Any]:
    """Replace the plaintext secrets among `columns` by their ciphertext columns."""
    sealed = dict(columns)
    for plain, encrypted in SECRET_COLUMNS.items():
        if plain in sealed:
            value = sealed.pop(plain)
            sealed[encrypted] = None if value is None else box.encrypt(value, secret_context(row_id, encrypted))
    return sealed


def secret_context(row_id: uuid.UUID, column: str) -> str:
    return f"phone_numbers:{row_id}:{column}"


def audit_fields(row: PhoneNumber) -> audit.Fields:
    """The number as its audit events show it (see resolvers/audit.py)."""
    return audit.phone_number_fields(row, spec_of(row).fields, SECRET_COLUMNS)


# --- create -------------------------------------------------------------------


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
    if errors:
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
    try:
        async with in_transaction() as connection:
            await _claim_room(ctx)
            await row.save(force_create=True)
            await audit.record_change(ctx, AuditAction.PHONE_NUMBER_CREATED, row.id, None, audit_fields(row))
            if checked is not None:
                await health.store_check(ctx, row, checked, connection)
    except LimitReached:
        return PhoneNumberResult(None, await _refused_at_limit(ctx, row))
    except IntegrityError:
        errors = await _refused_write(ctx, row.id, _constrained(row))
        if not errors:
            raise
        return PhoneNumberResult(None, errors)
    return PhoneNumberResult(row)


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
    if number is not None and await PhoneNumber.filter(organization_id=ctx.organization_id, number=number).exclude(id=row_id).exists():
        errors.append(_taken(number))
    return errors


async def _insert_once(
    ctx: RequestContext, row: PhoneNumber, key: str, values: dict[str, Any], checked: CheckResult | None
) -> PhoneNumberResult:
    """Insert the number and claim the key in one transaction.

    A concurrent request with the same key blocks on the key's unique index
    (or on SQLite's write lock) until this one commits, then replays it.
    """
    while True:
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
                    await health.store_check(ctx, row, checked, connection)
            return PhoneNumberResult(row)
        except LimitReached:
            return PhoneNumberResult(None, await _refused_at_limit(ctx, row))
        except IntegrityError:
            replay = await _replay(ctx, key, values)
            if replay is not None:
                return replay
            errors = await _refused_write(ctx, row.id, _constrained(row))
            if errors:
                return PhoneNumberResult(None, errors)
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
        errors, ("idempotencyKey",), value, label="Idempotency key", max_length=IDEMPOTENCY_KEY_MAX_LENGTH, required=False, strip=False
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


# --- update and delete ----------------------------------------------------------


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
            target = target_for_configuration(changes.get("number") or row.number, changes, current=row, box=ctx.secrets)
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


def reconfigures(row: PhoneNumber, changes: dict[str, Any]) -> bool:
    """Whether the change sets the number or any of its provider configuration to another value.

    A secret given counts, whatever its value: secrets are not compared.
    Such a change clears the number's health, which described the old one.
    """
    for column, value in changes.items():
        if column in SECRET_COLUMNS:
            return True
        if column in CONFIG_COLUMNS or column in ("number", "provider", "sip_mode"):
            if getattr(row, column) != value:
                return True
    return False


def configuration(row: PhoneNumber) -> tuple[Any, ...]:
    """What a check of the number depends on, as stored (secrets by their ciphertext, new with every write of them)."""
    return (row.number, row.provider, row.sip_mode, *(getattr(row, SECRET_COLUMNS.get(c, c)) for c in CONFIG_COLUMNS))


async def _changes(ctx: RequestContext, data: UpdatePhoneNumberInput, row: PhoneNumber) -> tuple[Errors, dict[str, Any]]:
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
            written = await PhoneNumber.filter(id=row.id, organization_id=ctx.organization_id, version=row.version).update(
                **sealed, version=row.version + 1, updated_at=now
            )
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
        f"Phone number {phone_number_id}'s provider configuration changed while it was being checked; nothing was stored: verify it again",
        ErrorCode.CONFLICT,
    )


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
            deleted = await PhoneNumber.filter(id=row.id, organization_id=ctx.organization_id, version=row.version).delete()
            if deleted:
                await audit.record_change(ctx, AuditAction.PHONE_NUMBER_DELETED, row.id, audit_fields(row), None)
        if deleted:
            return DeleteResult(row.id)
    return DeleteResult(None, [_busy(phone_number_id)])


# --- reads ----------------------------------------------------------------------


async def get_phone_number(ctx: RequestContext, phone_number_id: str) -> PhoneNumber | None:
    return await get_owned(PhoneNumber, ctx, phone_number_id)


# As long as the longest name: a longer search can match nothing.
SEARCH_MAX_LENGTH = NAME_MAX_LENGTH


def _filtered(ctx: RequestContext, where: PhoneNumberFilter) -> QuerySet[PhoneNumber]:
    query = PhoneNumber.filter(organization_id=ctx.organization_id)
    if where.provider is not None:
        query = query.filter(provider=where.provider)
    if where.sip_mode is not None:
        query = query.filter(sip_mode=where.sip_mode)
    if where.agent_id is not None:
        agent_id = rules.parse_uuid(where.agent_id)
        if agent_id is None:
            raise InvalidArgument("filter.agentId", "filter.agentId must be a UUID")
        query = query.filter(agent_id=agent_id)
    search = _search(where.search)
    if search:
        matches = Q(name__icontains=search)
        digits = re.sub(r"\D", "", search)
        if digits:
            matches |= Q(number__contains=digits)
        query = query.filter(matches)
    return query


def _search(value: str | None) -> str:
    """The search text, trimmed: refused when longer than any name it could match (SQLite also
    refuses LIKE patterns over 50,000 bytes) or holding control characters (PostgreSQL refuses NUL)."""
    search = (value or "").strip()
    if len(search) > SEARCH_MAX_LENGTH:
        raise InvalidArgument(
            "filter.search", f"filter.search is too long (at most {SEARCH_MAX_LENGTH} characters, got {len(search)})"
        )
    if rules.has_control_characters(search):
        raise InvalidArgument("filter.search", "filter.search can't contain control characters")
    return search


async def list_phone_numbers(
    ctx: RequestContext, first: int, position: Position | None, where: PhoneNumberFilter
) -> Page[PhoneNumber]:
    return await keyset_page(_filtered(ctx, where), first, position)


async def count_phone_numbers(ctx: RequestContext, where: PhoneNumberFilter) -> int:
    return await _filtered(ctx, where).count()


async def list_phone_numbers_by_offset(
    ctx: RequestContext, limit: int, offset: int, where: PhoneNumberFilter
) -> list[PhoneNumber]:
    """Offset pages, for the REST API's compatibility; GraphQL pages by keyset."""
    return await _filtered(ctx, where).order_by("-created_at", "-id").offset(offset).limit(limit)


async def pages_by_agent(
    ctx: RequestContext, agent_ids: Iterable[uuid.UUID], first: int, position: Position | None
) -> dict[uuid.UUID, Page[PhoneNumber]]:
    """The same page of numbers for each of several agents, in two queries.

    ROW_NUMBER() per agent picks at most first + 1 rows of each, however many
    numbers an agent has; the rows are then loaded by id.
    """
    agent_ids = list(agent_ids)
    connection = connections.get("default")
    numbers = Table("phone_numbers")
    position_in_agent = (
        RowNumber()
        .over(numbers.agent_id)
        .orderby(numbers.created_at, order=Order.desc)
        .orderby(numbers.id, order=Order.desc)
        .as_("position_in_agent")
    )
    ranked = (
        connection.query_class.from_(numbers)
        .select(numbers.id, position_in_agent)
        .where(numbers.organization_id == str(ctx.organization_id))
        .where(numbers.agent_id.isin([str(a) for a in agent_ids]))
    )
    if position is not None:
        ranked = ranked.where(
            (numbers.created_at < position.created_at)
            | ((numbers.created_at == position.created_at) & (numbers.id < str(position.id)))
        )
    query = connection.query_class.from_(ranked).select(ranked.id).where(ranked.position_in_agent <= first + 1)
    sql, params = query.get_parameterized_sql()
    ids = [row["id"] for row in await connection.execute_query_dict(sql, params)]
    rows = await PhoneNumber.filter(id__in=ids).order_by("-created_at", "-id") if ids else []
    pages: dict[uuid.UUID, Page[PhoneNumber]] = {agent_id: Page([], False) for agent_id in agent_ids}
    for row in rows:
        assert row.agent_id is not None  # the query selects numbers of these agents only
        page = pages[row.agent_id]
        if len(page.rows) == first:
            page.has_next_page = True
        else:
            page.rows.append(row)
    return pages


async def counts_by_agent(ctx: RequestContext, agent_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    agent_ids = list(agent_ids)
    counted = (
        await PhoneNumber.filter(organization_id=ctx.organization_id, agent_id__in=agent_ids)
        .annotate(count=Count("id"))
        .group_by("agent_id")
        .values_list("agent_id", "count")
    )
    totals = {uuid.UUID(str(agent_id)): count for agent_id, count in counted}
    return {agent_id: totals.get(agent_id, 0) for agent_id in agent_ids}


# --- helpers --------------------------------------------------------------------


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
    return UserError(("expectedVersion",), f"Phone number {row.id} is {at}: read it again, then retry", ErrorCode.CONFLICT)


def _busy(phone_number_id: str) -> UserError:
    return UserError(
        ("id",),
        f"Phone number {rules.excerpt(phone_number_id)} changed {UPDATE_ATTEMPTS} times while this request "
        "was being applied; retry",
        ErrorCode.CONFLICT,
    )

"""The audit log: who changed what, written in the transaction of the change itself.

Every change of a phone number, agent or API key appends one event through
`record` (or `record_change`), inside the transaction that makes the change:
the event commits with the change or not at all, and a request that changes
nothing (a dry run, an idempotent replay, a refusal) reaches no call.

An event's `changes` are the diff of the target as the GraphQL API shows it
(see `phone_number_fields`, `agent_fields`, `api_key_fields`): each field whose
value differs, `before` and `after` as JSON, in the API's names. A secret
never appears: its field reads {before: null, after: null, secretChanged:
true} whenever its stored ciphertext changed (set, replaced or cleared),
whatever the values, so the log cannot confirm a guess of a secret either.

Provider checks that store a result record it the same way, in the
transaction that stores it, when it changes what is known of the number:
`record_change(ctx, AuditAction.PHONE_NUMBER_VERIFIED, number.id,
{"health": "OK"}, {"health": "AUTH_FAILED"})` (field names as their GraphQL
type shows them).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Protocol

import orjson
from tortoise import BaseDBAsyncClient, connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import (
    Agent,
    ApiKey,
    AuditAction,
    AuditActorType,
    AuditEvent,
    AuditTargetType,
    PhoneNumber,
)
from resolvers import rules, scopes
from resolvers.context import RequestContext
from resolvers.pagination import InvalidArgument, Page, Position, keyset_page

TARGET_TYPES: dict[AuditAction, AuditTargetType] = {
    AuditAction.PHONE_NUMBER_CREATED: AuditTargetType.PHONE_NUMBER,
    AuditAction.PHONE_NUMBER_UPDATED: AuditTargetType.PHONE_NUMBER,
    AuditAction.PHONE_NUMBER_DELETED: AuditTargetType.PHONE_NUMBER,
    AuditAction.PHONE_NUMBER_VERIFIED: AuditTargetType.PHONE_NUMBER,
    AuditAction.AGENT_CREATED: AuditTargetType.AGENT,
    AuditAction.AGENT_UPDATED: AuditTargetType.AGENT,
    AuditAction.AGENT_DELETED: AuditTargetType.AGENT,
    AuditAction.API_KEY_CREATED: AuditTargetType.API_KEY,
    AuditAction.API_KEY_REVOKED: AuditTargetType.API_KEY,
}
# The list's name in its cursors, shared by GraphQL and REST: a cursor of one reads on in the other.
LIST_KIND = "audit_events"
# Events of one change are inserted this many to a statement.
INSERT_BATCH = 500
# Listed last in a diff, after the fields whose change it counts.
_TRAILING_FIELDS = ("version",)


class NotInTransaction(RuntimeError):
    """An event was recorded outside a transaction: it could outlive, or miss, its change."""


# --- who ------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who made a change: an API key as it was named then, or the operator at the command line."""

    type: AuditActorType
    name: str
    api_key_id: uuid.UUID | None = None
    prefix: str | None = None


def actor_of(ctx: RequestContext) -> Actor:
    principal = ctx.principal
    if principal is None:
        # Only work no request asked for runs without a key.
        return command_line("switchboard")
    return Actor(AuditActorType.API_KEY, principal.name, principal.key_id, principal.prefix)


def command_line(command: str) -> Actor:
    """The operator, running a `switchboard` command (e.g. "revoke-api-key")."""
    name = command if command.startswith("switchboard") else f"switchboard {command}"
    return Actor(AuditActorType.COMMAND_LINE, name)


# --- what -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sealed:
    """A secret as stored (its ciphertext, or None): compared, never written to an event."""

    token: str | None = field(repr=False)


# A target as the API shows it: field name -> JSON value, or Sealed for a secret.
Fields = Mapping[str, Any]


@dataclass(frozen=True)
class Change:
    field: str
    before: Any = None
    after: Any = None
    secret_changed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after, "secretChanged": self.secret_changed}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Change:
        return cls(value["field"], value["before"], value["after"], value["secretChanged"])


def diff(before: Fields | None, after: Fields | None) -> list[Change]:
    """Each field whose value differs between two views of a target (None: it did not exist)."""
    if before is None and after is not None:
        return _created(after)
    old, new = before or {}, after or {}
    names = list(dict.fromkeys([*old, *new]))
    names.sort(key=lambda name: name in _TRAILING_FIELDS)
    changes = []
    for name in names:
        was, now = old.get(name), new.get(name)
        if isinstance(was, Sealed) or isinstance(now, Sealed):
            if _token(was) != _token(now):
                changes.append(Change(name, secret_changed=True))
        elif _canonical(was) != _canonical(now):
            changes.append(Change(name, was, now))
    return changes


def _created(after: Fields) -> list[Change]:
    """diff(None, after), without serializing each value to compare it with null.

    A value differs from null unless it is null; a float that is not finite
    is stored as null too, so it is left out as well, as the comparison would.
    """
    changes: list[Change] = []
    trailing: list[Change] = []
    for name, now in after.items():
        change: Change | None
        if isinstance(now, Sealed):
            change = Change(name, secret_changed=True) if now.token is not None else None
        elif now is None or (isinstance(now, float) and not math.isfinite(now)):
            change = None
        elif isinstance(now, (str, int, float)):
            change = Change(name, None, now)
        else:
            change = Change(name, None, now) if _canonical(now) != _NULL else None
        if change is not None:
            (trailing if name in _TRAILING_FIELDS else changes).append(change)
    return changes + trailing


_NULL = b"null"


def _token(value: Any) -> str | None:
    return value.token if isinstance(value, Sealed) else None


def _canonical(value: Any) -> bytes:
    # By the JSON each side stores: 1, 1.0 and true are different values.
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


class ConfigField(Protocol):
    """A provider configuration field: its API name and the column holding it."""

    @property
    def name(self) -> str: ...

    @property
    def column(self) -> str: ...


def phone_number_fields(row: PhoneNumber, config: Iterable[ConfigField], secret_columns: Mapping[str, str]) -> Fields:
    """A number as its events show it: PhoneNumber's fields, its provider configuration's fields
    under their own names (authToken, password, registerTransport...), and its version."""
    fields: dict[str, Any] = {
        "number": row.number,
        "name": row.name,
        "agentId": _id(row.agent_id),
        "metadata": row.metadata,
        "provider": _enum(row.provider),
        "sipMode": _enum(row.sip_mode),
    }
    for config_field in config:
        sealed_in = secret_columns.get(config_field.column)
        if sealed_in is not None:
            fields[config_field.name] = Sealed(getattr(row, sealed_in))
        else:
            fields[config_field.name] = _enum(getattr(row, config_field.column))
    fields["version"] = row.version
    return fields


def agent_fields(row: Agent) -> Fields:
    return {"name": row.name}


def api_key_fields(row: ApiKey) -> Fields:
    return {
        "name": row.name,
        "prefix": row.display_prefix,
        "scopes": [scope.name for scope in scopes.canonical(scopes.parse_stored(row.scopes))],
        "expiresAt": timestamp(row.expires_at),
        "revokedAt": timestamp(row.revoked_at),
    }


def untied_from_agent(agent_id: uuid.UUID, version: int) -> list[Change]:
    """What deleting its agent does to a number: exactly the diff of its agentId and version."""
    return [Change("agentId", str(agent_id), None), Change("version", version, version + 1)]


def timestamp(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _id(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def _enum(value: Any) -> Any:
    # GraphQL spells enum values by their names: TWILIO, REGISTRATION, UDP.
    return value.name if isinstance(value, Enum) else value


# --- recording ----------------------------------------------------------------------


async def record(
    actor: Actor,
    organization_id: uuid.UUID,
    action: AuditAction,
    targets: Sequence[tuple[uuid.UUID, list[Change]]],
    *,
    request_id: str | None = None,
    connection: BaseDBAsyncClient | None = None,
) -> None:
    """Append one event per (target id, changes), in the transaction of the change.

    Call it inside that transaction, after the write succeeded: it refuses to
    run outside one.
    """
    connection = connection or connections.get("default")
    if not isinstance(connection, TransactionalDBClient):
        raise NotInTransaction(f"{action.name} must be recorded in the transaction of its change")
    at = datetime.now(UTC)
    events = [
        AuditEvent(
            organization_id=organization_id,
            created_at=at,
            action=action,
            target_type=TARGET_TYPES[action],
            target_id=target_id,
            actor_type=actor.type,
            actor_key_id=actor.api_key_id,
            actor_name=actor.name,
            actor_prefix=actor.prefix,
            request_id=request_id or None,
            changes=[change.as_json() for change in changes],
        )
        for target_id, changes in targets
    ]
    if len(events) == 1:
        await events[0].save(force_create=True, using_db=connection)
    elif events:
        await AuditEvent.bulk_create(events, batch_size=INSERT_BATCH, using_db=connection)


async def record_change(
    ctx: RequestContext, action: AuditAction, target_id: uuid.UUID, before: Fields | None, after: Fields | None
) -> None:
    """The event of a request's change to one target, from its views before and after."""
    await record_request(ctx, action, [(target_id, diff(before, after))])


async def record_request(
    ctx: RequestContext,
    action: AuditAction,
    targets: Sequence[tuple[uuid.UUID, list[Change]]],
    connection: BaseDBAsyncClient | None = None,
) -> None:
    await record(actor_of(ctx), ctx.organization_id, action, targets, request_id=ctx.request_id, connection=connection)


# --- reading --------------------------------------------------------------------


@dataclass
class AuditEventFilter:
    target_id: str | None = None
    actor_key_id: str | None = None
    action: AuditAction | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def _filtered(ctx: RequestContext, where: AuditEventFilter) -> QuerySet[AuditEvent]:
    query = AuditEvent.filter(organization_id=ctx.organization_id)
    if where.target_id is not None:
        query = query.filter(target_id=_uuid("filter.targetId", where.target_id))
    if where.actor_key_id is not None:
        query = query.filter(actor_key_id=_uuid("filter.actorKeyId", where.actor_key_id))
    if where.action is not None:
        query = query.filter(action=where.action)
    since, until = _moment("filter.since", where.since), _moment("filter.until", where.until)
    if since is not None and until is not None and since >= until:
        raise InvalidArgument("filter.until", "filter.until must be later than filter.since")
    if since is not None:
        query = query.filter(created_at__gte=since)
    if until is not None:
        query = query.filter(created_at__lt=until)
    return query


def _uuid(argument: str, value: str) -> uuid.UUID:
    parsed = rules.parse_uuid(value)
    if parsed is None:
        raise InvalidArgument(argument, f"{argument} must be a UUID")
    return parsed


def _moment(argument: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise InvalidArgument(argument, f"{argument} must include a UTC offset, e.g. 2030-01-31T12:00:00Z")
    try:
        # In UTC, as every event is stored: SQLite compares times as text.
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidArgument(
            argument, f"{argument} is out of range: it falls outside the years 1 to 9999 in UTC"
        ) from None


def list_query(ctx: RequestContext, where: AuditEventFilter, position: Position | None) -> QuerySet[AuditEvent]:
    """The events a page is read from, before the position's own condition and the order.

    Each filter has an index that leads with the organization and it, then
    orders as the list does, so every page is one range of one index.
    """
    query = _filtered(ctx, where)
    if position is not None:
        # Implied by the position's own condition; stated so the index scan starts there.
        query = query.filter(created_at__lte=position.created_at)
    return query


async def list_audit_events(
    ctx: RequestContext, first: int, position: Position | None, where: AuditEventFilter
) -> Page[AuditEvent]:
    """Newest first."""
    return await keyset_page(list_query(ctx, where, position), first, position)


def event_changes(event: AuditEvent) -> list[Change]:
    return [Change.from_json(change) for change in event.changes]


# --- retention ------------------------------------------------------------------


async def delete_events_before(cutoff: datetime, batch_size: int) -> AsyncIterator[int]:
    """Delete every event made before `cutoff`, oldest first, one short transaction per batch;
    yield how many each batch deleted.

    Sweepers running at once (workers, hosts) take disjoint batches: on
    PostgreSQL a batch locks its rows and skips rows another has locked, so
    no row is deleted twice and no sweeper waits for another. A sweeper that
    finds a short batch stops; what another holds, that one deletes.
    """
    while True:
        async with in_transaction():
            batch = AuditEvent.filter(created_at__lt=cutoff).order_by("created_at", "id").limit(batch_size)
            ids = [event.id for event in await batch.select_for_update(skip_locked=True).only("id")]
            deleted = await AuditEvent.filter(id__in=ids).delete() if ids else 0
        yield deleted
        if len(ids) < batch_size:
            return


async def any_event_before(cutoff: datetime) -> bool:
    """One probe of the time index: whether a sweep has anything to do."""
    return await AuditEvent.filter(created_at__lt=cutoff).exists()

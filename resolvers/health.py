"""Storing what a check found: the number's current health, and an event for each change.

`record_check` is the one writer of `phone_number_health` results, used by
`verifyPhoneNumber`, `verify: true` and the monitor alike. It runs in one
transaction with the number's health row locked (PostgreSQL), so however
many processes store results for one number, each change of state is
recorded once.

Hysteresis (monitoring only): an OK number leaves OK after `failures`
consecutive failed results, a failing one returns to OK after `recoveries`
consecutive OK results. A check someone asked for (`hysteresis=None`) is
taken as it is. Between two kinds of failure (UNREACHABLE to AUTH_FAILED,
say) the state follows at once: the number is not OK either way, and the
newer reason is the useful one.

Each change is announced to subscribers (resolvers/health_events.py): on
PostgreSQL by a notification sent in the same transaction, delivered when it
commits; on SQLite once the event is stored, that is, when `record_check`
commits its own transaction, or when it returns inside a caller's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from pypika_tortoise import Order, Table
from pypika_tortoise.analytics import RowNumber
from tortoise import BaseDBAsyncClient, connections
from tortoise.transactions import in_transaction

from models import AuditAction, HealthState, PhoneNumber, PhoneNumberHealth, PhoneNumberHealthEvent
from resolvers import audit
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, UserError
from resolvers.health_events import HEALTH_CHANNEL, announce, hub, notification, notifies
from resolvers.owned import supports_row_locks
from resolvers.pagination import Page, Position
from resolvers.verification import CheckResult, CheckTarget, check

# Checks one organization may have running at once in one worker process; more wait their turn.
# Each holds a socket to a host the organization chose for up to SWITCHBOARD_VERIFY_TIMEOUT.
VERIFY_CONCURRENCY = 4
# The list's name in its cursors; a cursor is also bound to its number.
EVENTS_LIST_KIND = "phone_number_health_events"


@dataclass(frozen=True)
class Hysteresis:
    failures: int = 3  # SWITCHBOARD_HEALTH_FAILURES
    recoveries: int = 2  # SWITCHBOARD_HEALTH_RECOVERIES


@dataclass(frozen=True)
class Recorded:
    health: PhoneNumberHealth
    event: PhoneNumberHealthEvent | None  # set when this result changed the state


def now() -> datetime:
    return datetime.now(UTC)


async def locked_health(number: PhoneNumber, connection: BaseDBAsyncClient) -> PhoneNumberHealth:
    """The number's health row, created when missing, locked for this transaction where the database can."""
    await PhoneNumberHealth.bulk_create(
        [PhoneNumberHealth(phone_number_id=number.id, organization_id=number.organization_id)],
        ignore_conflicts=True,
        using_db=connection,
    )
    query = PhoneNumberHealth.filter(phone_number_id=number.id).using_db(connection)
    if supports_row_locks():
        query = query.select_for_update(no_key=True)
    health = await query.first()
    assert health is not None  # inserted above, and deleted only with its number (which we hold)
    return health


def _changes_state(health: PhoneNumberHealth, result: CheckResult, hysteresis: Hysteresis | None) -> bool:
    current = health.state
    if current is None or hysteresis is None:
        return result.state != current
    if result.state == current:
        return False
    if current == HealthState.OK:
        return health.failures + 1 >= hysteresis.failures
    if result.state == HealthState.OK:
        return health.successes + 1 >= hysteresis.recoveries
    return True


async def record_check(
    number: PhoneNumber,
    result: CheckResult,
    *,
    hysteresis: Hysteresis | None = None,
    at: datetime | None = None,
    connection: BaseDBAsyncClient | None = None,
) -> Recorded:
    """Store `result` as the latest check of `number`; one event when the state changes.

    Inside `connection`'s transaction when given (so a caller can commit it
    with its own writes), else in a transaction of its own.
    """
    if connection is None:
        async with in_transaction() as own:
            recorded = await _record(number, result, hysteresis, at, own)
        used: BaseDBAsyncClient = own
    else:
        recorded = await _record(number, result, hysteresis, at, connection)
        used = connection
    if recorded.event is not None and not notifies(used):
        hub.publish(recorded.event)
    return recorded


async def _record(
    number: PhoneNumber, result: CheckResult, hysteresis: Hysteresis | None, at: datetime | None, connection: BaseDBAsyncClient
) -> Recorded:
    at = at or now()
    health = await locked_health(number, connection)
    event = _apply(number, health, result, hysteresis, at)
    if event is not None:
        await event.save(using_db=connection)
        if notifies(connection):
            await announce(event, connection)
    # By filter, not health.save(): Tortoise's SQLite client can't bind the UUID of a one-to-one primary key in save's WHERE.
    await PhoneNumberHealth.filter(phone_number_id=number.id).using_db(connection).update(
        **{name: getattr(health, name) for name in _RESULT_FIELDS}
    )
    return Recorded(health, event)


_RESULT_FIELDS = ("state", "detail", "sip_status_code", "latency_ms", "checked_at", "since", "failures", "successes")


def _apply(
    number: PhoneNumber, health: PhoneNumberHealth, result: CheckResult, hysteresis: Hysteresis | None, at: datetime
) -> PhoneNumberHealthEvent | None:
    """Apply `result` to `health` in memory; the event to store when it changes the state."""
    event = None
    if _changes_state(health, result, hysteresis):
        event = PhoneNumberHealthEvent(
            organization_id=number.organization_id,
            phone_number_id=number.id,
            at=at,
            from_state=health.state,
            to_state=result.state,
            detail=result.detail,
            sip_status_code=result.sip_status_code,
            latency_ms=result.latency_ms,
        )
        health.state = result.state
        health.since = at
        health.failures = health.successes = 0
    elif result.state == health.state:
        health.failures = health.successes = 0
    elif result.state == HealthState.OK:
        health.successes += 1
    else:
        health.failures += 1
    if result.state == health.state:
        # What the shown state rests on; a result that hysteresis holds back is not shown as if it were.
        health.detail = result.detail
        health.sip_status_code = result.sip_status_code
        health.latency_ms = result.latency_ms
    health.checked_at = at
    return event


_UPDATE_BATCH = """
UPDATE phone_number_health AS h SET
  state = v.state, detail = v.detail, sip_status_code = v.sip_status_code, latency_ms = v.latency_ms,
  checked_at = v.checked_at, since = v.since, failures = v.failures, successes = v.successes, lease_until = NULL
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::int[], $6::timestamptz[], $7::timestamptz[], $8::int[], $9::int[])
  AS v(id, state, detail, sip_status_code, latency_ms, checked_at, since, failures, successes)
WHERE h.phone_number_id = v.id
"""


async def record_monitored_checks(
    results: list[tuple[PhoneNumber, CheckResult]], *, hysteresis: Hysteresis, at: datetime | None = None
) -> list[Recorded]:
    """What a monitor found for several numbers, in one short transaction; each number's lease ends.

    The same rules as `record_check`, in a constant number of statements on
    PostgreSQL however many results: the rows locked at once, the events
    inserted and announced together, the rows updated in one statement. A
    number deleted meanwhile (its health row gone with it) is left out.
    """
    at = at or now()
    recorded: list[Recorded] = []
    async with in_transaction() as connection:
        if not notifies(connection):
            # SQLite: one process, no row locks; a result at a time within the one transaction.
            for number, result in results:
                if await PhoneNumberHealth.filter(phone_number_id=number.id).using_db(connection).exists():
                    recorded.append(await _record(number, result, hysteresis, at, connection))
                    await PhoneNumberHealth.filter(phone_number_id=number.id).using_db(connection).update(lease_until=None)
        else:
            ids = [number.id for number, _ in results]
            rows = await PhoneNumberHealth.filter(phone_number_id__in=ids).using_db(connection).select_for_update(no_key=True)
            by_id = {row.phone_number_id: row for row in rows}
            events = []
            for number, result in results:
                health = by_id.get(number.id)
                if health is None:
                    continue
                event = _apply(number, health, result, hysteresis, at)
                if event is not None:
                    events.append(event)
                recorded.append(Recorded(health, event))
            if events:
                await PhoneNumberHealthEvent.bulk_create(events, using_db=connection)
                await connection.execute_query(
                    "SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n", [HEALTH_CHANNEL, [notification(e) for e in events]]
                )
            if recorded:
                healths = [r.health for r in recorded]
                await connection.execute_query(
                    _UPDATE_BATCH,
                    [
                        [h.phone_number_id for h in healths],
                        [h.state.value if h.state is not None else None for h in healths],
                        [h.detail for h in healths],
                        [h.sip_status_code for h in healths],
                        [h.latency_ms for h in healths],
                        [h.checked_at for h in healths],
                        [h.since for h in healths],
                        [h.failures for h in healths],
                        [h.successes for h in healths],
                    ],
                )
    if not notifies(connection):
        for r in recorded:
            if r.event is not None:
                hub.publish(r.event)
    return recorded


# --- checks asked for through the API -------------------------------------------------


class _Slots:
    """At most VERIFY_CONCURRENCY checks per organization at once in this process."""

    def __init__(self) -> None:
        self._semaphores: dict[uuid.UUID, asyncio.Semaphore] = {}
        self._users: dict[uuid.UUID, int] = {}

    @asynccontextmanager
    async def slot(self, organization_id: uuid.UUID) -> AsyncIterator[None]:
        semaphore = self._semaphores.setdefault(organization_id, asyncio.Semaphore(VERIFY_CONCURRENCY))
        self._users[organization_id] = self._users.get(organization_id, 0) + 1
        try:
            async with semaphore:
                yield
        finally:
            self._users[organization_id] -= 1
            if self._users[organization_id] == 0:
                # Forget idle organizations: the table stays as small as the checks running.
                del self._users[organization_id], self._semaphores[organization_id]


_slots = _Slots()


async def run_check(ctx: RequestContext, target: CheckTarget) -> CheckResult:
    """Check `target` now with the operator's options, within the organization's share of checks."""
    async with _slots.slot(ctx.organization_id):
        return await check(target, ctx.policy.checks)


def verification_failed(result: CheckResult) -> UserError:
    """`verify: true` refused: the check's state and detail, on the provider the input gave."""
    return UserError(
        ("provider",),
        f"The provider check failed ({result.state.name}): {result.detail} Nothing was saved.",
        ErrorCode.VERIFICATION_FAILED,
    )


def unsaved_health(number_id: uuid.UUID, organization_id: uuid.UUID, result: CheckResult) -> PhoneNumberHealth:
    """The health a check would store on a number without a stored state, for a dry run's answer."""
    at = now()
    return PhoneNumberHealth(
        phone_number_id=number_id,
        organization_id=organization_id,
        state=result.state,
        detail=result.detail,
        sip_status_code=result.sip_status_code,
        latency_ms=result.latency_ms,
        checked_at=at,
        since=at,
    )


async def store_check(ctx: RequestContext, number: PhoneNumber, result: CheckResult, connection: BaseDBAsyncClient) -> Recorded:
    """record_check for a request: the audit log gets PHONE_NUMBER_VERIFIED when the state changed, in the same transaction."""
    recorded = await record_check(number, result, hysteresis=None, connection=connection)
    if recorded.event is not None:
        before = {"health": _state_name(recorded.event.from_state)}
        after = {"health": _state_name(recorded.event.to_state)}
        await audit.record_request(
            ctx, AuditAction.PHONE_NUMBER_VERIFIED, [(number.id, audit.diff(before, after))], connection=connection
        )
    return recorded


def _state_name(state: HealthState | None) -> str | None:
    return None if state is None else state.name


async def clear_health(number_id: uuid.UUID, connection: BaseDBAsyncClient) -> None:
    """Forget what checks found: the number's configuration changed, so health no longer describes it.

    Events stay: they are the history. The next check's event starts from null.
    """
    await PhoneNumberHealth.filter(phone_number_id=number_id).using_db(connection).update(
        state=None, detail=None, sip_status_code=None, latency_ms=None, checked_at=None, since=None, failures=0, successes=0
    )


# --- reads ------------------------------------------------------------------------------


async def health_by_number(ctx: RequestContext, number_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, PhoneNumberHealth]:
    """The checked health of each number of the organization among `number_ids`, in one query."""
    rows = await PhoneNumberHealth.filter(
        organization_id=ctx.organization_id, phone_number_id__in=list(number_ids), state__isnull=False
    )
    return {row.phone_number_id: row for row in rows}


async def event_pages(
    ctx: RequestContext, number_ids: Iterable[uuid.UUID], first: int, position: Position | None
) -> dict[uuid.UUID, Page[PhoneNumberHealthEvent]]:
    """The same page of events, newest first, for each of several numbers, in two queries.

    ROW_NUMBER() per number picks at most first + 1 events of each, however
    many a number has; they are then loaded by id.
    """
    number_ids = list(number_ids)
    connection = connections.get("default")
    events = Table("phone_number_health_events")
    position_in_number = (
        RowNumber()
        .over(events.phone_number_id)
        .orderby(events.at, order=Order.desc)
        .orderby(events.id, order=Order.desc)
        .as_("position_in_number")
    )
    ranked = (
        connection.query_class.from_(events)
        .select(events.id, position_in_number)
        .where(events.organization_id == str(ctx.organization_id))
        .where(events.phone_number_id.isin([str(n) for n in number_ids]))
    )
    if position is not None:
        ranked = ranked.where(
            (events.at < position.created_at) | ((events.at == position.created_at) & (events.id < str(position.id)))
        )
    query = connection.query_class.from_(ranked).select(ranked.id).where(ranked.position_in_number <= first + 1)
    sql, params = query.get_parameterized_sql()
    ids = [row["id"] for row in await connection.execute_query_dict(sql, params)]
    rows = await PhoneNumberHealthEvent.filter(id__in=ids).order_by("-at", "-id") if ids else []
    pages: dict[uuid.UUID, Page[PhoneNumberHealthEvent]] = {n: Page([], False) for n in number_ids}
    for row in rows:
        page = pages[row.phone_number_id]
        if len(page.rows) == first:
            page.has_next_page = True
        else:
            page.rows.append(row)
    return pages

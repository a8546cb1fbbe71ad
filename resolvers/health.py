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

from dataclasses import dataclass
from datetime import datetime, timezone

from tortoise import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import HealthState, PhoneNumber, PhoneNumberHealth, PhoneNumberHealthEvent
from resolvers.health_events import HEALTH_CHANNEL, announce, hub, notification, notifies
from resolvers.owned import supports_row_locks
from resolvers.verification import CheckResult


@dataclass(frozen=True)
class Hysteresis:
    failures: int = 3  # SWITCHBOARD_HEALTH_FAILURES
    recoveries: int = 2  # SWITCHBOARD_HEALTH_RECOVERIES


@dataclass(frozen=True)
class Recorded:
    health: PhoneNumberHealth
    event: PhoneNumberHealthEvent | None  # set when this result changed the state


def now() -> datetime:
    return datetime.now(timezone.utc)


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

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
from resolvers.health_events import announce, hub, notifies
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
    event = None
    if _changes_state(health, result, hysteresis):
        event = await PhoneNumberHealthEvent.create(
            organization_id=number.organization_id,
            phone_number_id=number.id,
            at=at,
            from_state=health.state,
            to_state=result.state,
            detail=result.detail,
            sip_status_code=result.sip_status_code,
            latency_ms=result.latency_ms,
            using_db=connection,
        )
        if notifies(connection):
            await announce(event, connection)
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
    # By filter, not health.save(): Tortoise's SQLite client can't bind the UUID of a one-to-one primary key in save's WHERE.
    fields = ("state", "detail", "sip_status_code", "latency_ms", "checked_at", "since", "failures", "successes")
    await PhoneNumberHealth.filter(phone_number_id=number.id).using_db(connection).update(
        **{name: getattr(health, name) for name in fields}
    )
    return Recorded(health, event)

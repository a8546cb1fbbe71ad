"""Claims of due numbers (resolvers/monitoring.py), on SQLite and PostgreSQL.

The processes' side (two workers, one event per change) is tests/system/test_monitoring.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models import PhoneNumberHealth
from resolvers.monitoring import adopt_new_numbers, claim_due
from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.helpers import create_number

INTERVAL = timedelta(seconds=300)
LEASE = timedelta(seconds=10)


def at(seconds: float = 0) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def test_new_numbers_get_a_row_due_at_once_and_once_only(app: Any, api: Api) -> None:
    numbers = [await create_number(api, n) for n in range(3)]
    assert await adopt_new_numbers(2) == 2
    assert await adopt_new_numbers(10) == 1
    assert await adopt_new_numbers(10) == 0
    rows = await stored_rows("phone_number_health")
    assert sorted(str(r["phone_number_id"]) for r in rows) == sorted(n["id"] for n in numbers)
    assert {r["next_check_at"] for r in rows} == {None} and {r["state"] for r in rows} == {None}


async def test_each_due_number_is_claimed_once_per_interval_by_concurrent_claims(app: Any, api: Api) -> None:
    numbers = {(await create_number(api, n))["id"] for n in range(12)}
    await adopt_new_numbers(100)
    now = at()
    claims = await asyncio.gather(*(claim_due(4, now=now, interval=INTERVAL, lease=LEASE) for _ in range(5)))
    claimed = [str(number.id) for claim in claims for number in claim]
    assert sorted(claimed) == sorted(numbers), "every number once, none twice"
    # Not due again within the interval, even once the lease has passed.
    assert await claim_due(100, now=at(LEASE.total_seconds() + 1), interval=INTERVAL, lease=LEASE) == []
    again = await claim_due(100, now=at(INTERVAL.total_seconds() + 1), interval=INTERVAL, lease=LEASE)
    assert {str(n.id) for n in again} == numbers


async def test_a_leased_number_is_not_claimed_while_its_check_runs(app: Any, api: Api) -> None:
    number = await create_number(api, 1)
    await adopt_new_numbers(10)
    short = timedelta(seconds=1)
    assert [str(n.id) for n in await claim_due(10, now=at(), interval=short, lease=LEASE)] == [number["id"]]
    # Due again after a second, but its check still holds the lease.
    assert await claim_due(10, now=at(2), interval=short, lease=LEASE) == []
    await PhoneNumberHealth.filter(phone_number_id=number["id"]).update(lease_until=None)
    assert [str(n.id) for n in await claim_due(10, now=at(2), interval=short, lease=LEASE)] == [number["id"]]


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_on_sqlite_a_claim_waits_for_another_writer_instead_of_failing(
    app: Any, api: Api, settings: Settings
) -> None:
    """Another writer commits while the claim waits: a claim that read first would then fail as busy."""
    number = await create_number(api, 1)
    await adopt_new_numbers(10)
    other = sqlite3.connect(settings.database_url.removeprefix("sqlite://"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE phone_number_health SET failures = failures")
    asyncio.get_running_loop().call_later(0.5, other.commit)
    try:
        claimed = await claim_due(10, now=at(), interval=INTERVAL, lease=LEASE)
    finally:
        other.close()
    assert [str(n.id) for n in claimed] == [number["id"]]

"""SWITCHBOARD_AUDIT_RETENTION_DAYS: old events are deleted in small batches, by every server, never twice.

The tests that need real processes are in tests/system/test_audit_retention_processes.py.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from resolvers.audit import delete_events_before
from switchboard.audit_retention import AuditRetention
from switchboard.db import connect_postgres
from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.audit_helpers import all_events, events_aged, stored_ids
from tests.support.helpers import create_number

# Every app these tests start sweeps by the default retention, 365 days, in
# the background: the events they age stay younger, so only the sweeps under
# test ever delete them.


async def test_events_before_the_cutoff_go_in_batches_the_rest_stay(api: Api) -> None:
    now = datetime.now(UTC)
    old = await events_aged([timedelta(days=100 + n) for n in range(5)], now)
    at_the_cutoff = await events_aged([timedelta(days=90)], now)
    recent = await events_aged([timedelta(days=89), timedelta(days=1)], now)
    cutoff = now - timedelta(days=90)
    kept = await stored_ids() - {str(i) for i in old}

    batches = [deleted async for deleted in delete_events_before(cutoff, 2)]

    assert batches == [2, 2, 1]
    assert await stored_ids() == kept
    assert {str(i) for i in at_the_cutoff + recent} <= kept


async def test_a_sweep_deletes_what_is_past_retention_and_says_how_much(api: Api) -> None:
    await create_number(api, 1)
    await events_aged([timedelta(days=31), timedelta(days=90), timedelta(days=29)])
    retention = AuditRetention(retention_days=30)

    assert await retention.sweep() == 2
    assert await retention.sweep() == 0
    events = await all_events(api)
    assert [e["action"] for e in events] == ["PHONE_NUMBER_CREATED", "API_KEY_CREATED", "AGENT_CREATED"]


async def test_a_sweep_skips_rows_another_sweep_holds_and_never_waits_for_it(api: Api, settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite serves from one process: there is no other sweep to meet")
    old = await events_aged([timedelta(days=100 + n) for n in range(6)])
    held = old[:2]
    other = await connect_postgres(settings.database_url)
    try:
        transaction = other.transaction()
        await transaction.start()
        # As another worker's batch does, mid-way: its rows locked until it commits.
        await other.execute("SELECT id FROM audit_events WHERE id = ANY($1::uuid[]) FOR UPDATE", held)

        # A sweep that waited for those rows would never end while they are held.
        deleted = await asyncio.wait_for(AuditRetention(retention_days=90).sweep(), timeout=60)

        assert deleted == 4
        assert {str(i) for i in held} <= await stored_ids()
        await other.execute("DELETE FROM audit_events WHERE id = ANY($1::uuid[])", held)
        await transaction.commit()
    finally:
        await other.close()
    assert not {str(i) for i in old} & await stored_ids()

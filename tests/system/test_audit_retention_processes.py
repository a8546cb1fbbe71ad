"""SWITCHBOARD_AUDIT_RETENTION_DAYS: old events are deleted in small batches, by every server, never twice.

These are the tests that need real processes; the in-process ones are in
tests/api/test_audit_retention.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

from models import (
    AuditAction,
    AuditActorType,
    AuditEvent,
    AuditTargetType,
    Organization,
)
from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.servers import Servers

# Every app these tests start sweeps by the default retention, 365 days, in
# the background: the events they age stay younger, so only the sweeps under
# test ever delete them.


async def events_aged(ages: list[timedelta], now: datetime | None = None) -> list[uuid.UUID]:
    """Events of Acme made `age` before now each, as a server of that time recorded them."""
    now = now or datetime.now(UTC)
    organization = await Organization.get(name="Acme")
    events = [
        AuditEvent(
            organization_id=organization.id,
            created_at=now - age,
            action=AuditAction.AGENT_CREATED,
            target_type=AuditTargetType.AGENT,
            target_id=uuid.uuid4(),
            actor_type=AuditActorType.API_KEY,
            actor_key_id=uuid.uuid4(),
            actor_name="old key",
            actor_prefix="sb_live_0ld0",
            changes=[{"field": "name", "before": None, "after": f"agent {n}", "secretChanged": False}],
        )
        for n, age in enumerate(ages)
    ]
    await AuditEvent.bulk_create(events)
    return [event.id for event in events]


async def stored_ids() -> set[str]:
    return {str(row["id"]) for row in await stored_rows("audit_events")}


async def test_serve_enforces_retention_on_its_own(api: Api, settings: Settings, servers: Servers) -> None:
    old = await events_aged([timedelta(days=31), timedelta(days=45)])
    recent = await events_aged([timedelta(days=29)])

    server = servers.start(settings, SWITCHBOARD_AUDIT_RETENTION_DAYS="30")

    # Each worker sweeps within ten seconds of starting; wait well beyond, for the deletion and its log line.
    deadline = time.monotonic() + 60
    while {str(i) for i in old} & await stored_ids() or "audit retention: deleted 2 events" not in server.log():
        assert time.monotonic() < deadline, f"the server never swept:\n{server.log()}"
        await asyncio.sleep(0.5)
    assert {str(i) for i in recent} <= await stored_ids()

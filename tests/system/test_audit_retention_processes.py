"""SWITCHBOARD_AUDIT_RETENTION_DAYS: old events are deleted in small batches, by every server, never twice.

These are the tests that need real processes; the in-process ones are in
tests/api/test_audit_retention.py.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.audit_helpers import events_aged, stored_ids
from tests.support.servers import Servers

# Every app these tests start sweeps by the default retention, 365 days, in
# the background: the events they age stay younger, so only the sweeps under
# test ever delete them.


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

"""Deletes audit events older than SWITCHBOARD_AUDIT_RETENTION_DAYS, from every server process.

Each worker sweeps a few seconds after it starts, then about every
SWEEP_INTERVAL_SECONDS (jittered, so workers started together drift apart).
A sweep first probes the time index for anything old enough, one index
lookup and the whole cost of most sweeps, then deletes in batches of
BATCH_SIZE events, each its own short transaction, pausing between batches
so requests are served meanwhile. Workers and hosts sweeping at once take
disjoint batches (resolvers/audit.py), so no event is deleted twice and no
sweep waits for another: nothing needs electing, and no scheduler outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import UTC, datetime, timedelta

from resolvers.audit import any_event_before, delete_events_before

log = logging.getLogger("switchboard")

SWEEP_INTERVAL_SECONDS = 3600.0
FIRST_SWEEP_SECONDS = (1.0, 10.0)
BATCH_SIZE = 500
BATCH_PAUSE_SECONDS = 0.05


class AuditRetention:
    def __init__(self, retention_days: int) -> None:
        self.retention = timedelta(days=retention_days)
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def sweep(self) -> int:
        """Delete every event past retention now; return how many."""
        cutoff = datetime.now(UTC) - self.retention
        if not await any_event_before(cutoff):
            return 0
        total = 0
        async for deleted in delete_events_before(cutoff, BATCH_SIZE):
            total += deleted
            await asyncio.sleep(BATCH_PAUSE_SECONDS)
        log.info("audit retention: deleted %d events made before %s", total, cutoff.isoformat())
        return total

    async def _run(self) -> None:
        await asyncio.sleep(random.uniform(*FIRST_SWEEP_SECONDS))
        while True:
            try:
                await self.sweep()
                if self._failing:
                    log.info("audit retention: sweeping works again")
                self._failing = False
            except Exception as error:  # the next sweep tries again; one warning per outage
                if not self._failing:
                    log.warning("audit retention: sweep failed (%s); trying again at the next interval", type(error).__name__)
                self._failing = True
            await asyncio.sleep(SWEEP_INTERVAL_SECONDS * random.uniform(0.9, 1.1))

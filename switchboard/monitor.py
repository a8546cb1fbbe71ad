"""Monitoring: every worker process re-checks due numbers' providers in the background.

Each worker of `switchboard serve` (on every host) runs one Monitor beside
the API. About every POLL_SECONDS it claims due numbers, at most as many as
it has free check slots (SWITCHBOARD_HEALTH_CONCURRENCY), in one short
transaction (resolvers/monitoring.py: on PostgreSQL, FOR UPDATE SKIP LOCKED
leases, so each number is checked by one process per interval), and runs
their checks concurrently. Results are stored with hysteresis in batches,
each batch one short transaction (resolvers/health.py), which announces
each change of state. Checks wait on the network, not the database: a
process's monitor holds at most DATABASE_SLOTS database connections at a
time, so the API keeps the rest of the pool, and the database work per
check is a fraction of a statement. Stopping (SIGTERM) cancels the checks
in flight and the results not yet stored; their leases expire and another
monitor takes them up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import datetime, timedelta, timezone

from models import PhoneNumber
from models.secrets import SecretBox, SecretDecryptionError
from resolvers.health import Hysteresis, record_monitored_checks
from resolvers.monitoring import adopt_new_numbers, claim_due
from resolvers.verification import CheckOptions, CheckResult, check, target_for_row
from switchboard.settings import Settings

log = logging.getLogger("switchboard.monitor")

# How often an idle monitor looks for due numbers, at most (and at least twice an interval).
POLL_SECONDS = 1.0
# How often it gives new numbers a health row; each time, at most ADOPT_BATCH of them.
ADOPT_SECONDS = 30.0
ADOPT_BATCH = 1000
# Results stored in one transaction, at most.
RECORD_BATCH = 50
# Database connections a process's monitor may hold at once, each for one short query or
# transaction; the pool (5 per process) keeps the rest for the API.
DATABASE_SLOTS = 2
# A lease outlasts the longest check by this much, so no other monitor starts the same check meanwhile.
LEASE_MARGIN_SECONDS = 5.0


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Monitor:
    def __init__(self, settings: Settings, secrets: SecretBox) -> None:
        self.interval = timedelta(seconds=settings.health_interval)
        self.lease = timedelta(seconds=settings.verify_timeout + LEASE_MARGIN_SECONDS)
        self.concurrency = settings.health_concurrency
        self.hysteresis = Hysteresis(settings.health_failures, settings.health_recoveries)
        self.options = CheckOptions(
            timeout=settings.verify_timeout,
            allow_local_targets=settings.allow_local_targets,
            twilio_api_url=settings.twilio_api_url,
        )
        self.poll = min(POLL_SECONDS, settings.health_interval / 2)
        self.secrets = secrets
        self._database = asyncio.Semaphore(DATABASE_SLOTS)
        self._running: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._results: list[tuple[PhoneNumber, CheckResult]] = []
        self._recorder: asyncio.Task[None] | None = None
        self._failing = False
        self._recording_failed = False
        self._adopted_at = -ADOPT_SECONDS

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        tasks = [t for t in (self._task, self._recorder, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        # Workers started together drift apart.
        await asyncio.sleep(random.uniform(0, self.poll))
        while True:
            free = self.concurrency - len(self._running)
            claimed = 0
            try:
                await self._adopt()
                if free > 0:
                    async with self._database:
                        numbers = await claim_due(free, now=utcnow(), interval=self.interval, lease=self.lease)
                    claimed = len(numbers)
                    for number in numbers:
                        self._spawn(number)
                if self._failing:
                    log.info("monitoring: claiming numbers works again")
                self._failing = False
            except Exception as error:  # the next poll tries again; one warning per outage
                if not self._failing:
                    log.warning("monitoring: could not claim numbers to check (%s); trying again", type(error).__name__)
                self._failing = True
            if free > 0 and claimed == free:
                self._slot_freed.clear()
                # More may be due: claim again as soon as a check ends.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._slot_freed.wait(), self.poll)
            else:
                await asyncio.sleep(self.poll * random.uniform(0.8, 1.2))

    async def _adopt(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() - self._adopted_at >= min(ADOPT_SECONDS, self.interval.total_seconds()):
            self._adopted_at = loop.time()
            async with self._database:
                await adopt_new_numbers(ADOPT_BATCH)

    def _spawn(self, number: PhoneNumber) -> None:
        task = asyncio.get_running_loop().create_task(self._check(number))
        self._running.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._slot_freed.set()

    async def _check(self, number: PhoneNumber) -> None:
        try:
            target = target_for_row(number, self.secrets)
        except SecretDecryptionError:
            log.warning(
                "monitoring: a secret of phone number %s cannot be decrypted with SWITCHBOARD_ENCRYPTION_KEYS; not checked",
                number.id,
                extra={"phone_number_id": str(number.id)},
            )
            return
        result = await check(target, self.options)
        self._results.append((number, result))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.get_running_loop().create_task(self._record())

    async def _record(self) -> None:
        """Store the results waiting, a batch at a time, until none wait."""
        while self._results:
            batch, self._results = self._results[:RECORD_BATCH], self._results[RECORD_BATCH:]
            try:
                async with self._database:
                    recorded = await record_monitored_checks(batch, hysteresis=self.hysteresis)
                if self._recording_failed:
                    log.info("monitoring: storing results works again")
                self._recording_failed = False
            except Exception as error:  # these numbers are checked again next interval; one warning per outage
                if not self._recording_failed:
                    log.warning(
                        "monitoring: could not store %d check results (%s); they are checked again next interval",
                        len(batch),
                        type(error).__name__,
                    )
                self._recording_failed = True
                continue
            for change in (r.event for r in recorded if r.event is not None):
                log.info(
                    "phone number %s is now %s: %s",
                    change.phone_number_id,
                    change.to_state.name,
                    change.detail,
                    extra={"phone_number_id": str(change.phone_number_id), "organization_id": str(change.organization_id)},
                )


async def run_monitor(settings: Settings, secrets: SecretBox) -> None:
    """`switchboard monitor`: a monitor in a process of its own, until SIGTERM or SIGINT."""
    import signal

    from tortoise import Tortoise

    from switchboard.db import tortoise_config

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await Tortoise.init(config=tortoise_config(settings.database_url))
    monitor = Monitor(settings, secrets)
    monitor.start()
    log.info(
        "monitoring every %d s, %d checks at a time (SIGTERM stops)", settings.health_interval, settings.health_concurrency
    )
    try:
        await stop.wait()
    finally:
        await monitor.stop()
        await Tortoise.close_connections()
    log.info("monitoring stopped")

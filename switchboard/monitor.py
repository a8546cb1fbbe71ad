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
from datetime import UTC, datetime, timedelta

from models import PhoneNumber
from models.secrets import SecretBox, SecretDecryptionError
from resolvers.health import Hysteresis, record_monitored_checks
from resolvers.monitoring import adopt_new_numbers, claim_due
from resolvers.verification import CheckOptions, CheckResult, check, target_for_row
from switchboard.settings import Settings
from switchboard.waiting import wait_at_most

log = logging.getLogger("switchboard.monitor")

# How often an idle monitor looks for due numbers, at most (and at least twice an interval).
POLL_SECONDS = 1.0
# How often it gives new numbers a health row; each time, at most ADOPT_BATCH of them.
ADOPT_SECONDS = 30.0
ADOPT_BATCH = 1000
# Results stored in one transaction, at most.
RECORD_BATCH = 50
# How long the first result waits for others to be stored with it.
RECORD_DELAY_SECONDS = 0.25
# Database connections a process's monitor may hold at once, each for one short query or
# transaction; the pool (5 per process) keeps the rest for the API.
DATABASE_SLOTS = 2
# A stop waits this long for a claim or a batch of results being stored to end, then cancels it.
STOP_SECONDS = 5.0
# A lease outlasts the longest check by this much, so no other monitor starts the same check meanwhile.
LEASE_MARGIN_SECONDS = 5.0


def utcnow() -> datetime:
    return datetime.now(UTC)


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
            log_level=logging.DEBUG,
        )
        self.poll = min(POLL_SECONDS, settings.health_interval / 2)
        self.secrets = secrets
        self._database = asyncio.Semaphore(DATABASE_SLOTS)
        self._running: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()
        self._claim_at_least = max(1, self.concurrency // 2)
        self._task: asyncio.Task[None] | None = None
        self._results: list[tuple[PhoneNumber, CheckResult]] = []
        self._recorder: asyncio.Task[None] | None = None
        self._failing = False
        self._recording_failed = False
        self._adopted_at = -ADOPT_SECONDS
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop within STOP_SECONDS, leaving the database as a stop at any moment may.

        Claiming ends at its next pause: a claim or adoption under way ends
        its short transaction first, rather than being cancelled in it.
        Checks in flight only wait on the network and are cancelled; their
        leases expire and another monitor takes them up. The batch of results
        being stored is stored; results still waiting are left, their
        numbers checked again next interval. Whatever has not ended within
        the bound (a database that does not answer) is cancelled.
        """
        self._stopping.set()
        self._slot_freed.set()
        for task in self._running:
            task.cancel()
        self._results.clear()
        pending = {t for t in (self._task, self._recorder, *self._running) if t is not None}
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=STOP_SECONDS)
        for task in late:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _pause(self, seconds: float) -> None:
        """Wait `seconds`, or less when stopping."""
        await wait_at_most(self._stopping, seconds)

    async def _run(self) -> None:
        # Workers started together drift apart.
        await self._pause(random.uniform(0, self.poll))
        while not self._stopping.is_set():
            free = self.concurrency - len(self._running)
            claimed = 0
            try:
                await self._adopt()
                if free > 0 and not self._stopping.is_set():
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
                await wait_at_most(self._slot_freed, self.poll)
            else:
                await self._pause(self.poll * random.uniform(0.8, 1.2))

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
        # Claims are made for half the slots at least, not one at a time as checks end:
        # a claim is a transaction, whichever number of rows it takes.
        if self.concurrency - len(self._running) >= self._claim_at_least:
            self._slot_freed.set()

    async def _check(self, number: PhoneNumber) -> None:
        try:
            target = target_for_row(number, self.secrets)
        except SecretDecryptionError:
            log.warning(
                "monitoring: a secret of phone number %s cannot be decrypted with "
                "SWITCHBOARD_ENCRYPTION_KEYS; not checked",
                number.id,
                extra={"phone_number_id": str(number.id)},
            )
            return
        result = await check(target, self.options)
        if self._stopping.is_set():
            return
        self._results.append((number, result))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.get_running_loop().create_task(self._record())

    async def _record(self) -> None:
        """Store the results waiting, a batch at a time, until none wait.

        The first batch waits up to RECORD_DELAY_SECONDS for more results to
        join it: storing is a transaction, whichever number of rows it holds.
        """
        if len(self._results) < RECORD_BATCH:
            await self._pause(RECORD_DELAY_SECONDS)
        while self._results and not self._stopping.is_set():
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
                    extra={
                        "phone_number_id": str(change.phone_number_id),
                        "organization_id": str(change.organization_id),
                    },
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
        "monitoring every %d s, %d checks at a time (SIGTERM stops)",
        settings.health_interval,
        settings.health_concurrency,
    )
    try:
        await stop.wait()
    finally:
        await monitor.stop()
        await Tortoise.close_connections()
    log.info("monitoring stopped")

"""Hands this process's subscriptions each health event recorded by any process or host (PostgreSQL).

One connection of its own per worker, outside Tortoise's pool, LISTENs on
HEALTH_CHANNEL (resolvers/health_events.py). A notification names an event
and its organization; when this process has a subscription of that
organization, the event is read (once, however many subscribe) and handed
to the hub, in the order the notifications came. A lost connection, or a
heartbeat unanswered within HEARTBEAT_SECONDS, is reconnected with backoff
and logged once per outage; events recorded meanwhile are not replayed
(subscribers read `healthEvents` for the history).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from models import PhoneNumberHealthEvent
from resolvers.health_events import HEALTH_CHANNEL, hub, parse_notification
from switchboard.db import connect_postgres
from switchboard.waiting import wait_at_most

log = logging.getLogger("switchboard")

HEARTBEAT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 5.0
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
APPLICATION_NAME = "switchboard health changes"


class HealthChangeListener:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: asyncio.Queue[tuple[uuid.UUID, uuid.UUID]] = asyncio.Queue()
        self._listening = asyncio.Event()
        self._failures = 0

    async def start(self) -> None:
        """Start in the background; returns once the first attempt has listened or failed."""
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._run()), loop.create_task(self._deliver())]
        await wait_at_most(self._listening, CONNECT_TIMEOUT_SECONDS * 2)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except Exception as error:  # whatever broke, try again
                self._listening.set()
                if self._failures == 0:
                    log.warning(
                        "health events: no notification connection to the database (%s); "
                        "subscribers here miss changes until it is back",
                        type(error).__name__,
                    )
                self._failures += 1
            await asyncio.sleep(RETRY_SECONDS[min(self._failures, len(RETRY_SECONDS)) - 1])

    async def _listen(self) -> None:
        lost = asyncio.Event()
        connection = await connect_postgres(
            self.database_url, timeout=CONNECT_TIMEOUT_SECONDS, server_settings={"application_name": APPLICATION_NAME}
        )
        try:
            connection.add_termination_listener(lambda _: lost.set())
            await connection.add_listener(HEALTH_CHANNEL, self._notified)
            self._listening.set()
            if self._failures:
                log.info("health events: notification connection to the database is back")
                self._failures = 0
            while not lost.is_set():
                await connection.fetchval("SELECT 1", timeout=HEARTBEAT_SECONDS)
                await wait_at_most(lost, HEARTBEAT_SECONDS)
            raise ConnectionResetError("the notification connection closed")
        finally:
            connection.terminate()

    def _notified(self, connection: object, pid: int, channel: str, payload: object) -> None:
        # asyncpg's listener type takes the payload as object; NOTIFY's payload is always text, a str.
        parsed = parse_notification(str(payload))
        if parsed is not None and hub.wants(parsed[1]):
            self._pending.put_nowait(parsed)

    async def _deliver(self) -> None:
        while True:
            event_id, organization_id = await self._pending.get()
            if not hub.wants(organization_id):
                continue
            try:
                event = await PhoneNumberHealthEvent.get_or_none(id=event_id, organization_id=organization_id)
            except Exception as error:  # the database is away: this event is missed, the next may not be
                log.warning("health events: could not read event %s (%s)", event_id, type(error).__name__)
                continue
            if event is not None:
                hub.publish(event)

"""Hands this process's subscriptions each health event recorded by any process or host (PostgreSQL).

One connection of its own per worker (switchboard/listening.py), outside Tortoise's pool, LISTENs on
HEALTH_CHANNEL (resolvers/health_events.py). A notification names an event
and its organization; when this process has a subscription of that
organization, the event is read (once, however many subscribe) and handed
to the hub, in the order the notifications came. A lost connection, or a
heartbeat unanswered within 5 s, is reconnected with backoff
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
from switchboard.listening import ChannelListener

log = logging.getLogger("switchboard")


class HealthChangeListener(ChannelListener):
    channel = HEALTH_CHANNEL
    application_name = "switchboard health changes"
    subject = "health events"
    outage_cost = "subscribers here miss changes until it is back"
    heartbeat = 5.0

    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: asyncio.Queue[tuple[uuid.UUID, uuid.UUID]] = asyncio.Queue()

    async def start(self) -> None:
        """Start in the background; returns once the first attempt has listened or failed."""
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self.run()), loop.create_task(self._deliver())]
        await self.wait_for_first_attempt()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def notified(self, connection: object, pid: int, channel: str, payload: object) -> None:
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

"""Telling subscribers of each change of a number's health, on whichever process or host it was recorded.

`record_check` announces each event it records. On PostgreSQL it sends
`pg_notify(HEALTH_CHANNEL, "<event id> <organization id>")` on the
connection of the transaction that records the event, so every listening
process hears of it once, when (and only if) that transaction commits; each
process's listener (switchboard/health_changes.py) reads the event and
hands it to `hub`. On SQLite, served by one process, `record_check` hands
the event to `hub` itself once it is stored.

`hub` fans events out to this process's subscriptions, each a bounded queue
of one organization's events.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from tortoise import BaseDBAsyncClient

from models import PhoneNumberHealthEvent

log = logging.getLogger("switchboard")

HEALTH_CHANNEL = "switchboard_health"
# Events a subscriber may fall behind by; past that its oldest are dropped.
QUEUE_SIZE = 100


def notification(event: PhoneNumberHealthEvent) -> str:
    return f"{event.id} {event.organization_id}"


def parse_notification(payload: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    try:
        event_id, organization_id = payload.split(" ")
        return uuid.UUID(event_id), uuid.UUID(organization_id)
    except ValueError:
        return None


def notifies(connection: BaseDBAsyncClient) -> bool:
    """Whether events go out through the database (PostgreSQL) rather than in this process alone (SQLite)."""
    return connection.capabilities.dialect == "postgres"


async def announce(event: PhoneNumberHealthEvent, connection: BaseDBAsyncClient) -> None:
    """On PostgreSQL: notify every listener when `connection`'s transaction commits."""
    await connection.execute_query("SELECT pg_notify($1, $2)", [HEALTH_CHANNEL, notification(event)])


class HealthEventHub:
    """This process's subscriptions to health events, by organization."""

    def __init__(self) -> None:
        self._queues: dict[uuid.UUID, set[asyncio.Queue[PhoneNumberHealthEvent]]] = defaultdict(set)
        self._lagging = False

    def wants(self, organization_id: uuid.UUID) -> bool:
        return bool(self._queues.get(organization_id))

    @contextmanager
    def subscribe(self, organization_id: uuid.UUID) -> Iterator[asyncio.Queue[PhoneNumberHealthEvent]]:
        queue: asyncio.Queue[PhoneNumberHealthEvent] = asyncio.Queue(QUEUE_SIZE)
        self._queues[organization_id].add(queue)
        try:
            yield queue
        finally:
            queues = self._queues.get(organization_id)
            if queues is not None:
                queues.discard(queue)
                if not queues:
                    del self._queues[organization_id]

    def publish(self, event: PhoneNumberHealthEvent) -> None:
        for queue in self._queues.get(event.organization_id, ()):
            if queue.full():
                # A subscriber that does not read keeps the newest events, and costs no more memory.
                queue.get_nowait()
                if not self._lagging:
                    log.warning("health events: a subscriber fell %d events behind; dropping its oldest", QUEUE_SIZE)
                    self._lagging = True
            queue.put_nowait(event)


hub = HealthEventHub()

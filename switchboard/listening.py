"""A connection of a worker's own that LISTENs on one PostgreSQL channel, kept up whatever happens.

Outside Tortoise's pool; a heartbeat every `heartbeat` seconds, and a
heartbeat unanswered as long, or a lost connection, reconnects with backoff.
Each outage is logged once, as a warning that says what it costs, and its
end once. Subclasses take the notifications (`notified`) and may act when
listening starts, at each answered heartbeat, and when the connection ends.
"""

from __future__ import annotations

import asyncio
import logging

from switchboard.db import connect_postgres
from switchboard.waiting import wait_at_most

log = logging.getLogger("switchboard")

CONNECT_TIMEOUT_SECONDS = 5.0
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)


class ChannelListener:
    channel: str
    # How the connection shows in pg_stat_activity.
    application_name: str
    # What is listened for, and what an outage costs, for its log lines.
    subject: str
    outage_cost: str
    heartbeat: float

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        # Set once the first attempt has listened or failed.
        self.first_attempt = asyncio.Event()
        self._failures = 0

    async def wait_for_first_attempt(self) -> None:
        await wait_at_most(self.first_attempt, CONNECT_TIMEOUT_SECONDS * 2)

    async def run(self) -> None:
        while True:
            try:
                await self._listen()
            except Exception as error:  # whatever broke, try again
                self.first_attempt.set()
                if self._failures == 0:
                    log.warning(
                        "%s: no notification connection to the database (%s); %s",
                        self.subject,
                        type(error).__name__,
                        self.outage_cost,
                    )
                self._failures += 1
            await asyncio.sleep(RETRY_SECONDS[min(self._failures, len(RETRY_SECONDS)) - 1])

    async def _listen(self) -> None:
        lost = asyncio.Event()
        connection = await connect_postgres(
            self.database_url,
            timeout=CONNECT_TIMEOUT_SECONDS,
            server_settings={"application_name": self.application_name},
        )
        try:
            connection.add_termination_listener(lambda _: lost.set())
            await connection.add_listener(self.channel, self.notified)
            self.listening()
            self.first_attempt.set()
            if self._failures:
                log.info("%s: notification connection to the database is back", self.subject)
                self._failures = 0
            while not lost.is_set():
                await connection.fetchval("SELECT 1", timeout=self.heartbeat)
                self.answered()
                await wait_at_most(lost, self.heartbeat)
            raise ConnectionResetError("the notification connection closed")
        finally:
            self.ended()
            connection.terminate()

    def notified(self, connection: object, pid: int, channel: str, payload: object) -> None:
        raise NotImplementedError

    def listening(self) -> None:
        """The channel is listened on: from here on no notification is missed."""

    def answered(self) -> None:
        """A heartbeat was answered."""

    def ended(self) -> None:
        """The connection ended, or never listened."""

"""Tells this worker's key cache of revocations made anywhere, over PostgreSQL's LISTEN/NOTIFY.

Each worker keeps one connection of its own, outside Tortoise's pool,
listening on the channel revocations notify (resolvers/api_keys.py). While
it is connected and answers a heartbeat, the authenticator may trust cached
keys for the whole SWITCHBOARD_API_KEY_CACHE_SECONDS; as soon as it is
lost, or a heartbeat goes unanswered for HEARTBEAT_SECONDS, the cache falls
back to trusting a key for at most a second, so a revocation still reaches
this worker within about a second while notifications cannot. It reconnects
with backoff; reconnected, it forgets every cached key, since a revocation
may have been missed meanwhile. A lost connection is logged once per outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from resolvers.api_keys import CHANGES_CHANNEL, Authenticator
from switchboard.db import connect_postgres
from switchboard.waiting import wait_at_most

log = logging.getLogger("switchboard")

HEARTBEAT_SECONDS = 1.0
# Trust granted by each answered heartbeat: a connection that dies silently
# costs at most this long before the short fallback applies.
LEASE_SECONDS = 2 * HEARTBEAT_SECONDS
CONNECT_TIMEOUT_SECONDS = 5.0
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
# How the connection shows in pg_stat_activity.
APPLICATION_NAME = "switchboard key changes"


class KeyChangeListener:
    def __init__(self, database_url: str, authenticator: Authenticator) -> None:
        self.database_url = database_url
        self.authenticator = authenticator
        self._task: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()
        self._failures = 0

    async def start(self) -> None:
        """Start listening in the background; returns once the first attempt has listened or failed."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        await wait_at_most(self._first_attempt, CONNECT_TIMEOUT_SECONDS * 2)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.authenticator.changes_unwatched()

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except Exception as error:  # whatever broke, the cache falls back and the listener tries again
                self._first_attempt.set()
                if self._failures == 0:
                    log.warning(
                        "API key revocations: no notification connection to the database (%s); "
                        "trusting cached keys for at most a second until it is back",
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
            await connection.add_listener(CHANGES_CHANNEL, self._notified)
            # Whatever was revoked before this point was not heard: start afresh.
            self.authenticator.forget_all()
            self.authenticator.changes_watched_for(LEASE_SECONDS)
            self._first_attempt.set()
            if self._failures:
                log.info("API key revocations: notification connection to the database is back")
                self._failures = 0
            while not lost.is_set():
                await connection.fetchval("SELECT 1", timeout=HEARTBEAT_SECONDS)
                self.authenticator.changes_watched_for(LEASE_SECONDS)
                await wait_at_most(lost, HEARTBEAT_SECONDS)
            raise ConnectionResetError("the notification connection closed")
        finally:
            self.authenticator.changes_unwatched()
            connection.terminate()

    def _notified(self, connection: object, pid: int, channel: str, payload: object) -> None:
        try:
            key_id = uuid.UUID(str(payload))  # NOTIFY payloads are text
        except ValueError:
            self.authenticator.forget_all()
            return
        self.authenticator.forget(key_id)
        log.info("API key %s was revoked: this worker no longer accepts it", key_id, extra={"api_key_id": str(key_id)})

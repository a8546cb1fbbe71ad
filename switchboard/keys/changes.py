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
from switchboard.listening import ChannelListener

log = logging.getLogger("switchboard")

HEARTBEAT_SECONDS = 1.0
# Trust granted by each answered heartbeat: a connection that dies silently
# costs at most this long before the short fallback applies.
LEASE_SECONDS = 2 * HEARTBEAT_SECONDS


class KeyChangeListener(ChannelListener):
    channel = CHANGES_CHANNEL
    application_name = "switchboard key changes"
    subject = "API key revocations"
    outage_cost = "trusting cached keys for at most a second until it is back"
    heartbeat = HEARTBEAT_SECONDS

    def __init__(self, database_url: str, authenticator: Authenticator) -> None:
        super().__init__(database_url)
        self.authenticator = authenticator
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start listening in the background; returns once the first attempt has listened or failed."""
        self._task = asyncio.get_running_loop().create_task(self.run())
        await self.wait_for_first_attempt()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.authenticator.changes_unwatched()

    def listening(self) -> None:
        # Whatever was revoked before this point was not heard: start afresh.
        self.authenticator.forget_all()
        self.authenticator.changes_watched_for(LEASE_SECONDS)

    def answered(self) -> None:
        self.authenticator.changes_watched_for(LEASE_SECONDS)

    def ended(self) -> None:
        self.authenticator.changes_unwatched()

    def notified(self, connection: object, pid: int, channel: str, payload: object) -> None:
        try:
            key_id = uuid.UUID(str(payload))  # NOTIFY payloads are text
        except ValueError:
            self.authenticator.forget_all()
            return
        self.authenticator.forget(key_id)
        log.info("API key %s was revoked: this worker no longer accepts it", key_id, extra={"api_key_id": str(key_id)})

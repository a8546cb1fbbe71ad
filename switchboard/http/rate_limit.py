"""Rate limits in cost units, kept by the `limits` package over a sliding window.

`rate` units a second with at most `burst` at once become a window of
burst / rate seconds (rounded up to whole seconds) holding `burst` units;
limits' sliding window counter weighs the previous window's use by how much
of it still overlaps, so the budget comes back gradually, much as a token
bucket's does, and each check is two counters whatever the storage.

The counters live in this process's memory, or in Redis, shared by every
worker of every host (`RateLimitStorage`). limits does each check in Redis
as one Lua script, so concurrent workers cannot both take the last units;
its memory and Redis versions weigh and compare alike. They differ in where
a window starts: in memory at multiples of its length on the clock, in Redis
at the first use after an idle spell; either way the counter keeps a window's
time left, which Retry-After is computed from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, SlidingWindowCounterSupport
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from switchboard.settings import REDIS_SCHEMES

log = logging.getLogger("switchboard")

T = TypeVar("T")

# The longest a request waits on Redis (connecting included) before it is
# served under this process's limits instead; a healthy Redis answers in a
# millisecond or two.
REDIS_TIMEOUT_SECONDS = 0.5
# While Redis is unreachable, each worker tries it again this often, in the
# background: requests meanwhile never wait on it.
PROBE_SECONDS = 1.0
# Every counter's name in Redis starts with it, apart from other programs' keys.
REDIS_KEY_PREFIX = "switchboard"
REDIS_DEFAULT_PORT = 6379


def redis_location(url: str) -> str:
    """host:port of a Redis URL, for messages: never its password or user."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port or REDIS_DEFAULT_PORT}"


class RateLimitStorage:
    """Where rate limit counters live: this process's memory, or Redis with memory to fall back on.

    While Redis cannot be reached, requests are limited per process, one
    error line marks the outage (per worker) and an info line its end; a
    probe in the background finds Redis back.
    """

    def __init__(self, url: str = "memory://") -> None:
        self.local = SlidingWindowCounterRateLimiter(MemoryStorage())
        self.shared: SlidingWindowCounterRateLimiter | None = None
        self.location = ""
        self._pool: ConnectionPool | None = None
        self._client: Redis | None = None
        self._down = False
        self._probe: asyncio.Task[None] | None = None
        if urlsplit(url).scheme in REDIS_SCHEMES:
            self._connect(url)

    def _connect(self, url: str) -> None:
        self.location = redis_location(url)
        self._pool = ConnectionPool.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            # Once, on a fresh connection, when a pooled one turns out closed (Redis restarted, an idle
            # timeout); never on a timeout, which would double the wait and might charge twice.
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            client_name="switchboard-rate-limits",
        )
        self._client = Redis(connection_pool=self._pool)
        # limits connects through the pool: the URL it is given names no password.
        storage = RedisStorage(
            f"async+{urlsplit(url).scheme}://{self.location}",
            implementation="redispy",
            key_prefix=REDIS_KEY_PREFIX,
            wrap_exceptions=True,
            # limits types its storage options as scalars; it hands them to redis-py, which takes a pool.
            connection_pool=self._pool,  # type: ignore[arg-type]
        )
        self.shared = SlidingWindowCounterRateLimiter(storage)

    @property
    def is_shared(self) -> bool:
        return self.shared is not None and not self._down

    def status(self) -> str | None:
        """What /readyz says of the rate limit: None when it is per process by configuration."""
        if self.shared is None:
            return None
        if self._down:
            return f"per process: Redis at {self.location} unreachable"
        return f"shared: Redis at {self.location}"

    async def start(self) -> None:
        """Try Redis once, so an outage at start is known (and logged) before the first request."""
        if self.shared is not None:
            log.info("rate limits: kept in Redis at %s, shared by every worker", self.location)
            await self.check()

    async def check(self) -> str | None:
        """Ask Redis whether it answers, unless it is known to be down; then `status()`."""
        if self.is_shared:
            try:
                await self._ping()
            except Exception as error:  # whatever Redis or the network did, the worker serves on
                self._outage(error)
        return self.status()

    async def run(self, operation: Callable[[SlidingWindowCounterRateLimiter], Awaitable[T]]) -> T:
        """`operation` on the shared counters while Redis answers, else on this process's."""
        if self.shared is not None and not self._down:
            try:
                async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                    return await operation(self.shared)
            # Whatever Redis or the network did, the request is served; a fault of the
            # operation itself shows again on the memory counters.
            except Exception as error:
                self._outage(error)
        return await operation(self.local)

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
        if self._pool is not None:
            await self._pool.disconnect()

    async def _ping(self) -> None:
        async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
            assert self._client is not None
            # redis-py types ping() for its sync and async clients at once (Awaitable[bool] | bool).
            await self._client.ping()  # type: ignore[misc]

    def _outage(self, error: BaseException) -> None:
        if self._down:
            return  # requests that were waiting on Redis when it went: the outage is already known
        self._down = True
        cause = error.storage_error if isinstance(error, StorageError) else error
        # The type only: a message could quote the URL.
        log.error(
            "rate limits: Redis at %s unreachable (%s); limiting per worker process until it is back",
            self.location,
            type(cause).__name__,
        )
        self._probe = asyncio.get_running_loop().create_task(self._wait_until_back())

    async def _wait_until_back(self) -> None:
        assert self._pool is not None
        # Connections from before the outage may be half-dead: start afresh.
        await self._pool.disconnect()
        while True:
            await asyncio.sleep(PROBE_SECONDS)
            try:
                await self._ping()
            except Exception:  # still away, however it shows: the next probe tells
                continue
            self._down = False
            log.info("rate limits: Redis at %s is back; limits are shared again", self.location)
            return


class RateLimiter:
    """`burst` units per identity over a window of burst / rate seconds.

    A cost over `burst` is charged as `burst`, so nothing is refused forever.
    """

    def __init__(self, namespace: str, rate: float, burst: int, storage: RateLimitStorage | None = None) -> None:
        self.burst = burst
        self.window = max(1, math.ceil(burst / rate))
        self.item = RateLimitItemPerSecond(burst, self.window, namespace=namespace)
        self.storage = storage if storage is not None else RateLimitStorage()

    async def take(self, identity: str, cost: int) -> int | None:
        """Take `cost` units: None when taken, else the whole seconds until they are there."""
        cost = min(max(cost, 1), self.burst)

        async def take(strategy: SlidingWindowCounterRateLimiter) -> int | None:
            if await strategy.hit(self.item, identity, cost=cost):
                return None
            return await self._retry_after(strategy, identity, cost)

        return await self.storage.run(take)

    async def allows(self, identity: str) -> int | None:
        """None while one more unit would be taken, else the whole seconds until it would; takes nothing."""

        async def allows(strategy: SlidingWindowCounterRateLimiter) -> int | None:
            if await strategy.test(self.item, identity):
                return None
            return await self._retry_after(strategy, identity, 1)

        return await self.storage.run(allows)

    async def _retry_after(self, strategy: SlidingWindowCounterRateLimiter, identity: str, cost: int) -> int:
        storage = strategy.storage
        assert isinstance(storage, SlidingWindowCounterSupport)
        previous, previous_ttl, current, current_ttl = await storage.get_sliding_window(
            self.item.key_for(identity), self.item.get_expiry()
        )
        # Both storages keep the current counter a window past its window's end.
        window_left = max(0.0, current_ttl - self.window)
        return max(1, math.ceil(seconds_until_room(cost, self.burst, self.window, previous, previous_ttl, current, window_left)))


def seconds_until_room(
    cost: int, limit: int, window: int, previous: int, previous_ttl: float, current: int, window_left: float
) -> float:
    """When limits' sliding window counter next takes `cost`: previous * ttl / window + current must drop to
    below limit - cost + 1.

    Within this window the previous window's weight shrinks; after it, this
    window's count becomes the previous one and shrinks in turn.
    """
    room = limit - cost + 1
    if current < room:
        if previous == 0:
            return 0.0
        return max(0.0, previous_ttl - (room - current) * window / previous)
    return window_left + max(0.0, window - room * window / current)

"""Rate limits in cost units, kept by the `limits` package over a sliding window.

`rate` units a second with at most `burst` at once become a window of
burst / rate seconds (rounded up to whole seconds) holding `burst` units;
limits' sliding window counter weighs the previous window's use by how much
of it still overlaps, so the budget comes back gradually, much as a token
bucket's does, and each check is two counters whatever the storage.

The storage is in this process's memory; limits' storages share one
interface, so a shared one (Redis) is a matter of passing another.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, SlidingWindowCounterSupport, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter


class RateLimiter:
    """`burst` units per identity over a window of burst / rate seconds.

    A cost over `burst` is charged as `burst`, so nothing is refused forever.
    """

    def __init__(self, namespace: str, rate: float, burst: int, storage: Storage | None = None) -> None:
        self.burst = burst
        self.window = max(1, math.ceil(burst / rate))
        self.item = RateLimitItemPerSecond(burst, self.window, namespace=namespace)
        self.storage = storage if storage is not None else MemoryStorage()
        assert isinstance(self.storage, SlidingWindowCounterSupport)
        self.strategy = SlidingWindowCounterRateLimiter(self.storage)

    async def take(self, identity: str, cost: int) -> int | None:
        """Take `cost` units: None when taken, else the whole seconds until they are there."""
        cost = min(max(cost, 1), self.burst)
        if await self.strategy.hit(self.item, identity, cost=cost):
            return None
        return await self._retry_after(identity, cost)

    async def allows(self, identity: str) -> int | None:
        """None while one more unit would be taken, else the whole seconds until it would; takes nothing."""
        if await self.strategy.test(self.item, identity):
            return None
        return await self._retry_after(identity, 1)

    async def _retry_after(self, identity: str, cost: int) -> int:
        storage = self.storage
        assert isinstance(storage, SlidingWindowCounterSupport)
        previous, previous_ttl, current, _ = await storage.get_sliding_window(
            self.item.key_for(identity), self.item.get_expiry()
        )
        window_left = self.window - time.time() % self.window
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

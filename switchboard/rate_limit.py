"""The rate limit per API key: a token bucket in each worker process."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from resolvers.api_keys import hash_key


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per API key, in this process: `burst` tokens, refilled at `rate` a second.

    Only authenticated keys get a bucket, so there are never more than keys
    issued. One operation costs at most a full bucket, so none is refused forever.
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, api_key: str, cost: int) -> int | None:
        """Take `cost` tokens from the key's bucket: None when taken, else whole seconds until they are there."""
        now = self.clock()
        bucket = self._buckets.setdefault(hash_key(api_key), _Bucket(self.burst, now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        cost = min(cost, self.burst)
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return None
        return max(1, math.ceil((cost - bucket.tokens) / self.rate))

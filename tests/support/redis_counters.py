"""The Redis counters of the shared rate limit that a test names, deleted when it ends; and what they should allow."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import redis

from resolvers.api_keys import hash_key
from switchboard.http.rate_limit import REDIS_KEY_PREFIX


@dataclass
class Counters:
    """The Redis counters a test names, deleted when it ends."""

    url: str
    names: list[str] = field(default_factory=list)

    def of_key(self, key: str) -> str:
        self.names.append(f"key/{hash_key(key)}/")
        return key

    def of_address(self, address: str) -> str:
        self.names.append(f"address/{address}/")
        return address

    def stored(self) -> list[bytes]:
        client = redis.Redis.from_url(self.url)
        try:
            return [k for name in self.names for k in client.scan_iter(match=f"{REDIS_KEY_PREFIX}:{{{name}*")]
        finally:
            client.close()

    def delete(self) -> None:
        client = redis.Redis.from_url(self.url)
        try:
            for name in self.stored():
                client.delete(name)
        finally:
            client.close()


def sliding_window_allows(sent: list[float], charges: tuple[int, ...], limit: int, window: float) -> int:
    """How many requests limits' sliding window counter takes, as its Redis script runs it, of requests sent at
    `sent` (seconds, ascending) each charged `charges` one after another: refused at one charge, it is not
    charged the next, but keeps what it was charged before.

    A window starts at the first charge after an idle spell; the next follows
    it. A charge is taken while floor(previous window's count x its share of
    the window still to run) + this window's count + the charge <= limit.
    """
    current_end = -math.inf  # when the current window ends
    previous = current = 0
    taken = 0
    for t in sent:
        for charge in charges:
            if t >= current_end + window:  # both windows ran out: start afresh
                previous, current, current_end = 0, 0, t + window
            elif t >= current_end:  # the current window ended: it becomes the previous one
                previous, current, current_end = current, 0, current_end + window
            weighted = math.floor(previous * (current_end - t) / window) + current
            if weighted + charge > limit:
                break
            current += charge
        else:
            taken += 1
    return taken

"""The Redis counters of the shared rate limit that a test names, deleted when it ends."""

from __future__ import annotations

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

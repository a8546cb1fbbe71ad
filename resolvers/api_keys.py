"""API keys: issued once, stored as a hash, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from cachetools import TTLCache
from tortoise.transactions import in_transaction

from models import ApiKey, Organization

KEY_PREFIX = "sb_live_"
# 32 random bytes, base64url-encoded without padding: 43 characters.
KEY_RANDOM_BYTES = 32
DISPLAY_PREFIX_LENGTH = len(KEY_PREFIX) + 4


@dataclass(frozen=True)
class IssuedKey:
    organization_id: uuid.UUID
    organization_name: str
    key: str


def hash_key(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough: there is no
    # dictionary to guess from, unlike with passwords.
    return hashlib.sha256(key.encode()).hexdigest()


async def issue_key(organization_name: str) -> IssuedKey:
    """Create the organization if needed, then a new key for it."""
    key = KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)
    async with in_transaction():
        organization, _ = await Organization.get_or_create(name=organization_name)
        await ApiKey.create(
            organization_id=organization.id,
            key_hash=hash_key(key),
            display_prefix=key[:DISPLAY_PREFIX_LENGTH],
        )
    return IssuedKey(organization.id, organization.name, key)


class Authenticator:
    """Finds the organization a presented key acts for.

    Valid keys are remembered for `cache_seconds`, so most requests skip the
    lookup; a deleted key therefore keeps working in each worker for at most
    that long. Unknown keys are never remembered, so guessing fills nothing.
    """

    def __init__(self, cache_seconds: float, max_keys: int = 10_000) -> None:
        self._known: TTLCache[str, uuid.UUID] | None = (
            TTLCache(maxsize=max_keys, ttl=cache_seconds) if cache_seconds > 0 else None
        )

    async def authenticate(self, key: str) -> uuid.UUID | None:
        if not key.startswith(KEY_PREFIX) or len(key) > 128:
            return None
        digest = hash_key(key)
        if self._known is not None and (organization_id := self._known.get(digest)) is not None:
            return organization_id
        row = await ApiKey.get_or_none(key_hash=digest).only("key_hash", "organization_id")
        if row is None or not hmac.compare_digest(row.key_hash, digest):
            return None
        if self._known is not None:
            self._known[digest] = row.organization_id
        return row.organization_id

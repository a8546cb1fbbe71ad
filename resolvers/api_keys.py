"""API keys: issued once, stored as a hash, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

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


async def authenticate(key: str) -> uuid.UUID | None:
    """The organization a presented key acts for, or None."""
    if not key.startswith(KEY_PREFIX) or len(key) > 128:
        return None
    digest = hash_key(key)
    row = await ApiKey.get_or_none(key_hash=digest).only("key_hash", "organization_id")
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    return row.organization_id

"""The per-process key cache: what it trusts, for how long, and what makes it forget.

The authenticator runs on a clock and a calendar the tests move by hand, over
a real database, so no test waits for time to pass.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models import ApiKey, ApiKeyScope
from resolvers.api_keys import UNWATCHED_TRUST_SECONDS, Authenticator, CreateApiKeyInput, hash_key, issue_key
from tests.support.secret_sweep import SWEEP

CACHE_SECONDS = 300.0


class Clocks:
    def __init__(self) -> None:
        self.monotonic = 1000.0
        self.wall = datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        self.monotonic += seconds
        self.wall += timedelta(seconds=seconds)


def authenticator(clocks: Clocks, **kwargs: Any) -> Authenticator:
    return Authenticator(CACHE_SECONDS, clock=lambda: clocks.monotonic, now=lambda: clocks.wall, **kwargs)


async def new_key(expires_at: datetime | None = None) -> str:
    key = (await issue_key("Acme", CreateApiKeyInput("cached", [ApiKeyScope.READ], expires_at))).key
    SWEEP.add_secret(key)
    return key


async def revoke_behind_its_back(key: str) -> None:
    """Revoked in the database without telling anyone, as a process that missed the notification."""
    await ApiKey.filter(key_hash=hash_key(key)).update(revoked_at=datetime.now(UTC))


async def test_while_watched_a_key_is_trusted_for_the_whole_cache_time(app: Any) -> None:
    clocks = Clocks()
    cache = authenticator(clocks)
    cache.changes_watched_for(CACHE_SECONDS * 2)
    key = await new_key()
    assert await cache.authenticate(key) is not None
    await revoke_behind_its_back(key)

    clocks.advance(CACHE_SECONDS - 1)
    assert await cache.authenticate(key) is not None, "only a notification could have told it"
    clocks.advance(2)
    assert await cache.authenticate(key) is None
    await cache.close()


async def test_unwatched_a_key_is_trusted_for_at_most_a_second(app: Any) -> None:
    clocks = Clocks()
    cache = authenticator(clocks)  # never watched: SQLite, or the listener is down
    key = await new_key()
    assert await cache.authenticate(key) is not None
    await revoke_behind_its_back(key)

    clocks.advance(UNWATCHED_TRUST_SECONDS * 0.9)
    assert await cache.authenticate(key) is not None
    clocks.advance(UNWATCHED_TRUST_SECONDS * 0.2)
    assert await cache.authenticate(key) is None
    await cache.close()


async def test_a_lapsed_watch_falls_back_to_a_second(app: Any) -> None:
    clocks = Clocks()
    cache = authenticator(clocks)
    cache.changes_watched_for(2)
    key = await new_key()
    assert await cache.authenticate(key) is not None
    await revoke_behind_its_back(key)

    clocks.advance(2.5)  # no heartbeat renewed the watch
    assert await cache.authenticate(key) is None
    await cache.close()


async def test_expiry_is_exact_for_a_cached_key(app: Any) -> None:
    clocks = Clocks()
    cache = authenticator(clocks)
    cache.changes_watched_for(CACHE_SECONDS)
    key = await new_key(expires_at=clocks.wall + timedelta(minutes=5))
    assert await cache.authenticate(key) is not None

    clocks.wall += timedelta(minutes=5) - timedelta(microseconds=1)
    assert await cache.authenticate(key) is not None
    clocks.wall += timedelta(microseconds=1)
    assert await cache.authenticate(key) is None
    await cache.close()


async def test_forgetting_one_key_keeps_the_others(app: Any) -> None:
    clocks = Clocks()
    cache = authenticator(clocks)
    cache.changes_watched_for(CACHE_SECONDS)
    revoked, kept = await new_key(), await new_key()
    revoked_principal = await cache.authenticate(revoked)
    assert revoked_principal is not None and await cache.authenticate(kept) is not None
    await revoke_behind_its_back(revoked)
    await revoke_behind_its_back(kept)

    cache.forget(revoked_principal.key_id)

    assert await cache.authenticate(revoked) is None
    assert await cache.authenticate(kept) is not None, "still remembered: no lookup saw its revocation"
    cache.forget_all()
    assert await cache.authenticate(kept) is None
    await cache.close()


async def test_a_revocation_told_during_a_lookup_is_not_undone_by_it(app: Any) -> None:
    key = await new_key()
    key_id = (await ApiKey.get(key_hash=hash_key(key))).id
    told = False

    def now_with_a_notification_arriving() -> datetime:
        # Called once the row has been read: the revocation commits and is told right then.
        nonlocal told
        if not told:
            told = True
            cache.forget(key_id)
        return datetime.now(UTC)

    cache = Authenticator(CACHE_SECONDS, now=now_with_a_notification_arriving)
    cache.changes_watched_for(CACHE_SECONDS)
    assert await cache.authenticate(key) is not None, "the row it read was not revoked yet"
    await revoke_behind_its_back(key)

    assert await cache.authenticate(key) is None, "the row read before the notification was not remembered"
    await cache.close()


async def test_revoked_and_unknown_keys_are_never_remembered(app: Any) -> None:
    clocks = Clocks()
    cache = authenticator(clocks)
    cache.changes_watched_for(CACHE_SECONDS)
    key = await new_key()
    await revoke_behind_its_back(key)
    assert await cache.authenticate(key) is None
    await ApiKey.filter(key_hash=hash_key(key)).update(revoked_at=None)
    assert await cache.authenticate(key) is not None
    await cache.close()

"""API keys: issued once, stored as a hash, scoped, expiring, revocable; and checked on each request.

Revoking a key tells every process that may have it cached: this process
directly, the others through PostgreSQL's NOTIFY on CHANGES_CHANNEL, sent in
the transaction that revokes it (switchboard/keys/changes.py listens).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cachetools import TTLCache
from tortoise import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import ApiKey, ApiKeyScope, AuditAction, Organization
from resolvers import audit, rules, scopes
from resolvers.context import Principal, RequestContext
from resolvers.errors import ErrorCode, Errors, UserError
from resolvers.pagination import Page, Position, keyset_page

KEY_PREFIX = "sb_live_"
# 32 random bytes, base64url-encoded without padding: 43 characters.
KEY_RANDOM_BYTES = 32
# "sb_live_" and 4 random characters (24 bits): enough to tell keys apart, far too little to use one.
DISPLAY_PREFIX_LENGTH = len(KEY_PREFIX) + 4
NAME_MAX_LENGTH = 100
DEFAULT_NAME = "default"
# As long as the longest year: "a year from today" is always allowed.
MAX_LIFETIME = timedelta(days=366)
CHANGES_CHANNEL = "switchboard_api_keys"

log = logging.getLogger("switchboard")


@dataclass(frozen=True)
class IssuedKey:
    organization_id: uuid.UUID
    organization_name: str
    key: str
    api_key: ApiKey


@dataclass
class CreateApiKeyInput:
    name: str | None
    scopes: list[ApiKeyScope]
    expires_at: datetime | None = None


@dataclass
class ApiKeyResult:
    api_key: ApiKey | None
    errors: list[UserError] = field(default_factory=list)
    # The key itself: set only by a create, and shown only in its answer.
    secret: str | None = None


class InvalidApiKeyInput(ValueError):
    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def utcnow() -> datetime:
    return datetime.now(UTC)


def hash_key(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough: there is no
    # dictionary to guess from, unlike with passwords.
    return hashlib.sha256(key.encode()).hexdigest()


# --- rules ----------------------------------------------------------------------


def _checked(data: CreateApiKeyInput, now: datetime) -> tuple[CreateApiKeyInput | None, list[UserError]]:
    errors = Errors()
    name = rules.text(errors, ("name",), data.name, label="Key name", max_length=NAME_MAX_LENGTH, required=True)
    if not data.scopes:
        errors.add(("scopes",), ErrorCode.BLANK, "Scopes can't be empty: give at least one of READ, WRITE or ADMIN")
    _expiry(errors, data.expires_at, now)
    if errors:
        return None, errors.items
    return CreateApiKeyInput(name=name, scopes=scopes.canonical(data.scopes), expires_at=data.expires_at), []


def _expiry(errors: Errors, expires_at: datetime | None, now: datetime) -> None:
    """None never expires; a given time must be ahead, at most MAX_LIFETIME."""
    path = ("expiresAt",)
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        errors.add(path, ErrorCode.INVALID, "Expiry must include a UTC offset, e.g. 2030-01-31T12:00:00Z")
    elif expires_at <= now:
        errors.add(path, ErrorCode.OUT_OF_RANGE, "Expiry must be in the future")
    elif expires_at > now + MAX_LIFETIME:
        errors.add(path, ErrorCode.OUT_OF_RANGE, f"Expiry can be at most {MAX_LIFETIME.days} days ahead")


def _not_found() -> UserError:
    # The id is not quoted: a caller may paste anything there, a key included.
    return UserError(("id",), "No such API key in your organization", ErrorCode.NOT_FOUND)


# --- creating -------------------------------------------------------------------


async def create_api_key(ctx: RequestContext, data: CreateApiKeyInput) -> ApiKeyResult:
    checked, errors = _checked(data, utcnow())
    if checked is None:
        return ApiKeyResult(None, errors)
    async with in_transaction() as connection:
        row, secret = await _create(ctx.organization_id, checked, connection, audit.actor_of(ctx), ctx.request_id)
    return ApiKeyResult(row, secret=secret)


_CREATE_API_KEY = audit.command_line("create-api-key")


async def issue_key(
    organization_name: str, data: CreateApiKeyInput | None = None, *, actor: audit.Actor = _CREATE_API_KEY
) -> IssuedKey:
    """Create the organization if needed, then a key for it (by default an ADMIN key, for bootstrapping)."""
    checked, errors = _checked(data or CreateApiKeyInput(DEFAULT_NAME, [ApiKeyScope.ADMIN]), utcnow())
    if checked is None:
        raise InvalidApiKeyInput(errors)
    async with in_transaction() as connection:
        organization, _ = await Organization.get_or_create(name=organization_name, using_db=connection)
        row, secret = await _create(organization.id, checked, connection, actor, None)
    return IssuedKey(organization.id, organization.name, secret, row)


async def _create(
    organization_id: uuid.UUID, data: CreateApiKeyInput, connection: BaseDBAsyncClient, actor: audit.Actor, request_id: str | None
) -> tuple[ApiKey, str]:
    secret = KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)
    row = await ApiKey.create(
        organization_id=organization_id,
        name=data.name,
        key_hash=hash_key(secret),
        display_prefix=secret[:DISPLAY_PREFIX_LENGTH],
        scopes=[scope.value for scope in data.scopes],
        expires_at=data.expires_at,
        using_db=connection,
    )
    changes = audit.diff(None, audit.api_key_fields(row))
    await audit.record(actor, organization_id, AuditAction.API_KEY_CREATED, [(row.id, changes)], request_id=request_id, connection=connection)
    return row, secret


# --- revoking -------------------------------------------------------------------


async def revoke_api_key(ctx: RequestContext, id: str) -> ApiKeyResult:
    """Revoke a key of the caller's organization, unless it is the organization's last active ADMIN key.

    The calling key may revoke itself: its request still gets its answer,
    and the next one is refused.
    """
    key_id = rules.parse_uuid(id)
    if key_id is None:
        return ApiKeyResult(None, [_not_found()])
    async with in_transaction() as connection:
        # One organization's revocations take turns, so two at once cannot
        # each see the other's key as the ADMIN key that remains.
        await Organization.filter(id=ctx.organization_id).select_for_update().using_db(connection).first()
        row = await ApiKey.filter(id=key_id, organization_id=ctx.organization_id).using_db(connection).first()
        if row is None:
            return ApiKeyResult(None, [_not_found()])
        now = utcnow()
        problem = _already_revoked(row) or await _last_admin_key(row, now, connection)
        if problem is not None:
            return ApiKeyResult(None, [problem])
        await _revoke(row, now, connection, audit.actor_of(ctx), ctx.request_id)
    forget_everywhere_in_process(row.id)
    return ApiKeyResult(row)


async def revoke_key_by_id(key_id: uuid.UUID) -> ApiKeyResult:
    """The operator's revocation, from the command line: any organization's key, the last ADMIN key included."""
    async with in_transaction() as connection:
        row = await ApiKey.filter(id=key_id).select_for_update().using_db(connection).first()
        if row is None:
            return ApiKeyResult(None, [_not_found()])
        problem = _already_revoked(row)
        if problem is not None:
            return ApiKeyResult(row, [problem])
        await _revoke(row, utcnow(), connection, audit.command_line("revoke-api-key"), None)
    forget_everywhere_in_process(row.id)
    return ApiKeyResult(row)


def _already_revoked(row: ApiKey) -> UserError | None:
    if row.revoked_at is None:
        return None
    return UserError(("id",), f"This API key was already revoked, at {row.revoked_at.isoformat()}", ErrorCode.ALREADY_REVOKED)


async def _last_admin_key(row: ApiKey, now: datetime, connection: BaseDBAsyncClient) -> UserError | None:
    if not row.is_active(now) or ApiKeyScope.ADMIN not in scopes.parse_stored(row.scopes):
        return None
    others = await (
        ApiKey.filter(organization_id=row.organization_id, revoked_at=None)
        .exclude(id=row.id)
        .using_db(connection)
        .only("id", "scopes", "expires_at", "revoked_at")
    )
    if any(other.is_active(now) and ApiKeyScope.ADMIN in scopes.parse_stored(other.scopes) for other in others):
        return None
    return UserError(
        ("id",),
        "This is your organization's last active ADMIN key: create another ADMIN key first "
        "(or have the operator run `switchboard revoke-api-key`)",
        ErrorCode.LAST_ADMIN_KEY,
    )


async def _revoke(row: ApiKey, now: datetime, connection: BaseDBAsyncClient, actor: audit.Actor, request_id: str | None) -> None:
    before = audit.api_key_fields(row)
    await ApiKey.filter(id=row.id).using_db(connection).update(revoked_at=now)
    row.revoked_at = now
    changes = audit.diff(before, audit.api_key_fields(row))
    await audit.record(actor, row.organization_id, AuditAction.API_KEY_REVOKED, [(row.id, changes)], request_id=request_id, connection=connection)
    if connection.capabilities.dialect == "postgres":
        # Delivered to every listening worker when this transaction commits, and only then.
        await connection.execute_query("SELECT pg_notify($1, $2)", [CHANGES_CHANNEL, str(row.id)])


# --- reading --------------------------------------------------------------------


async def list_api_keys(ctx: RequestContext, first: int, position: Position | None) -> Page[ApiKey]:
    return await keyset_page(ApiKey.filter(organization_id=ctx.organization_id), first, position)


async def list_api_keys_by_offset(ctx: RequestContext, limit: int, offset: int) -> list[ApiKey]:
    """Offset pages, as the REST API's other list pages."""
    return await ApiKey.filter(organization_id=ctx.organization_id).order_by("-created_at", "-id").offset(offset).limit(limit)


async def count_api_keys(ctx: RequestContext) -> int:
    return await ApiKey.filter(organization_id=ctx.organization_id).count()


async def get_api_key(ctx: RequestContext, key_id: uuid.UUID) -> ApiKey | None:
    return await ApiKey.get_or_none(id=key_id, organization_id=ctx.organization_id)


async def get_organization(ctx: RequestContext) -> Organization:
    return await Organization.get(id=ctx.organization_id)


async def keys_of_organization(organization_name: str) -> tuple[Organization, list[ApiKey]] | None:
    """Every key of a named organization, newest first; None when there is no such organization."""
    organization = await Organization.get_or_none(name=organization_name)
    if organization is None:
        return None
    return organization, await ApiKey.filter(organization_id=organization.id).order_by("-created_at", "-id")


def stored_scopes(row: ApiKey) -> list[ApiKeyScope]:
    return scopes.canonical(scopes.parse_stored(row.scopes))


def status(row: ApiKey, now: datetime) -> str:
    """`active`, `expired` or `revoked`, for people reading a list."""
    if row.revoked_at is not None:
        return "revoked"
    return "active" if row.is_active(now) else "expired"


# --- authenticating -------------------------------------------------------------

KEY_MAX_LENGTH = 128
# How long a cached key is trusted while no change feed tells this process of
# revocations (SQLite, or PostgreSQL while the listener is down): the promise
# that a revoked key stops working everywhere within a second.
UNWATCHED_TRUST_SECONDS = 1.0
# A key's last use is written at most this often, by each process, and the
# write itself only lands when the stored time is at least this old.
LAST_USED_INTERVAL = timedelta(minutes=1)

_KEY_COLUMNS = ("id", "organization_id", "name", "key_hash", "display_prefix", "scopes", "expires_at", "revoked_at")


@dataclass(frozen=True)
class _Remembered:
    principal: Principal
    checked_at: float  # on the authenticator's clock


class Authenticator:
    """Finds the key a request acts with, remembering valid keys so most requests skip the lookup.

    A key is remembered for `cache_seconds` while a change feed tells this
    process of every revocation (`changes_watched_for`), and for at most
    UNWATCHED_TRUST_SECONDS otherwise. Expiry is checked on every request, the
    expiry time being remembered with the key. Unknown, expired and revoked
    keys are never remembered, so guessing fills nothing.
    """

    def __init__(
        self,
        cache_seconds: float,
        max_keys: int = 10_000,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.cache_seconds = cache_seconds
        self.clock, self.now = clock, now
        self._known: TTLCache[str, _Remembered] | None = (
            TTLCache(maxsize=max_keys, ttl=cache_seconds, timer=clock) if cache_seconds > 0 else None
        )
        # Bumped by every forget: a lookup that started before one is not remembered.
        self._generation = 0
        self._watched_until = 0.0
        # Keys whose last use this process has recorded within the interval.
        self._recently_used: TTLCache[uuid.UUID, bool] = TTLCache(
            maxsize=max_keys, ttl=LAST_USED_INTERVAL.total_seconds(), timer=clock
        )
        self._writes: set[asyncio.Task[None]] = set()
        _LIVE.add(self)

    async def authenticate(self, key: str, *, look_up: bool = True) -> Principal | None:
        """The key's principal; with `look_up` false, only a key this process remembers, sparing the database."""
        if not key.startswith(KEY_PREFIX) or len(key) > KEY_MAX_LENGTH:
            return None
        digest = hash_key(key)
        principal = self._remembered(digest)
        if principal is None:
            principal = await self._look_up(digest) if look_up else None
        elif principal.expires_at is not None and self.now() >= principal.expires_at:
            self._forget_digest(digest)
            principal = None
        if principal is not None:
            self._record_use(principal.key_id)
        return principal

    def forget(self, key_id: uuid.UUID) -> None:
        """Stop trusting a key this process may remember: it was revoked."""
        self._generation += 1
        if self._known is not None:
            # get() rather than items(): an entry may expire while this walks the cache.
            remembered = ((digest, self._known.get(digest)) for digest in list(self._known))
            for digest in [d for d, r in remembered if r is not None and r.principal.key_id == key_id]:
                self._forget_digest(digest)

    def forget_all(self) -> None:
        self._generation += 1
        if self._known is not None:
            self._known.clear()

    def changes_watched_for(self, seconds: float) -> None:
        """A change feed is live and will be for `seconds` more: remembered keys keep their full cache time."""
        self._watched_until = self.clock() + seconds

    def changes_unwatched(self) -> None:
        self._watched_until = 0.0

    @property
    def watched(self) -> bool:
        return self.clock() < self._watched_until

    async def close(self) -> None:
        """Let the last-use writes under way finish, before the database connections close."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _remembered(self, digest: str) -> Principal | None:
        remembered = self._known.get(digest) if self._known is not None else None
        if remembered is None:
            return None
        if not self.watched and self.clock() - remembered.checked_at > UNWATCHED_TRUST_SECONDS:
            return None
        return remembered.principal

    def _forget_digest(self, digest: str) -> None:
        if self._known is not None:
            self._known.pop(digest, None)

    async def _look_up(self, digest: str) -> Principal | None:
        generation = self._generation
        row = await ApiKey.get_or_none(key_hash=digest).only(*_KEY_COLUMNS)
        if row is None or not hmac.compare_digest(row.key_hash, digest) or not row.is_active(self.now()):
            return None
        principal = Principal(
            key_id=row.id,
            organization_id=row.organization_id,
            name=row.name,
            prefix=row.display_prefix,
            scopes=scopes.parse_stored(row.scopes),
            expires_at=row.expires_at,
        )
        # A revocation told while the lookup ran may be newer than the row read.
        if self._known is not None and generation == self._generation:
            self._known[digest] = _Remembered(principal, self.clock())
        return principal

    def _record_use(self, key_id: uuid.UUID) -> None:
        """Write the key's last use in the background, at most once an interval: never a write per request."""
        if key_id in self._recently_used:
            return
        self._recently_used[key_id] = True
        task = asyncio.get_running_loop().create_task(self._write_last_used(key_id))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write_last_used(self, key_id: uuid.UUID) -> None:
        now = self.now()
        # Conditional, so however many processes record a use, the column changes at most once an interval.
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_INTERVAL)
        try:
            await ApiKey.filter(stale, id=key_id).update(last_used_at=now)
        except Exception as error:
            log.warning("could not record the last use of API key %s (%s)", key_id, type(error).__name__)


# Every authenticator of this process, so a revocation here reaches each at once.
_LIVE: weakref.WeakSet[Authenticator] = weakref.WeakSet()


def forget_everywhere_in_process(key_id: uuid.UUID) -> None:
    for authenticator in list(_LIVE):
        authenticator.forget(key_id)

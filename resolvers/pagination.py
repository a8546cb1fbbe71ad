"""Keyset pagination: newest first, ties broken by id, opaque signed cursors.

A page is read with `WHERE (created_at, id) < (cursor)` over the index on
(organization, created_at, id), so its cost does not grow with the rows
before it, unlike OFFSET.

A cursor is URL-safe base64 of: format, list kind, the row's time and id, a
tag of the scope (organization or agent) and an HMAC over all of it, made
with keys derived from the configured encryption keys (SecretBox.mac). The
HMAC is checked before anything else is read from a cursor, so whatever an
`after` holds, it is either a cursor this API made or refused as a whole.
The tag is keyed too: it tells a cursor of another organization or agent
apart without naming either.
"""

from __future__ import annotations

import base64
import hmac
import re
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.secrets import SecretBox

PAGE_SIZE_MIN, PAGE_SIZE_MAX = 1, 100
DEFAULT_PAGE_SIZE = 20
# Offsets beyond this overflow the databases' integers; no organization has that many rows.
MAX_OFFSET = 2**31 - 1
# Cursors made here are at most 92 characters; the rest is room for lists to come.
CURSOR_MAX_LENGTH = 256

_CURSOR_FORMAT = 1
_SIGNING = "cursor"
_SCOPE_TAG = "cursor-scope"
_TAG_BYTES = 8
_MAC_BYTES = 16
_POSITION = struct.Struct(">q16s")  # microseconds since the epoch, row id
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")

RowT = TypeVar("RowT", bound=Model)


class InvalidArgument(ValueError):
    """An argument of a read that cannot be used; `argument` names it."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument


@dataclass(frozen=True)
class Position:
    created_at: datetime
    id: uuid.UUID


@dataclass
class Page(Generic[RowT]):
    rows: list[RowT]
    has_next_page: bool


def check_page_size(first: int) -> int:
    if not PAGE_SIZE_MIN <= first <= PAGE_SIZE_MAX:
        raise InvalidArgument("first", f"first must be between {PAGE_SIZE_MIN} and {PAGE_SIZE_MAX}, got {first}")
    return first


# A row of a keyset list: an `id`, and `created_at` or, for events that record a moment, `at`.
Listed = Any


def sort_time(row: Listed) -> datetime:
    """The time a list orders its rows by: when they were created, or for events that record a moment, that moment."""
    created_at = getattr(row, "created_at", None)
    return created_at if created_at is not None else row.at


def encode_cursor(box: SecretBox, kind: str, scope: uuid.UUID, row: Listed) -> str:
    body = _body(kind, sort_time(row), row.id)
    tag = box.mac(_SCOPE_TAG, body + scope.bytes)[:_TAG_BYTES]
    signature = box.mac(_SIGNING, body + tag)[:_MAC_BYTES]
    return base64.urlsafe_b64encode(body + tag + signature).decode().rstrip("=")


def decode_cursor(box: SecretBox, kind: str, scope: uuid.UUID, cursor: str | None) -> Position | None:
    """The position a cursor names; it must come from the same list and organization (or agent)."""
    if cursor is None:
        return None
    if len(cursor) > CURSOR_MAX_LENGTH:
        raise InvalidArgument("after", f"after must be at most {CURSOR_MAX_LENGTH} characters")
    verified = _verified(box, _unbase64(cursor))
    parsed = _parsed(verified[0]) if verified is not None else None
    if verified is None or parsed is None:
        raise InvalidArgument("after", "after is not a cursor returned by this API")
    body, tag, key_index = verified
    cursor_kind, position = parsed
    scope_tag = box.macs(_SCOPE_TAG, body + scope.bytes)[key_index][:_TAG_BYTES]
    if cursor_kind != kind or not hmac.compare_digest(tag, scope_tag):
        raise InvalidArgument("after", f"after is a cursor of another list, not of {kind}")
    return position


def _body(kind: str, created_at: datetime, row_id: uuid.UUID) -> bytes:
    name = kind.encode("ascii")
    return bytes([_CURSOR_FORMAT, len(name)]) + name + _POSITION.pack((created_at - _EPOCH) // _MICROSECOND, row_id.bytes)


def _unbase64(text: str) -> bytes:
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        return b""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _verified(box: SecretBox, raw: bytes) -> tuple[bytes, bytes, int] | None:
    """(body, scope tag, index of the key that signed it), if a configured key signed `raw`."""
    if len(raw) <= _TAG_BYTES + _MAC_BYTES:
        return None
    signed, signature = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    for key_index, expected in enumerate(box.macs(_SIGNING, signed)):
        if hmac.compare_digest(expected[:_MAC_BYTES], signature):
            return signed[:-_TAG_BYTES], signed[-_TAG_BYTES:], key_index
    return None


def _parsed(body: bytes) -> tuple[str, Position] | None:
    # Only bodies this module signed get here; the checks keep a format change from becoming a 500.
    if len(body) < 2 or body[0] != _CURSOR_FORMAT or len(body) != 2 + body[1] + _POSITION.size:
        return None
    try:
        kind = body[2 : 2 + body[1]].decode("ascii")
        micros, row_id = _POSITION.unpack_from(body, 2 + body[1])
        return kind, Position(_EPOCH + micros * _MICROSECOND, uuid.UUID(bytes=row_id))
    except (UnicodeDecodeError, OverflowError):
        return None


def after_position(position: Position) -> Q:
    return Q(created_at__lt=position.created_at) | Q(created_at=position.created_at, id__lt=position.id)


async def keyset_page(query: QuerySet[RowT], first: int, position: Position | None) -> Page[RowT]:
    if position is not None:
        query = query.filter(after_position(position))
    rows = await query.order_by("-created_at", "-id").limit(first + 1)
    return Page(rows[:first], has_next_page=len(rows) > first)

"""Keyset pagination: newest first, ties broken by id, opaque cursors.

A page is read with `WHERE (created_at, id) < (cursor)` over the index on
(organization, created_at, id), so its cost does not grow with the rows
before it, unlike OFFSET.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

PAGE_SIZE_MIN, PAGE_SIZE_MAX = 1, 100
DEFAULT_PAGE_SIZE = 20

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


def encode_cursor(kind: str, scope: uuid.UUID, row: Any) -> str:
    payload = json.dumps([kind, scope.hex, row.created_at.isoformat(), row.id.hex], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(kind: str, scope: uuid.UUID, cursor: str | None) -> Position | None:
    """The position a cursor names; it must come from the same list and organization."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_kind, cursor_scope, created_at, row_id = json.loads(raw)
        position = Position(datetime.fromisoformat(created_at), uuid.UUID(hex=row_id))
        if position.created_at.tzinfo is None:
            raise ValueError("naive timestamp")
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidArgument("after", "after is not a cursor returned by this API") from None
    if cursor_kind != kind or cursor_scope != scope.hex:
        raise InvalidArgument("after", f"after is a cursor of another list, not of {kind}")
    return position


def after_position(position: Position) -> Q:
    return Q(created_at__lt=position.created_at) | Q(created_at=position.created_at, id__lt=position.id)


async def keyset_page(query: QuerySet[RowT], first: int, position: Position | None) -> Page[RowT]:
    if position is not None:
        query = query.filter(after_position(position))
    rows = await query.order_by("-created_at", "-id").limit(first + 1)
    return Page(rows[:first], has_next_page=len(rows) > first)

"""Re-encrypting stored secrets with the first configured key.

Runs beside live servers: each batch is one short transaction, and a value
is replaced only if it is still the one that was read, so a concurrent write
to the same row wins. Values already sealed with the first key are left
alone, so an interrupted rotation is finished by running it again.

A server that does not yet have the new key first keeps sealing with an old
one, behind the walk as well as ahead of it; so a rotation ends by counting
what is still not sealed with the first key (`unrotated_secrets`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import PhoneNumber
from models.secrets import SecretBox, SecretDecryptionError
from resolvers.phone_numbers import SECRET_COLUMNS, secret_context

DEFAULT_BATCH_SIZE = 100
# How many unrotated secrets a failed rotation names; it counts them all.
UNROTATED_LISTED = 20


@dataclass(frozen=True)
class Unrotated:
    total: int
    first: list[tuple[uuid.UUID, str]]  # (row id, column), in id order, at most UNROTATED_LISTED


async def reseal_secrets(box: SecretBox, *, batch_size: int = DEFAULT_BATCH_SIZE) -> AsyncIterator[int]:
    """Walk every row holding a secret, in id order; yield how many values each batch re-encrypted."""
    columns = tuple(SECRET_COLUMNS.values())
    # Q(**filters): mypy would match a dict[str, bool] against Q's `join_type: str` too.
    filters: list[dict[str, Any]] = [{f"{column}__isnull": False} for column in columns]
    holds_a_secret = reduce(or_, (Q(**f) for f in filters))
    after: uuid.UUID | None = None
    while True:
        page = PhoneNumber.filter(holds_a_secret)
        if after is not None:
            page = page.filter(id__gt=after)
        rows = await page.order_by("id").limit(batch_size).values("id", *columns)
        if not rows:
            return
        updates = [
            (row["id"], column, row[column], _resealed(box, row["id"], column, row[column]))
            for row in rows
            for column in columns
            if row[column] is not None and not box.sealed_with_primary(row[column])
        ]
        async with in_transaction():
            for row_id, column, old, new in updates:
                await PhoneNumber.filter(id=row_id, **{column: old}).update(**{column: new})
        yield len(updates)
        after = rows[-1]["id"]


def _resealed(box: SecretBox, row_id: uuid.UUID, column: str, token: str) -> str:
    context = secret_context(row_id, column)
    try:
        return box.encrypt(box.decrypt(token, context), context)
    except SecretDecryptionError as error:
        raise SecretDecryptionError(f"phone number {row_id}, {column}: {error}") from error


async def unrotated_secrets(box: SecretBox, *, listed: int = UNROTATED_LISTED) -> Unrotated:
    """Every stored secret not sealed with the first key: how many, and the first `listed` by row id."""
    total = 0
    first: list[tuple[uuid.UUID, str]] = []
    for column in SECRET_COLUMNS.values():
        stale = PhoneNumber.filter(**{f"{column}__isnull": False}).exclude(**{f"{column}__startswith": box.primary_prefix})
        total += await stale.count()
        ids = await stale.order_by("id").limit(listed).values_list("id", flat=True)
        first += [(uuid.UUID(str(row_id)), column) for row_id in ids]
    return Unrotated(total, sorted(first)[:listed])

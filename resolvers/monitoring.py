"""Which numbers a monitor checks next: claims that give each number to one monitor per interval.

Every worker process of every host runs a monitor (switchboard/monitor.py);
they share the work through `phone_number_health`. A claim takes up to
`limit` rows that are due (`next_check_at` passed or never set) and not
leased (no check of them in flight), and in the same statement moves
their `next_check_at` one interval ahead and leases them until a check
must have ended, and reads their numbers. On PostgreSQL the rows are read `FOR UPDATE SKIP LOCKED`:
monitors claiming at once take disjoint rows and never wait for each other,
so each due number is claimed by exactly one of them. SQLite is served by
one process, whose single monitor needs no locks.

Numbers without a health row (created since) get one from `adopt_new_numbers`,
due at once; rows of deleted numbers go with them (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise import connections
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import PhoneNumber, PhoneNumberHealth


async def adopt_new_numbers(limit: int) -> int:
    """Give up to `limit` numbers without a health row one, due at once; return how many were added.

    ON CONFLICT DO NOTHING: a row another monitor, or a check someone asked
    for, added meanwhile is left as it is.
    """
    connection = connections.get("default")
    inserted = await connection.execute_query_dict(
        "INSERT INTO phone_number_health (phone_number_id, organization_id, failures, successes) "
        "SELECT p.id, p.organization_id, 0, 0 FROM phone_numbers p "
        "WHERE NOT EXISTS (SELECT 1 FROM phone_number_health h WHERE h.phone_number_id = p.id) "
        f"LIMIT {int(limit)} "
        "ON CONFLICT DO NOTHING RETURNING phone_number_id"
    )
    return len(inserted)


# One statement, so one round trip and no transaction around it: the rows claimed, and the numbers they are of.
_CLAIM = """
WITH claimed AS (
  UPDATE phone_number_health SET next_check_at = $1, lease_until = $2
  WHERE phone_number_id IN (
    SELECT phone_number_id FROM phone_number_health
    WHERE (next_check_at IS NULL OR next_check_at <= $3) AND (lease_until IS NULL OR lease_until <= $3)
    ORDER BY next_check_at LIMIT $4
    FOR NO KEY UPDATE SKIP LOCKED
  )
  RETURNING phone_number_id
)
SELECT p.* FROM phone_numbers p JOIN claimed c ON c.phone_number_id = p.id
"""


async def claim_due(limit: int, *, now: datetime, interval: timedelta, lease: timedelta) -> list[PhoneNumber]:
    """Up to `limit` due numbers, now this monitor's to check; oldest due first."""
    if limit <= 0:
        return []
    connection = connections.get("default")
    if connection.capabilities.support_for_update:
        # Tortoise's own way from rows to models (what Model.raw does, with parameters).
        executor = connection.executor_class(model=PhoneNumber, db=connection)
        claimed: list[PhoneNumber] = await executor.execute_select(_CLAIM, [now + interval, now + lease, now, limit])
        return claimed
    # SQLite: one process, one monitor; nothing to skip. The transaction writes first (a write
    # that matches no row), so it waits for another writer's lock as writes do; reading first
    # would take a snapshot that writer's commit leaves stale, and the update would then fail.
    async with in_transaction() as transaction:
        await PhoneNumberHealth.filter(phone_number_id__isnull=True).using_db(transaction).update(lease_until=None)
        due = (
            PhoneNumberHealth.filter(Q(next_check_at__isnull=True) | Q(next_check_at__lte=now))
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
            .order_by("next_check_at")
            .limit(limit)
            .using_db(transaction)
        )
        ids = await due.values_list("phone_number_id", flat=True)
        if not ids:
            return []
        await (
            PhoneNumberHealth.filter(phone_number_id__in=ids)
            .using_db(transaction)
            .update(next_check_at=now + interval, lease_until=now + lease)
        )
        return await PhoneNumber.filter(id__in=ids).using_db(transaction)

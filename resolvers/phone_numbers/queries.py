"""Reads of phone numbers: one by id, filtered lists and counts, and pages per agent."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from pypika_tortoise.analytics import RowNumber
from pypika_tortoise.enums import Order
from pypika_tortoise.queries import Table
from tortoise import connections
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from models import PhoneNumber
from resolvers import rules
from resolvers.context import RequestContext
from resolvers.owned import get_owned
from resolvers.pagination import InvalidArgument, Page, Position, keyset_page
from resolvers.phone_numbers.inputs import NAME_MAX_LENGTH, PhoneNumberFilter


async def get_phone_number(ctx: RequestContext, phone_number_id: str) -> PhoneNumber | None:
    return await get_owned(PhoneNumber, ctx, phone_number_id)


# As long as the longest name: a longer search can match nothing.
SEARCH_MAX_LENGTH = NAME_MAX_LENGTH


def _filtered(ctx: RequestContext, where: PhoneNumberFilter) -> QuerySet[PhoneNumber]:
    query = PhoneNumber.filter(organization_id=ctx.organization_id)
    if where.provider is not None:
        query = query.filter(provider=where.provider)
    if where.sip_mode is not None:
        query = query.filter(sip_mode=where.sip_mode)
    if where.agent_id is not None:
        agent_id = rules.parse_uuid(where.agent_id)
        if agent_id is None:
            raise InvalidArgument("filter.agentId", "filter.agentId must be a UUID")
        query = query.filter(agent_id=agent_id)
    search = _search(where.search)
    if search:
        matches = Q(name__icontains=search)
        digits = re.sub(r"\D", "", search)
        if digits:
            matches |= Q(number__contains=digits)
        query = query.filter(matches)
    return query


def _search(value: str | None) -> str:
    """The search text, trimmed: refused when longer than any name it could match (SQLite also
    refuses LIKE patterns over 50,000 bytes) or holding control characters (PostgreSQL refuses NUL)."""
    search = (value or "").strip()
    if len(search) > SEARCH_MAX_LENGTH:
        raise InvalidArgument(
            "filter.search", f"filter.search is too long (at most {SEARCH_MAX_LENGTH} characters, got {len(search)})"
        )
    if rules.has_control_characters(search):
        raise InvalidArgument("filter.search", "filter.search can't contain control characters")
    return search


async def list_phone_numbers(
    ctx: RequestContext, first: int, position: Position | None, where: PhoneNumberFilter
) -> Page[PhoneNumber]:
    return await keyset_page(_filtered(ctx, where), first, position)


async def count_phone_numbers(ctx: RequestContext, where: PhoneNumberFilter) -> int:
    return await _filtered(ctx, where).count()


async def list_phone_numbers_by_offset(
    ctx: RequestContext, limit: int, offset: int, where: PhoneNumberFilter
) -> list[PhoneNumber]:
    """Offset pages, for the REST API's compatibility; GraphQL pages by keyset."""
    return await _filtered(ctx, where).order_by("-created_at", "-id").offset(offset).limit(limit)


async def pages_by_agent(
    ctx: RequestContext, agent_ids: Iterable[uuid.UUID], first: int, position: Position | None
) -> dict[uuid.UUID, Page[PhoneNumber]]:
    """The same page of numbers for each of several agents, in two queries.

    ROW_NUMBER() per agent picks at most first + 1 rows of each, however many
    numbers an agent has; the rows are then loaded by id.
    """
    agent_ids = list(agent_ids)
    connection = connections.get("default")
    numbers = Table("phone_numbers")
    position_in_agent = (
        RowNumber()
        .over(numbers.agent_id)
        .orderby(numbers.created_at, order=Order.desc)
        .orderby(numbers.id, order=Order.desc)
        .as_("position_in_agent")
    )
    ranked = (
        connection.query_class.from_(numbers)
        .select(numbers.id, position_in_agent)
        .where(numbers.organization_id == str(ctx.organization_id))
        .where(numbers.agent_id.isin([str(a) for a in agent_ids]))
    )
    if position is not None:
        ranked = ranked.where(
            (numbers.created_at < position.created_at)
            | ((numbers.created_at == position.created_at) & (numbers.id < str(position.id)))
        )
    query = connection.query_class.from_(ranked).select(ranked.id).where(ranked.position_in_agent <= first + 1)
    sql, params = query.get_parameterized_sql()
    ids = [row["id"] for row in await connection.execute_query_dict(sql, params)]
    rows = await PhoneNumber.filter(id__in=ids).order_by("-created_at", "-id") if ids else []
    pages: dict[uuid.UUID, Page[PhoneNumber]] = {agent_id: Page([], False) for agent_id in agent_ids}
    for row in rows:
        assert row.agent_id is not None  # the query selects numbers of these agents only
        page = pages[row.agent_id]
        if len(page.rows) == first:
            page.has_next_page = True
        else:
            page.rows.append(row)
    return pages


async def counts_by_agent(ctx: RequestContext, agent_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    agent_ids = list(agent_ids)
    counted = (
        await PhoneNumber.filter(organization_id=ctx.organization_id, agent_id__in=agent_ids)
        .annotate(count=Count("id"))
        .group_by("agent_id")
        .values_list("agent_id", "count")
    )
    totals = {uuid.UUID(str(agent_id)): count for agent_id, count in counted}
    return {agent_id: totals.get(agent_id, 0) for agent_id in agent_ids}

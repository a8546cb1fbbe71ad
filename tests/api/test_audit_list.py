"""auditEvents and GET /v1/audit-events: filters, keyset pages, argument errors, and the indexes behind them."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from models import (
    AuditAction,
    AuditActorType,
    AuditEvent,
    AuditTargetType,
    Organization,
)
from models.secrets import SecretBox
from resolvers import audit
from resolvers.context import RequestContext
from resolvers.pagination import Position, after_position
from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.audit_helpers import Event, all_events, all_rest_events, key_actor
from tests.support.database import ENCRYPTION_KEY
from tests.support.graphql_ops import AUDIT_EVENTS, CREATE_API_KEY, UPDATE_PHONE_NUMBER
from tests.support.helpers import create_agent, create_number

MISSING = "00000000-0000-4000-8000-00000000dead"


async def history(api: Api) -> dict[str, Any]:
    """Changes by two keys of Acme, to two numbers and an agent."""
    writer = (await api.gql(CREATE_API_KEY, {"input": {"name": "writer", "scopes": ["WRITE"]}}))["createApiKey"][
        "secret"
    ]
    first = await create_number(api, 1)
    second = await create_number(api, 2, key=writer)
    agent = await create_agent(api, key=writer)
    for name in ("a", "b", "c"):
        await api.gql(UPDATE_PHONE_NUMBER, {"input": {"id": first["id"], "name": name}}, key=writer)
    await api.gql(UPDATE_PHONE_NUMBER, {"input": {"id": second["id"], "name": "x"}})
    return {
        "writer": writer,
        "first": first,
        "second": second,
        "agent": agent,
        "writer_actor": await key_actor(api, writer),
    }


def order(events: list[Event]) -> list[tuple[str, str]]:
    return [(e["at"], e["id"]) for e in events]


async def test_newest_first_ties_broken_by_id(api: Api) -> None:
    await history(api)
    events = await all_events(api)
    assert len(events) == 1 + 1 + 2 + 1 + 4  # the fixture's key, the writer key, two numbers, an agent, four updates
    keys = [(datetime.fromisoformat(e["at"]), e["id"]) for e in events]
    assert keys == sorted(keys, reverse=True)


async def test_each_filter_and_their_combination(api: Api) -> None:
    h = await history(api)
    events = await all_events(api)

    def expect(predicate: Any) -> list[str]:
        return [e["id"] for e in events if predicate(e)]

    async def ids(**filter: Any) -> list[str]:
        return [e["id"] for e in await all_events(api, filter=filter)]

    assert await ids(targetId=h["first"]["id"]) == expect(lambda e: e["targetId"] == h["first"]["id"])
    assert len(await ids(targetId=h["first"]["id"])) == 4
    assert await ids(actorKeyId=h["writer_actor"]["apiKeyId"]) == expect(
        lambda e: e["actor"]["apiKeyId"] == h["writer_actor"]["apiKeyId"]
    )
    assert len(await ids(actorKeyId=h["writer_actor"]["apiKeyId"])) == 5
    assert await ids(action="PHONE_NUMBER_UPDATED") == expect(lambda e: e["action"] == "PHONE_NUMBER_UPDATED")
    both = await ids(targetId=h["first"]["id"], action="PHONE_NUMBER_UPDATED", actorKeyId=h["writer_actor"]["apiKeyId"])
    assert both == expect(lambda e: e["targetId"] == h["first"]["id"] and e["action"] == "PHONE_NUMBER_UPDATED")
    assert len(both) == 3
    assert await ids(targetId=MISSING) == []


def moment(event: Event) -> datetime:
    return datetime.fromisoformat(event["at"])


async def test_since_is_inclusive_and_until_exclusive(api: Api) -> None:
    await history(api)
    events = await all_events(api)
    middle = events[3]
    at = middle["at"]

    since = await all_events(api, filter={"since": at})
    until = await all_events(api, filter={"until": at})
    window = await all_events(api, filter={"since": events[6]["at"], "until": at})

    assert [e["id"] for e in since] == [e["id"] for e in events if moment(e) >= moment(middle)]
    assert middle["id"] in [e["id"] for e in since] and middle["id"] not in [e["id"] for e in until]
    assert [e["id"] for e in since + until] == [e["id"] for e in events]
    assert [e["id"] for e in window] == [e["id"] for e in events if moment(events[6]) <= moment(e) < moment(middle)]
    # Another offset, the same instant.
    shifted = datetime.fromisoformat(at).astimezone(timezone(timedelta(hours=-5))).isoformat()
    assert [e["id"] for e in await all_events(api, filter={"since": shifted})] == [e["id"] for e in since]


async def test_pages_walk_every_event_once_with_any_filter(api: Api) -> None:
    h = await history(api)
    for filter in ({}, {"targetId": h["first"]["id"]}, {"action": "PHONE_NUMBER_UPDATED"}):
        everything = await all_events(api, filter=filter)
        walked: list[str] = []
        after = None
        while True:
            page = (await api.gql(AUDIT_EVENTS, {"first": 2, "after": after, "filter": filter}))["auditEvents"]
            walked += [edge["node"]["id"] for edge in page["edges"]]
            assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
            assert len(page["edges"]) <= 2
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
            assert after == page["edges"][-1]["cursor"]
        assert walked == [e["id"] for e in everything]


async def test_an_event_added_meanwhile_does_not_shift_the_next_page(api: Api) -> None:
    h = await history(api)
    first_page = (await api.gql(AUDIT_EVENTS, {"first": 3}))["auditEvents"]
    await api.gql(UPDATE_PHONE_NUMBER, {"input": {"id": h["second"]["id"], "name": "meanwhile"}})
    second_page = (await api.gql(AUDIT_EVENTS, {"first": 3, "after": first_page["pageInfo"]["endCursor"]}))[
        "auditEvents"
    ]
    before = [e["id"] for e in await all_events(api)][1:]
    assert [e["node"]["id"] for e in first_page["edges"] + second_page["edges"]] == before[:6]


@pytest.mark.parametrize(
    ("variables", "argument", "message"),
    [
        pytest.param(
            {"filter": {"targetId": "nope"}}, "filter.targetId", "filter.targetId must be a UUID", id="target-not-uuid"
        ),
        pytest.param(
            {"filter": {"actorKeyId": "x"}},
            "filter.actorKeyId",
            "filter.actorKeyId must be a UUID",
            id="actor-not-uuid",
        ),
        pytest.param(
            {"filter": {"since": "2030-01-01T00:00:00"}},
            "filter.since",
            "filter.since must include a UTC offset, e.g. 2030-01-31T12:00:00Z",
            id="since-without-offset",
        ),
        pytest.param(
            {"filter": {"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"}},
            "filter.until",
            "filter.until must be later than filter.since",
            id="until-before-since",
        ),
        pytest.param(
            {"filter": {"since": "0001-01-01T00:00:00+01:00"}},
            "filter.since",
            "filter.since is out of range: it falls outside the years 1 to 9999 in UTC",
            id="since-before-year-1-in-utc",
        ),
        pytest.param(
            {"filter": {"until": "9999-12-31T23:00:00-05:00"}},
            "filter.until",
            "filter.until is out of range: it falls outside the years 1 to 9999 in UTC",
            id="until-after-year-9999-in-utc",
        ),
        pytest.param({"first": 0}, "first", "first must be between 1 and 100, got 0", id="first-zero"),
        pytest.param({"first": 101}, "first", "first must be between 1 and 100, got 101", id="first-too-many"),
        pytest.param({"after": "garbage"}, "after", "after is not a cursor returned by this API", id="after-garbage"),
    ],
)
async def test_unusable_arguments_are_named(api: Api, variables: dict[str, Any], argument: str, message: str) -> None:
    response = await api.post(AUDIT_EVENTS, variables)
    (error,) = response.json()["errors"]
    assert (error["message"], error["extensions"]) == (message, {"code": "BAD_USER_INPUT", "argument": argument})


async def test_a_cursor_of_another_list_is_refused(api: Api) -> None:
    await create_number(api, 1)
    await create_number(api, 2)
    numbers = (await api.gql("query { phoneNumbers(first: 1) { pageInfo { endCursor } } }"))["phoneNumbers"]
    response = await api.post(AUDIT_EVENTS, {"after": numbers["pageInfo"]["endCursor"]})
    assert response.json()["errors"][0]["message"] == "after is a cursor of another list, not of audit_events"


# --- REST ---------------------------------------------------------------------------


async def rest(api: Api, **params: str) -> Any:
    return await api.client.get("/v1/audit-events", params=params, headers={"Authorization": f"Bearer {api.key}"})


async def test_rest_lists_the_same_events_with_its_filters(api: Api) -> None:
    h = await history(api)
    graphql = await all_events(api)
    listed = await all_rest_events(api.client, api.key or "")
    assert [e["id"] for e in listed] == [e["id"] for e in graphql]
    first = listed[-2]
    assert set(first) == {"id", "at", "action", "actor", "targetType", "targetId", "requestId", "changes"}
    by_target = await all_rest_events(
        api.client, api.key or "", targetId=h["first"]["id"], action="phone_number_updated"
    )
    assert [e["id"] for e in by_target] == [
        e["id"] for e in graphql if e["targetId"] == h["first"]["id"] and e["action"] == "PHONE_NUMBER_UPDATED"
    ]
    by_actor = await all_rest_events(
        api.client, api.key or "", actorKeyId=h["writer_actor"]["apiKeyId"], since=graphql[4]["at"]
    )
    assert [e["id"] for e in by_actor] == [
        e["id"]
        for e in graphql
        if e["actor"]["apiKeyId"] == h["writer_actor"]["apiKeyId"] and moment(e) >= moment(graphql[4])
    ]
    assert len(by_actor) == 4
    assert all(e["actor"] == {**h["writer_actor"], "type": "api_key"} for e in by_actor)


async def test_rest_pages_by_cursor_and_shares_graphql_cursors(api: Api) -> None:
    await history(api)
    everything = [e["id"] for e in await all_events(api)]
    page = (await rest(api, limit="4")).json()
    assert [e["id"] for e in page["data"]] == everything[:4]
    assert page["pagination"]["limit"] == 4 and page["pagination"]["nextCursor"]
    graphql_page = (await api.gql(AUDIT_EVENTS, {"first": 4}))["auditEvents"]
    assert graphql_page["pageInfo"]["endCursor"] == page["pagination"]["nextCursor"]
    rest_next = (await rest(api, limit="4", after=graphql_page["pageInfo"]["endCursor"])).json()
    graphql_next = (await api.gql(AUDIT_EVENTS, {"first": 4, "after": page["pagination"]["nextCursor"]}))["auditEvents"]
    assert [e["id"] for e in rest_next["data"]] == [e["node"]["id"] for e in graphql_next["edges"]] == everything[4:8]
    last = (await rest(api, limit="100")).json()
    assert last["pagination"]["nextCursor"] is None


@pytest.mark.parametrize(
    ("params", "details"),
    [
        pytest.param(
            {"limit": "0"},
            [{"field": "limit", "message": "limit must be an integer between 1 and 100"}],
            id="limit-zero",
        ),
        pytest.param(
            {"limit": "9" * 5000},
            [{"field": "limit", "message": "limit must be an integer between 1 and 100"}],
            id="limit-huge",
        ),
        pytest.param(
            {"offset": "10"},
            [{"field": "offset", "message": "offset is not a query parameter of this list"}],
            id="offset",
        ),
        pytest.param(
            {"action": "PHONE_NUMBER_CREATED"},
            [{"field": "action", "message": "action must be one of: " + ", ".join(a.value for a in AuditAction)}],
            id="action-graphql-spelling",
        ),
        pytest.param(
            {"targetId": "nope"}, [{"field": "targetId", "message": "targetId must be a UUID"}], id="target-not-uuid"
        ),
        pytest.param(
            {"actorKeyId": "nope"},
            [{"field": "actorKeyId", "message": "actorKeyId must be a UUID"}],
            id="actor-not-uuid",
        ),
        pytest.param(
            {"since": "2030-01-01T00:00:00 00:00"},
            [{"field": "since", "message": "since must be a date-time such as 2030-01-31T12:00:00Z (send + as %2B)"}],
            id="since-plus-sent-as-space",
        ),
        pytest.param(
            {"until": "2030-01-01T00:00:00"},
            [{"field": "until", "message": "until must include a UTC offset, e.g. 2030-01-31T12:00:00Z"}],
            id="until-without-offset",
        ),
        pytest.param(
            {"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"},
            [{"field": "until", "message": "until must be later than since"}],
            id="until-before-since",
        ),
        pytest.param(
            {"after": "garbage"},
            [{"field": "after", "message": "after is not a cursor returned by this API"}],
            id="after-garbage",
        ),
        pytest.param(
            {"since": "0001-01-01T00:00:00+01:00"},
            [{"field": "since", "message": "since is out of range: it falls outside the years 1 to 9999 in UTC"}],
            id="since-before-year-1-in-utc",
        ),
    ],
)
async def test_rest_refuses_unusable_parameters_naming_them(
    api: Api, params: dict[str, str], details: list[dict[str, str]]
) -> None:
    response = await rest(api, **params)
    assert (response.status_code, response.json()) == (400, {"error": "Validation failed", "details": details})


# --- each filter reads one range of one index -------------------------------------------------

ORGANIZATIONS, EVENTS_EACH, TARGETS_EACH, KEYS_EACH = 20, 200, 20, 4
START = datetime(2029, 1, 1, tzinfo=UTC)


async def populate() -> dict[str, Any]:
    """A log of several organizations over two years, the planner's statistics taken: as a server's would be."""
    organizations = [Organization(name=f"org-{n}") for n in range(ORGANIZATIONS)]
    await Organization.bulk_create(organizations)
    actions = list(AuditAction)
    events = [
        AuditEvent(
            organization_id=organization.id,
            created_at=START + timedelta(hours=4 * (n * ORGANIZATIONS + o)),
            action=actions[n % len(actions)],
            target_type=AuditTargetType.PHONE_NUMBER,
            target_id=uuid.UUID(int=o * TARGETS_EACH + n % TARGETS_EACH),
            actor_type=AuditActorType.API_KEY,
            actor_key_id=uuid.UUID(int=10_000 + o * KEYS_EACH + n % KEYS_EACH),
            actor_name="k",
            changes=[],
        )
        for o, organization in enumerate(organizations)
        for n in range(EVENTS_EACH)
    ]
    await AuditEvent.bulk_create(events, batch_size=1000)
    await connections.get("default").execute_script("ANALYZE")
    return {
        "organization": organizations[7].id,
        "target": events[7 * EVENTS_EACH].target_id,
        "key": events[7 * EVENTS_EACH].actor_key_id,
    }


def filters(sample: dict[str, Any]) -> dict[str, tuple[audit.AuditEventFilter, str | None]]:
    """Each filter, and the column its index leads with after the organization."""
    since, until = datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 7, 1, tzinfo=UTC)
    return {
        "none": (audit.AuditEventFilter(), None),
        "targetId": (audit.AuditEventFilter(target_id=str(sample["target"])), "target_id"),
        "actorKeyId": (audit.AuditEventFilter(actor_key_id=str(sample["key"])), "actor_key_id"),
        "action": (audit.AuditEventFilter(action=AuditAction.AGENT_DELETED), "action"),
        "since-until": (audit.AuditEventFilter(since=since, until=until), "created_at"),
        "targetId-since": (audit.AuditEventFilter(target_id=str(sample["target"]), since=since), "target_id"),
    }


FILTER_NAMES = ("none", "targetId", "actorKeyId", "action", "since-until", "targetId-since")


def page_sql(organization_id: uuid.UUID, where: audit.AuditEventFilter, position: Position | None) -> str:
    """The query of a page, as the list runs it."""
    ctx = RequestContext(organization_id=organization_id, secrets=SecretBox([ENCRYPTION_KEY]))
    query = audit.list_query(ctx, where, position)
    if position is not None:
        query = query.filter(after_position(position))
    return query.order_by("-created_at", "-id").limit(21).sql(params_inline=True)


def plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in plan_nodes(child))]


@pytest.mark.parametrize("after", [False, True], ids=["first-page", "next-page"])
@pytest.mark.parametrize("name", FILTER_NAMES)
async def test_each_filter_is_a_scan_of_one_index_in_the_lists_order(
    app: Any, settings: Settings, name: str, after: bool
) -> None:
    sample = await populate()
    where, column = filters(sample)[name]
    position = Position(datetime(2030, 6, 1, tzinfo=UTC), uuid.UUID(MISSING)) if after else None
    sql = page_sql(sample["organization"], where, position)
    if settings.is_sqlite:
        plan = " | ".join(
            row["detail"] for row in await connections.get("default").execute_query_dict(f"EXPLAIN QUERY PLAN {sql}")
        )
        assert "TEMP B-TREE" not in plan, plan
        (search,) = re.findall(r"USING INDEX \S+ \(([^)]*)\)", plan)
        condition = search.replace("?", " ?")
    else:
        async with in_transaction() as connection:
            # Sorting made dear: a plan that still sorts has no index in the list's order.
            await connection.execute_script("SET LOCAL enable_sort = off")
            (row,) = await connection.execute_query_dict(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = row["QUERY PLAN"]
        nodes = plan_nodes((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
        assert not [n for n in nodes if "Sort" in n["Node Type"]], nodes
        (scan,) = [n for n in nodes if n["Node Type"] in ("Index Scan", "Index Scan Backward", "Index Only Scan")]
        condition = scan["Index Cond"]
    assert re.search(r"\borganization_id\b", condition), condition
    if column is not None:
        assert re.search(rf"\b{column}\b", condition), condition
    if after:
        assert re.search(r"\bcreated_at\s*<", condition), condition

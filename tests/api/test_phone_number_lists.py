"""phoneNumbers, agents and Agent.phoneNumbers: keyset pages, filters, DataLoaders."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from models import PhoneNumber
from tests.support.app import Api
from tests.support.graphql_ops import LIST_AGENTS, LIST_PHONE_NUMBERS, sip_ip_allowlist, sip_registration
from tests.support.helpers import create_agent, create_number


async def list_numbers(api: Api, **variables: Any) -> dict[str, Any]:
    return (await api.gql(LIST_PHONE_NUMBERS, variables))["phoneNumbers"]


async def test_pages_walked_to_the_end_while_rows_are_inserted(api: Api) -> None:
    existing = [(await create_number(api, n))["id"] for n in range(23)]
    seen: list[str] = []
    after = None
    inserted = 100
    while True:
        page = await list_numbers(api, first=5, after=after)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert [e["cursor"] for e in page["edges"]][-1:] == [page["pageInfo"]["endCursor"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        for _ in range(2):  # newer rows arrive between page requests
            await create_number(api, inserted)
            inserted += 1

    assert seen == list(reversed(existing)), "newest first, each existing row exactly once"
    assert page["totalCount"] == 23 + (inserted - 100)


async def test_order_is_newest_first_with_ties_broken_by_id(api: Api) -> None:
    ids = [(await create_number(api, n))["id"] for n in range(6)]
    # Four rows share one timestamp: their order must still be total and stable.
    first = await PhoneNumber.get(id=ids[0])
    await PhoneNumber.filter(id__in=ids[1:4]).update(created_at=first.created_at)
    walked: list[str] = []
    after = None
    while True:
        page = await list_numbers(api, first=2, after=after)
        walked += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    full = [e["node"]["id"] for e in (await list_numbers(api, first=100))["edges"]]
    assert walked == full and sorted(walked) == sorted(ids)
    tied = [i for i in full if i in ids[:4]]
    assert tied == sorted(ids[:4], reverse=True)


async def test_first_page_info(api: Api) -> None:
    for n in range(3):
        await create_number(api, n)
    page = await list_numbers(api, first=2)
    assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["hasPreviousPage"] is False
    assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
    last = await list_numbers(api, first=2, after=page["pageInfo"]["endCursor"])
    assert len(last["edges"]) == 1
    assert last["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": last["edges"][0]["cursor"],
        "endCursor": last["edges"][0]["cursor"],
    }
    empty = await list_numbers(api, first=2, after=last["pageInfo"]["endCursor"])
    assert empty["edges"] == [] and empty["pageInfo"]["endCursor"] is None


async def test_default_page_size_is_20(api: Api) -> None:
    for n in range(21):
        await create_number(api, n)
    page = await list_numbers(api)
    assert len(page["edges"]) == 20 and page["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_first_outside_1_to_100_is_a_clear_error(api: Api, first: int) -> None:
    response = await api.post(LIST_PHONE_NUMBERS, {"first": first})
    body = response.json()
    assert body["errors"][0]["message"] == f"first must be between 1 and 100, got {first}"
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


async def test_first_100_is_allowed(api: Api) -> None:
    await create_number(api, 1)
    assert len((await list_numbers(api, first=100))["edges"]) == 1


@pytest.mark.parametrize("cursor", ["garbage", "", "eyJ4IjoxfQ", "WyJwaG9uZV9udW1iZXJzIl0", "%%%"])
async def test_malformed_cursor_is_a_clear_error(api: Api, cursor: str) -> None:
    response = await api.post(LIST_PHONE_NUMBERS, {"after": cursor})
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["message"] == "after is not a cursor returned by this API"
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


async def test_cursor_of_another_organization_or_list_is_refused(api: Api, other_key: str) -> None:
    await create_number(api, 1)
    await create_number(api, 2, key=other_key)
    theirs = (await api.gql(LIST_PHONE_NUMBERS, {"first": 1}, key=other_key))["phoneNumbers"]["pageInfo"]["endCursor"]
    response = await api.post(LIST_PHONE_NUMBERS, {"after": theirs})
    assert response.json()["errors"][0]["message"] == "after is a cursor of another list, not of phone_numbers"

    await create_agent(api, "A")
    agent_cursor = (await api.gql(LIST_AGENTS, {"first": 1}))["agents"]["pageInfo"]["endCursor"]
    response = await api.post(LIST_PHONE_NUMBERS, {"after": agent_cursor})
    assert response.json()["errors"][0]["extensions"]["argument"] == "after"


async def test_only_the_callers_numbers_are_listed(api: Api, other_key: str) -> None:
    mine = await create_number(api, 1)
    await create_number(api, 2, key=other_key)
    page = await list_numbers(api)
    assert [e["node"]["id"] for e in page["edges"]] == [mine["id"]]
    assert page["totalCount"] == 1


# --- filters ----------------------------------------------------------------------


@pytest.fixture
async def catalogue(api: Api) -> dict[str, Any]:
    agent = await create_agent(api, "Sales")
    return {
        "agent": agent,
        "twilio": await create_number(api, 1, name="Front Desk", agentId=agent["id"]),
        "registration": await create_number(api, 2, name="Warehouse", provider=sip_registration()),
        "allowlist": await create_number(api, 3, name="Back office", provider=sip_ip_allowlist(), agentId=agent["id"]),
        "voximplant": await create_number(api, 4, provider={"voximplant": {}}),
        "jambonz": await create_number(api, 5, name="50% off line", provider={"jambonz": {}}),
    }


FILTERS = [
    pytest.param({"provider": "TWILIO"}, ["twilio"], id="provider-twilio"),
    pytest.param({"provider": "SIP"}, ["allowlist", "registration"], id="provider-sip"),
    pytest.param({"provider": "VOXIMPLANT"}, ["voximplant"], id="provider-voximplant"),
    pytest.param({"provider": "JAMBONZ"}, ["jambonz"], id="provider-jambonz"),
    pytest.param({"sipMode": "REGISTRATION"}, ["registration"], id="sip-mode-registration"),
    pytest.param({"sipMode": "IP_ALLOWLIST"}, ["allowlist"], id="sip-mode-allowlist"),
    pytest.param({"agentId": "AGENT"}, ["allowlist", "twilio"], id="agent"),
    pytest.param({"agentId": str(uuid.UUID(int=7))}, [], id="agent-unknown"),
    pytest.param({"provider": "SIP", "agentId": "AGENT"}, ["allowlist"], id="provider-and-agent"),
    pytest.param({"search": "front"}, ["twilio"], id="search-name-case-insensitive"),
    pytest.param({"search": "OFFICE"}, ["allowlist"], id="search-name-upper"),
    pytest.param({"search": "5550003"}, ["allowlist"], id="search-digits"),
    pytest.param({"search": "(415) 555-0004"}, ["voximplant"], id="search-formatted-number"),
    pytest.param(
        {"search": "+1 415 555"}, ["jambonz", "voximplant", "allowlist", "registration", "twilio"], id="search-prefix"
    ),
    pytest.param({"search": "% off"}, ["jambonz"], id="search-percent-is-literal"),
    pytest.param({"search": "nothing-like-this"}, [], id="search-no-match"),
    pytest.param(
        {"search": "   "},
        ["jambonz", "voximplant", "allowlist", "registration", "twilio"],
        id="search-blank-is-no-filter",
    ),
]


@pytest.mark.parametrize(("filter", "expected"), FILTERS)
async def test_filters(api: Api, catalogue: dict[str, Any], filter: dict[str, Any], expected: list[str]) -> None:
    filter = {k: catalogue["agent"]["id"] if v == "AGENT" else v for k, v in filter.items()}
    page = await list_numbers(api, filter=filter)
    assert [e["node"]["id"] for e in page["edges"]] == [catalogue[name]["id"] for name in expected]
    assert page["totalCount"] == len(expected)


async def test_filter_agent_id_must_be_a_uuid(api: Api) -> None:
    response = await api.post(LIST_PHONE_NUMBERS, {"filter": {"agentId": "sales"}})
    error = response.json()["errors"][0]
    assert error["message"] == "filter.agentId must be a UUID"
    assert error["extensions"]["argument"] == "filter.agentId"


async def test_filtered_pages_walk_to_the_end(api: Api) -> None:
    for n in range(7):
        await create_number(api, n, provider=sip_ip_allowlist() if n % 2 else sip_registration())
    ids, after = [], None
    while True:
        page = await list_numbers(api, first=2, after=after, filter={"sipMode": "IP_ALLOWLIST"})
        ids += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(ids) == 3 == len(set(ids))


# --- agents, Agent.phoneNumbers, DataLoaders ----------------------------------------

AGENTS_WITH_NUMBERS = """
query ($first: Int, $numbers: Int, $after: String) {
  agents(first: $first) {
    edges { node { id name phoneNumbers(first: $numbers, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id number } } } } }
  }
}
"""

NUMBERS_WITH_AGENTS = """
query ($first: Int) {
  phoneNumbers(first: $first) { edges { node { id agent { id name } } } }
}
"""


async def test_agents_list_walks_to_the_end(api: Api, other_key: str) -> None:
    made = [(await create_agent(api, f"Agent {n}"))["id"] for n in range(5)]
    await create_agent(api, "Not mine", key=other_key)
    ids, after = [], None
    while True:
        page = (await api.gql(LIST_AGENTS, {"first": 2, "after": after}))["agents"]
        ids += [e["node"]["id"] for e in page["edges"]]
        assert page["totalCount"] == 5
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert ids == list(reversed(made))


async def test_agent_phone_numbers_pages(api: Api) -> None:
    a, b = await create_agent(api, "A"), await create_agent(api, "B")
    a_numbers = [(await create_number(api, n, agentId=a["id"]))["id"] for n in range(5)]
    b_numbers = [(await create_number(api, 10 + n, agentId=b["id"]))["id"] for n in range(2)]
    await create_number(api, 20)  # no agent

    data = await api.gql(AGENTS_WITH_NUMBERS, {"numbers": 3})
    by_name = {e["node"]["name"]: e["node"]["phoneNumbers"] for e in data["agents"]["edges"]}
    assert [e["node"]["id"] for e in by_name["A"]["edges"]] == a_numbers[::-1][:3]
    assert by_name["A"]["pageInfo"]["hasNextPage"] is True and by_name["A"]["totalCount"] == 5
    assert [e["node"]["id"] for e in by_name["B"]["edges"]] == b_numbers[::-1]
    assert by_name["B"]["pageInfo"]["hasNextPage"] is False and by_name["B"]["totalCount"] == 2

    rest = (
        await api.gql(
            "query ($id: ID!, $after: String) { agent(id: $id) { phoneNumbers(first: 3, after: $after) { pageInfo { hasNextPage } edges { node { id } } } } }",
            {"id": a["id"], "after": by_name["A"]["pageInfo"]["endCursor"]},
        )
    )["agent"]["phoneNumbers"]
    assert [e["node"]["id"] for e in rest["edges"]] == a_numbers[::-1][3:]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_agent_phone_numbers_cursor_of_another_agent_is_refused(api: Api) -> None:
    a, b = await create_agent(api, "A"), await create_agent(api, "B")
    await create_number(api, 1, agentId=a["id"])
    await create_number(api, 2, agentId=a["id"])
    page = (await api.gql(AGENTS_WITH_NUMBERS, {"numbers": 1}))["agents"]["edges"]
    a_cursor = next(e for e in page if e["node"]["name"] == "A")["node"]["phoneNumbers"]["pageInfo"]["endCursor"]
    response = await api.post(
        "query ($id: ID!, $after: String) { agent(id: $id) { phoneNumbers(after: $after) { edges { cursor } } } }",
        {"id": b["id"], "after": a_cursor},
    )
    assert response.json()["errors"][0]["message"] == "after is a cursor of another list, not of agent_phone_numbers"


async def count_queries(api: Api, caplog: pytest.LogCaptureFixture, query: str, variables: dict[str, Any]) -> int:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        await api.gql(query, variables)
    return len([r for r in caplog.records if r.name == "tortoise.db_client"])


@pytest.mark.counts_statements
async def test_numbers_with_agents_cost_a_constant_number_of_queries(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    agents = [await create_agent(api, f"Agent {n}") for n in range(10)]
    for n in range(5):
        await create_number(api, n, agentId=agents[n % 10]["id"])
    small = await count_queries(api, caplog, NUMBERS_WITH_AGENTS, {"first": 100})
    for n in range(5, 100):
        await create_number(api, n, agentId=agents[n % 10]["id"])
    large = await count_queries(api, caplog, NUMBERS_WITH_AGENTS, {"first": 100})
    # the page, one batched agent lookup (the key was checked before, and is remembered)
    assert small == large == 2


@pytest.mark.counts_statements
async def test_agents_with_numbers_cost_a_constant_number_of_queries(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    agents = [await create_agent(api, f"Agent {n}") for n in range(2)]
    for n in range(4):
        await create_number(api, n, agentId=agents[n % 2]["id"])
    small = await count_queries(api, caplog, AGENTS_WITH_NUMBERS, {"first": 100, "numbers": 5})
    agents += [await create_agent(api, f"Agent {n}") for n in range(2, 30)]
    for n in range(4, 150):
        await create_number(api, n, agentId=agents[n % 30]["id"])
    large = await count_queries(api, caplog, AGENTS_WITH_NUMBERS, {"first": 100, "numbers": 5})
    # agents page, numbers ranked then loaded, counts per agent (the key is remembered)
    assert small == large == 4

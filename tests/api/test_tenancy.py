"""Every operation, called with another organization's ids, behaves as if the id did not exist.

The list of operations comes from the schema itself: a new query or mutation
without a case here fails `test_every_operation_has_a_case`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from models import HealthState, PhoneNumber
from resolvers.health import record_check
from resolvers.verification import CheckResult
from schema import schema
from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import (
    AGENT,
    AUDIT_EVENTS,
    CREATE_AGENT,
    CREATE_API_KEY,
    CREATE_PHONE_NUMBER,
    DELETE_AGENT,
    DELETE_PHONE_NUMBER,
    LIST_AGENTS,
    LIST_API_KEYS,
    LIST_PHONE_NUMBERS,
    NODE,
    NODES,
    PHONE_NUMBER,
    REVOKE_API_KEY,
    UPDATE_AGENT,
    UPDATE_PHONE_NUMBER,
    VERIFY_PHONE_NUMBER,
    VIEWER,
    twilio,
)
from tests.support.helpers import create_agent, create_number
from tests.support.subscriptions import asgi_client, bearer, connected

MISSING = "00000000-0000-4000-8000-00000000dead"


class Org:
    """Organization A's data, and ways to call as organization B."""

    def __init__(
        self, api: Api, other_key: str, number: dict[str, Any], agent: dict[str, Any], app: Any = None
    ) -> None:
        self.api, self.other_key, self.number, self.agent, self.app = api, other_key, number, agent, app

    async def as_other(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.api.post(query, variables, key=self.other_key)
        assert response.status_code == 200
        return response.json()

    async def same_as_missing(
        self, query: str, make_variables: Callable[[str], dict[str, Any]], foreign_id: str
    ) -> None:
        foreign = await self.as_other(query, make_variables(foreign_id))
        missing = await self.as_other(query, make_variables(MISSING))
        assert _masked(foreign, foreign_id) == _masked(missing, MISSING)


def _masked(body: Any, id: str) -> Any:
    import json

    return json.loads(json.dumps(body).replace(id, "<id>"))


async def case_phone_number(org: Org) -> None:
    await org.same_as_missing(PHONE_NUMBER, lambda i: {"id": i}, org.number["id"])
    assert (await org.as_other(PHONE_NUMBER, {"id": org.number["id"]}))["data"] == {"phoneNumber": None}


async def case_phone_numbers(org: Org) -> None:
    body = await org.as_other(LIST_PHONE_NUMBERS, {"filter": {"agentId": org.agent["id"]}})
    assert body["data"]["phoneNumbers"]["edges"] == [] and body["data"]["phoneNumbers"]["totalCount"] == 0
    await org.same_as_missing(LIST_PHONE_NUMBERS, lambda i: {"filter": {"agentId": i}}, org.agent["id"])
    everything = await org.as_other(LIST_PHONE_NUMBERS, {})
    assert everything["data"]["phoneNumbers"]["totalCount"] == 0


async def case_agent(org: Org) -> None:
    await org.same_as_missing(AGENT, lambda i: {"id": i}, org.agent["id"])
    assert (await org.as_other(AGENT, {"id": org.agent["id"]}))["data"] == {"agent": None}


async def case_agents(org: Org) -> None:
    body = await org.as_other(LIST_AGENTS, {})
    assert body["data"]["agents"]["edges"] == [] and body["data"]["agents"]["totalCount"] == 0


async def case_node(org: Org) -> None:
    for foreign in (org.number["id"], org.agent["id"]):
        await org.same_as_missing(NODE, lambda i: {"id": i}, foreign)
        assert (await org.as_other(NODE, {"id": foreign}))["data"] == {"node": None}


async def case_nodes(org: Org) -> None:
    for foreign in (org.number["id"], org.agent["id"]):
        await org.same_as_missing(NODES, lambda i: {"ids": [i, i]}, foreign)
    # B's own number is found beside A's ids, which stay null.
    mine = await create_number(org.api, 2, key=org.other_key)
    body = await org.as_other(NODES, {"ids": [org.number["id"], mine["id"], org.agent["id"]]})
    assert [node and node["id"] for node in body["data"]["nodes"]] == [None, mine["id"], None]


async def case_create_phone_number(org: Org) -> None:
    def variables(agent_id: str) -> dict[str, Any]:
        return {"input": {"number": "+14155559999", "provider": twilio(), "agentId": agent_id}}

    await org.same_as_missing(CREATE_PHONE_NUMBER, variables, org.agent["id"])
    # A's number is not "taken" for B: organizations do not see each other.
    taken = await org.as_other(CREATE_PHONE_NUMBER, {"input": {"number": org.number["number"], "provider": twilio()}})
    assert taken["data"]["createPhoneNumber"]["userErrors"] == []


async def case_update_phone_number(org: Org) -> None:
    await org.same_as_missing(UPDATE_PHONE_NUMBER, lambda i: {"input": {"id": i, "name": "hijacked"}}, org.number["id"])


async def case_delete_phone_number(org: Org) -> None:
    await org.same_as_missing(DELETE_PHONE_NUMBER, lambda i: {"input": {"id": i}}, org.number["id"])


async def case_verify_phone_number(org: Org) -> None:
    await org.same_as_missing(VERIFY_PHONE_NUMBER, lambda i: {"input": {"id": i}}, org.number["id"])
    assert await stored_rows("phone_number_health") == [], "A's number was not checked"
    assert await stored_rows("phone_number_health_events") == []


async def case_create_agent(org: Org) -> None:
    body = await org.as_other(CREATE_AGENT, {"input": {"name": "B's agent"}})
    assert body["data"]["createAgent"]["userErrors"] == []
    mine = (await org.api.gql(LIST_AGENTS, {}))["agents"]
    assert [e["node"]["id"] for e in mine["edges"]] == [org.agent["id"]]


async def case_update_agent(org: Org) -> None:
    await org.same_as_missing(UPDATE_AGENT, lambda i: {"input": {"id": i, "name": "hijacked"}}, org.agent["id"])


async def case_delete_agent(org: Org) -> None:
    await org.same_as_missing(DELETE_AGENT, lambda i: {"input": {"id": i}}, org.agent["id"])


async def a_key_id(org: Org) -> str:
    return (await org.api.gql(VIEWER))["viewer"]["apiKey"]["id"]


async def case_api_keys(org: Org) -> None:
    mine = await a_key_id(org)
    body = await org.as_other(LIST_API_KEYS, {})
    keys = body["data"]["apiKeys"]
    assert keys["totalCount"] == 1 and mine not in [e["node"]["id"] for e in keys["edges"]]


async def case_viewer(org: Org) -> None:
    body = await org.as_other(VIEWER, {})
    assert body["data"]["viewer"]["organization"]["name"] == "Globex"
    assert body["data"]["viewer"]["apiKey"]["id"] != await a_key_id(org)


async def case_audit_events(org: Org) -> None:
    mine = (await org.api.gql(AUDIT_EVENTS, {}))["auditEvents"]["edges"]
    assert {e["node"]["targetId"] for e in mine} >= {org.number["id"], org.agent["id"]}, "A sees its own events"
    theirs = (await org.as_other(AUDIT_EVENTS, {}))["data"]["auditEvents"]["edges"]
    a_ids = {e["node"]["id"] for e in mine}
    assert a_ids.isdisjoint(e["node"]["id"] for e in theirs), "B sees none of A's events"
    await org.same_as_missing(AUDIT_EVENTS, lambda i: {"filter": {"targetId": i}}, org.number["id"])
    await org.same_as_missing(AUDIT_EVENTS, lambda i: {"filter": {"actorKeyId": i}}, await a_key_id(org))
    assert (await org.as_other(AUDIT_EVENTS, {"filter": {"targetId": org.number["id"]}}))["data"]["auditEvents"][
        "edges"
    ] == []
    # A cursor of A's list is refused to B, as every list's is.
    cursor = mine[0]["cursor"]
    refused = await org.as_other(AUDIT_EVENTS, {"after": cursor})
    assert refused["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}
    rest = await org.api.client.get(
        "/v1/audit-events", params={"targetId": org.number["id"]}, headers={"Authorization": f"Bearer {org.other_key}"}
    )
    assert rest.json()["data"] == []


async def case_create_api_key(org: Org) -> None:
    body = await org.as_other(CREATE_API_KEY, {"input": {"name": "B's key", "scopes": ["READ"]}})
    assert body["data"]["createApiKey"]["userErrors"] == []
    mine = (await org.api.gql(LIST_API_KEYS, {}))["apiKeys"]
    assert mine["totalCount"] == 1, "B's new key is not A's"


async def case_revoke_api_key(org: Org) -> None:
    mine = await a_key_id(org)
    await org.same_as_missing(REVOKE_API_KEY, lambda i: {"input": {"id": i}}, mine)
    assert (await org.api.post("{ __typename }")).status_code == 200, "A's key still works"


async def case_phone_number_health_changed(org: Org) -> None:
    """B subscribed to A's number hears nothing of its change, as with a number nobody has; A hears it."""
    a_row = await PhoneNumber.get(id=org.number["id"])
    b_number = await create_number(org.api, 2, key=org.other_key)
    async with asgi_client(org.app) as client, connected(client) as a, connected(client) as b:
        await a.init(bearer(org.api.key))
        await b.init(bearer(org.other_key))
        await a.subscribe("a's", org.number["id"])
        await b.subscribe("a's", org.number["id"])
        await b.subscribe("missing", MISSING)
        await b.subscribe("all")
        await asyncio.sleep(0.2)

        await record_check(a_row, CheckResult(HealthState.UNREACHABLE, "No answer."))
        assert (await a.next_event())[1]["phoneNumberId"] == org.number["id"]
        # B's own change comes through, and is the first thing B hears: A's came before it, and did not.
        await record_check(await PhoneNumber.get(id=b_number["id"]), CheckResult(HealthState.OK, "Answered."))
        operation, event = await b.next_event()
        assert (operation, event["phoneNumberId"]) == ("all", b_number["id"])
        await b.nothing_within(0.5)


CASES: dict[str, Callable[[Org], Awaitable[None]]] = {
    "Query.phoneNumber": case_phone_number,
    "Query.phoneNumbers": case_phone_numbers,
    "Query.agent": case_agent,
    "Query.agents": case_agents,
    "Query.node": case_node,
    "Query.nodes": case_nodes,
    "Mutation.createPhoneNumber": case_create_phone_number,
    "Mutation.updatePhoneNumber": case_update_phone_number,
    "Mutation.deletePhoneNumber": case_delete_phone_number,
    "Mutation.verifyPhoneNumber": case_verify_phone_number,
    "Mutation.createAgent": case_create_agent,
    "Mutation.updateAgent": case_update_agent,
    "Mutation.deleteAgent": case_delete_agent,
    "Query.apiKeys": case_api_keys,
    "Query.viewer": case_viewer,
    "Query.auditEvents": case_audit_events,
    "Mutation.createApiKey": case_create_api_key,
    "Mutation.revokeApiKey": case_revoke_api_key,
    "Subscription.phoneNumberHealthChanged": case_phone_number_health_changed,
}


def schema_operations() -> set[str]:
    graphql_schema = schema._schema
    roots = [graphql_schema.query_type, graphql_schema.mutation_type, graphql_schema.subscription_type]
    return {f"{root.name}.{name}" for root in roots if root is not None for name in root.fields}


def test_every_operation_has_a_case() -> None:
    assert schema_operations() == set(CASES), "add a tenancy case for each new operation"


@pytest.mark.parametrize("operation", sorted(CASES))
async def test_other_organizations_ids_behave_as_missing(app: Any, api: Api, other_key: str, operation: str) -> None:
    agent = await create_agent(api, "A's agent")
    number = await create_number(api, 1, agentId=agent["id"], name="A's number")
    before_numbers = await stored_rows("phone_numbers")
    before_agents = await stored_rows("agents")
    a = before_numbers[0]["organization_id"]
    before_keys = await a_keys(a)

    await CASES[operation](Org(api, other_key, number, agent, app))

    a_numbers = [r for r in await stored_rows("phone_numbers") if r["organization_id"] == a]
    a_agents = [r for r in await stored_rows("agents") if r["organization_id"] == a]
    assert a_numbers == before_numbers and a_agents == before_agents, "organization A's rows are untouched"
    assert await a_keys(a) == before_keys, "organization A's keys are untouched"


async def a_keys(organization_id: Any) -> list[dict[str, Any]]:
    # Their last use is written in the background, whenever A's requests happen to land.
    return [
        {k: v for k, v in r.items() if k != "last_used_at"}
        for r in await stored_rows("api_keys")
        if r["organization_id"] == organization_id
    ]

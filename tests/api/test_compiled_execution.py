"""Compiled execution of known documents answers what graphql-core's executor answers, and falls back where it must.

Each document goes twice: the first time through Strawberry's view (which
makes its plan), the second through the direct path, compiled. The
`differential` fixture runs every compiled operation on graphql-core too
(a mutation's payload is completed by both) and fails the test on any
difference in data, errors (messages, locations, paths, extensions) or
extensions; the counter of executions shows which path ran.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from switchboard.http import execution
from switchboard.settings import Settings
from tests.support.app import Api, api_client, running_app
from tests.support.differential import Differential
from tests.support.graphql_ops import twilio
from tests.support.helpers import create_agent, create_number


async def known(api: Api, query: str, variables: dict[str, Any] | None = None) -> tuple[dict[str, Any], str]:
    """The answer to a known document, and the path that gave it; its first sending (Strawberry's) answers the same."""
    first = (await api.post(query, variables)).json()
    before = execution.executions.copy()
    second = (await api.post(query, variables)).json()
    ran = execution.executions - before
    assert second == first
    assert sum(ran.values()) == 1, ran
    return second, next(iter(ran))


async def page_of_numbers(api: Api) -> list[dict[str, Any]]:
    agents = [await create_agent(api, f"Agent {n}") for n in range(2)]
    numbers = [await create_number(api, n, agentId=agents[n % 2]["id"], metadata={"n": n}) for n in range(3)]
    numbers.append(await create_number(api, 3, name=None))
    return numbers


PAGE = """
query Page($first: Int! = 2, $after: String) {
  numbers: phoneNumbers(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { ...Number agent { id name createdAt } } }
  }
  again: phoneNumbers(first: 1) { edges { node { id __typename } } }
}
fragment Number on PhoneNumber {
  id number name provider sipMode agentId metadata createdAt updatedAt version
  config { __typename ... on TwilioConfig { accountSid authTokenSet } ... on SipRegistrationConfig { proxy port } }
}
"""


async def test_aliases_fragments_variables_with_defaults_and_scalars(api: Api, differential: Differential) -> None:
    numbers = await page_of_numbers(api)
    body, ran = await known(api, PAGE)
    assert ran == execution.COMPILED and differential.compared >= 1
    page = body["data"]["numbers"]
    assert page["totalCount"] == 4 and page["pageInfo"]["hasNextPage"] is True
    newest = page["edges"][0]["node"]
    assert newest["id"] == numbers[-1]["id"] and newest["name"] is None and newest["agent"] is None
    assert newest["provider"] == "TWILIO" and newest["config"]["__typename"] == "TwilioConfig"
    assert page["edges"][1]["node"]["metadata"] == {"n": 2} and page["edges"][1]["node"]["agent"]["name"] == "Agent 0"
    assert body["data"]["again"]["edges"][0]["node"]["__typename"] == "PhoneNumber"
    # The variables given override the defaults.
    after = page["pageInfo"]["endCursor"]
    rest, _ = await known(api, PAGE, {"first": 5, "after": after})
    assert [e["node"]["id"] for e in rest["data"]["numbers"]["edges"]] == [n["id"] for n in reversed(numbers[:2])]


NESTED = """
{ agents(first: 5) { edges { node { name phoneNumbers(first: 5) { totalCount edges { node { number
  ... on PhoneNumber { provider } } } } } } } }
"""


async def test_nested_lists(api: Api, differential: Differential) -> None:
    await page_of_numbers(api)
    body, ran = await known(api, NESTED)
    assert ran == execution.COMPILED
    agents = [e["node"] for e in body["data"]["agents"]["edges"]]
    assert [a["phoneNumbers"]["totalCount"] for a in agents] == [1, 2]
    assert len(agents[1]["phoneNumbers"]["edges"]) == 2


async def test_a_resolver_error_is_located_and_a_non_null_field_nulls_its_nullable_parent(
    api: Api, differential: Differential
) -> None:
    agent = await create_agent(api)
    query = "query A($id: ID!) { agent(id: $id) { name phoneNumbers(first: 0) { totalCount } } viewer { organization { name } } }"
    body, ran = await known(api, query, {"id": agent["id"]})
    assert ran == execution.COMPILED
    assert body["data"]["agent"] is None and body["data"]["viewer"]["organization"]["name"]
    (error,) = body["errors"]
    assert error["path"] == ["agent", "phoneNumbers"] and error["locations"] == [{"line": 1, "column": 43}]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


async def test_an_error_under_non_null_fields_of_a_list_nulls_the_whole_answer(
    api: Api, differential: Differential
) -> None:
    for n in range(3):
        await create_agent(api, f"Agent {n}")
    body, ran = await known(
        api, "{ agents(first: 5) { edges { node { name phoneNumbers(first: 500) { totalCount } } } } }"
    )
    assert ran == execution.COMPILED
    assert body["data"] is None
    assert [e["path"] for e in body["errors"]] == [["agents", "edges", 0, "node", "phoneNumbers"]]


async def test_an_error_in_a_nullable_field_keeps_its_siblings(api: Api, differential: Differential) -> None:
    await create_number(api)
    body, ran = await known(api, '{ phoneNumbers(after: "nonsense") { totalCount } viewer { organization { name } } }')
    assert ran == execution.COMPILED
    assert body["data"] is None and body["errors"][0]["path"] == ["phoneNumbers"]
    body, ran = await known(api, '{ a: phoneNumber(id: "not-a-uuid") { number } viewer { organization { name } } }')
    assert ran == execution.COMPILED and body["data"]["viewer"]["organization"]["name"]


async def test_the_node_interface_resolves_each_object_to_its_type(api: Api, differential: Differential) -> None:
    agent = await create_agent(api)
    number = await create_number(api, agentId=agent["id"])
    query = """query N($ids: [ID!]!, $id: ID!) { nodes(ids: $ids) { __typename id ... on PhoneNumber { number
      agent { name } } ... on Agent { name } } node(id: $id) { id ... on Agent { createdAt } } }"""
    ids = [number["id"], agent["id"], str(uuid.uuid4()), "x"]
    body, ran = await known(api, query, {"ids": ids, "id": agent["id"]})
    assert ran == execution.COMPILED
    assert body["data"]["nodes"] == [
        {"__typename": "PhoneNumber", "id": number["id"], "number": number["number"], "agent": {"name": agent["name"]}},
        {"__typename": "Agent", "id": agent["id"], "name": agent["name"]},
        None,
        None,
    ]
    assert body["data"]["node"]["id"] == agent["id"]


async def test_skip_and_include_with_literals_are_compiled_with_variables_fall_back(
    api: Api, differential: Differential
) -> None:
    await create_number(api)
    literal = "{ phoneNumbers { totalCount @skip(if: true) edges @include(if: true) { node { number } } } }"
    body, ran = await known(api, literal)
    assert ran == execution.COMPILED and body["data"]["phoneNumbers"].keys() == {"edges"}
    variable = "query S($skip: Boolean!) { phoneNumbers { totalCount @skip(if: $skip) } }"
    body, ran = await known(api, variable, {"skip": False})
    assert ran == execution.GENERIC and body["data"]["phoneNumbers"] == {"totalCount": 1}


async def test_introspection_falls_back(api: Api, differential: Differential) -> None:
    body, ran = await known(api, "{ __schema { queryType { name } } __typename }")
    assert ran == execution.GENERIC
    assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}, "__typename": "Query"}
    body, ran = await known(api, '{ __type(name: "Agent") { name } }')
    assert ran == execution.GENERIC and body["data"] == {"__type": {"name": "Agent"}}


async def test_bad_variables_are_refused_as_graphql_core_refuses_them(api: Api, differential: Differential) -> None:
    body, ran = await known(api, "query P($first: Int!) { phoneNumbers(first: $first) { totalCount } }", {"first": "x"})
    assert ran == execution.COMPILED
    assert "data" not in body and "Variable '$first'" in body["errors"][0]["message"]


CREATE = """
mutation Create($input: CreatePhoneNumberInput!, $other: CreatePhoneNumberInput!) {
  first: createPhoneNumber(input: $input) { phoneNumber { id number provider metadata config { __typename } }
    userErrors { field code message } }
  second: createPhoneNumber(input: $other) { phoneNumber { id } userErrors { field code message } }
}
"""


async def test_a_mutations_payload_is_completed_as_graphql_core_completes_it(
    api: Api, differential: Differential
) -> None:
    await api.post(CREATE, {"input": {}, "other": {}})  # refused by validation of its variables: made known
    before = differential.compared
    inputs = {
        "input": {"number": "+14155550100", "provider": twilio(), "metadata": {"a": [1, 2]}},
        "other": {"number": "not a number", "provider": twilio()},
    }
    body = (await api.post(CREATE, inputs)).json()
    assert differential.compared == before + 1
    assert body["data"]["first"]["phoneNumber"]["metadata"] == {"a": [1, 2]}
    assert body["data"]["second"]["phoneNumber"] is None and body["data"]["second"]["userErrors"][0]["field"]


async def test_off_every_operation_runs_on_graphql_core(settings: Settings, differential: Differential) -> None:
    off = dataclasses.replace(settings, compiled_execution=False)
    async with running_app(off) as app, api_client(app) as api:
        await create_number(api)
        body, ran = await known(api, PAGE)
        assert ran == execution.GENERIC and differential.compared == 0
        assert body["data"]["numbers"]["totalCount"] == 1

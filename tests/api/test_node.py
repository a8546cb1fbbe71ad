"""node(id) and nodes(ids): any object of the organization refetched by its id, the UUID REST uses too."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvers.nodes import MAX_IDS
from resolvers.rules import parse_uuid
from tests.support import REPO
from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import AGENT, PHONE_NUMBER
from tests.support.helpers import create_agent, create_number, nth_number

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename
    id
    ... on PhoneNumber { number name agent { id name } config { __typename } }
    ... on Agent { agentName: name phoneNumbers { totalCount edges { node { number } } } }
  }
}
"""

NODES = """
query Nodes($ids: [ID!]!) {
  nodes(ids: $ids) { ...Refetched }
}
fragment Refetched on Node {
  __typename
  id
  ...Number
  ... on Agent { name }
}
fragment Number on PhoneNumber { number }
"""

MISSING = "00000000-0000-4000-8000-00000000dead"
MALFORMED = [
    "not-a-uuid",
    "",
    "123",
    "00000000-0000-4000-8000-00000000dea",
    "00000000-0000-4000-8000-00000000deadd",
    "' OR 1=1 --",
    "x" * 5000,
]


def number_node(number: dict[str, Any], agent: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "__typename": "PhoneNumber",
        "id": number["id"],
        "number": number["number"],
        "name": number["name"],
        "agent": {"id": agent["id"], "name": agent["name"]} if agent else None,
        "config": {"__typename": "TwilioConfig"},
    }


async def node(api: Api, id: str, **kwargs: Any) -> Any:
    return (await api.gql(NODE, {"id": id}, **kwargs))["node"]


async def test_node_refetches_a_phone_number_and_an_agent(api: Api) -> None:
    agent = await create_agent(api, "Front desk")
    number = await create_number(api, 1, agentId=agent["id"], name="Main line")

    assert await node(api, number["id"]) == number_node(number, agent)
    assert await node(api, agent["id"]) == {
        "__typename": "Agent",
        "id": agent["id"],
        "agentName": "Front desk",
        "phoneNumbers": {"totalCount": 1, "edges": [{"node": {"number": number["number"]}}]},
    }


async def test_node_ids_are_the_ids_rest_uses(api: Api) -> None:
    response = await api.client.post(
        "/v1/phone-numbers",
        json={"number": nth_number(7), "provider": "voximplant"},
        headers={"Authorization": f"Bearer {api.key}"},
    )
    assert response.status_code == 201
    rest_id = response.json()["data"]["id"]
    assert uuid.UUID(rest_id)
    refetched = await node(api, rest_id)
    assert (refetched["__typename"], refetched["id"], refetched["number"]) == ("PhoneNumber", rest_id, nth_number(7))


@pytest.mark.parametrize(
    "variant", ["another organization's", "unknown", *(f"malformed {i}" for i in range(len(MALFORMED)))]
)
async def test_node_answers_null_alike_for_another_organizations_unknown_and_malformed_ids(
    api: Api, other_key: str, variant: str
) -> None:
    theirs = await create_number(api, 1, key=other_key)
    their_agent = await create_agent(api, "Theirs", key=other_key)
    ids = {
        "another organization's": [theirs["id"], their_agent["id"]],
        "unknown": [MISSING, str(uuid.uuid4())],
        **{f"malformed {i}": [value] for i, value in enumerate(MALFORMED)},
    }[variant]
    for id in ids:
        response = await api.post(NODE, {"id": id})
        assert (response.status_code, response.json()) == (200, {"data": {"node": None}})
        response = await api.post(NODES, {"ids": [id]})
        assert (response.status_code, response.json()) == (200, {"data": {"nodes": [None]}})


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param(lambda i: i, id="canonical"),
        pytest.param(str.upper, id="upper-case"),
        pytest.param(lambda i: "{" + i + "}", id="braces"),
        pytest.param(lambda i: "urn:uuid:" + i, id="urn"),
        pytest.param(lambda i: i.replace("-", ""), id="no-hyphens"),
        pytest.param(lambda i: i[:-1], id="one-short"),
        pytest.param(lambda i: " " + i, id="leading-space"),
    ],
)
async def test_node_reads_an_id_as_phone_number_and_agent_do(api: Api, spelling: Any) -> None:
    agent = await create_agent(api)
    number = await create_number(api, 1)
    number_id, agent_id = spelling(number["id"]), spelling(agent["id"])

    by_type = (await api.gql(PHONE_NUMBER, {"id": number_id}))["phoneNumber"]
    by_node = await node(api, number_id)
    assert (by_node and by_node["id"]) == (by_type and by_type["id"])
    by_type = (await api.gql(AGENT, {"id": agent_id}))["agent"]
    by_node = await node(api, agent_id)
    assert (by_node and by_node["id"]) == (by_type and by_type["id"])


async def test_nodes_keeps_the_order_of_ids_with_null_in_place_of_what_is_not_found(api: Api, other_key: str) -> None:
    agent = await create_agent(api, "Desk")
    first, second = await create_number(api, 1), await create_number(api, 2)
    theirs = await create_number(api, 3, key=other_key)
    ids = [second["id"], theirs["id"], agent["id"], MISSING, "garbage", first["id"], second["id"], agent["id"]]

    nodes = (await api.gql(NODES, {"ids": ids}))["nodes"]

    as_number = {"__typename": "PhoneNumber"}
    assert nodes == [
        {**as_number, "id": second["id"], "number": second["number"]},
        None,
        {"__typename": "Agent", "id": agent["id"], "name": "Desk"},
        None,
        None,
        {**as_number, "id": first["id"], "number": first["number"]},
        {**as_number, "id": second["id"], "number": second["number"]},
        {"__typename": "Agent", "id": agent["id"], "name": "Desk"},
    ]


async def test_nodes_of_no_ids_is_an_empty_list(api: Api) -> None:
    assert await api.gql(NODES, {"ids": []}) == {"nodes": []}


async def test_nodes_takes_at_most_100_ids_duplicates_included(api: Api) -> None:
    number = await create_number(api, 1)
    hundred = (await api.gql(NODES, {"ids": [number["id"]] * 100}))["nodes"]
    assert len(hundred) == 100 and {n["id"] for n in hundred} == {number["id"]}

    for ids in ([number["id"]] * 101, [str(uuid.uuid4()) for _ in range(1000)]):
        response = await api.post(NODES, {"ids": ids})
        assert response.status_code == 200
        assert response.json() == {
            "data": None,
            "errors": [
                {
                    "message": f"ids holds at most 100 ids, got {len(ids)}",
                    "locations": [{"line": 3, "column": 3}],
                    "path": ["nodes"],
                    "extensions": {"code": "BAD_USER_INPUT", "argument": "ids"},
                }
            ],
        }


def test_the_docs_state_the_limit_the_code_applies() -> None:
    assert (
        f"| `nodes(ids)` | {MAX_IDS} ids, repeats included |" in (REPO / "docs" / "limits-and-security.md").read_text()
    )


async def test_abstract_types_resolve_in_inline_and_named_fragments(api: Api) -> None:
    agent = await create_agent(api, "Desk")
    number = await create_number(api, 1, agentId=agent["id"])
    query = """
    query ($number: ID!, $agent: ID!) {
      n: node(id: $number) { __typename ... on Agent { name } ...Numbered }
      a: node(id: $agent) { __typename ... on PhoneNumber { number } ... on Agent { name } }
      both: nodes(ids: [$agent, $number]) { id ... on Node { __typename } }
    }
    fragment Numbered on PhoneNumber { number agent { ... on Node { id } } }
    """
    data = await api.gql(query, {"number": number["id"], "agent": agent["id"]})
    assert data == {
        "n": {"__typename": "PhoneNumber", "number": number["number"], "agent": {"id": agent["id"]}},
        "a": {"__typename": "Agent", "name": "Desk"},
        "both": [{"id": agent["id"], "__typename": "Agent"}, {"id": number["id"], "__typename": "PhoneNumber"}],
    }


async def test_the_schema_declares_node_as_relay_clients_expect(api: Api) -> None:
    query = """{
      node: __type(name: "Node") { kind fields { name type { kind ofType { name } } } possibleTypes { name } }
      query: __type(name: "Query") { fields { name args { name type { kind ofType { kind ofType { kind ofType { name } } } } }
        type { kind name ofType { kind name } } } }
    }"""
    data = await api.gql(query)
    assert data["node"]["kind"] == "INTERFACE"
    assert data["node"]["fields"] == [{"name": "id", "type": {"kind": "NON_NULL", "ofType": {"name": "ID"}}}]
    assert sorted(t["name"] for t in data["node"]["possibleTypes"]) == ["Agent", "PhoneNumber"]
    fields = {f["name"]: f for f in data["query"]["fields"]}
    assert fields["node"]["type"] == {"kind": "INTERFACE", "name": "Node", "ofType": None}
    assert fields["node"]["args"] == [
        {"name": "id", "type": {"kind": "NON_NULL", "ofType": {"kind": "SCALAR", "ofType": None}}}
    ]
    assert fields["nodes"]["type"] == {"kind": "NON_NULL", "name": None, "ofType": {"kind": "LIST", "name": None}}
    assert fields["nodes"]["args"] == [
        {
            "name": "ids",
            "type": {
                "kind": "NON_NULL",
                "ofType": {"kind": "LIST", "ofType": {"kind": "NON_NULL", "ofType": {"name": "ID"}}},
            },
        }
    ]


# Any text at all, ids of both organizations, and the spellings of a UUID that parse.
MINE, THEIRS = "mine", "theirs"
any_id = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
    st.sampled_from([MINE, THEIRS, *MALFORMED]),
    st.uuids().map(str),
    st.tuples(
        st.sampled_from([MINE, THEIRS]),
        st.sampled_from([str.upper, lambda i: "{" + i + "}", lambda i: i.replace("-", "")]),
    ),
)


@settings(max_examples=150, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(spec=st.lists(any_id, max_size=12))
async def test_nodes_answers_any_ids_with_the_organizations_objects_or_null(
    api: Api, other_key: str, spec: list[Any]
) -> None:
    # Examples share the test's database: the two numbers are made by the first.
    if not await stored_rows("phone_numbers"):
        await create_number(api, 1)
        await create_number(api, 2, key=other_key)
    by_number = {row["number"]: str(row["id"]) for row in await stored_rows("phone_numbers")}
    owned = {MINE: by_number[nth_number(1)], THEIRS: by_number[nth_number(2)]}

    def id_of(item: Any) -> str:
        if isinstance(item, tuple):
            return item[1](owned[item[0]])
        return owned.get(item, item)

    ids = [id_of(item) for item in spec]
    response = await api.post(NODES, {"ids": ids})
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    mine = owned[MINE]
    expected = [
        {"__typename": "PhoneNumber", "id": mine, "number": nth_number(1)} if str(parse_uuid(id)) == mine else None
        for id in ids
    ]
    assert response.json()["data"]["nodes"] == expected


# --- batching -----------------------------------------------------------------------


async def count_queries(api: Api, caplog: pytest.LogCaptureFixture, query: str, variables: dict[str, Any]) -> int:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        await api.gql(query, variables)
    return len([r for r in caplog.records if r.name == "tortoise.db_client"])


async def test_nodes_costs_a_constant_number_of_queries(
    api: Api, other_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    agents = [(await create_agent(api, f"Agent {n}"))["id"] for n in range(30)]
    numbers = [(await create_number(api, n))["id"] for n in range(60)]
    theirs = [(await create_number(api, 100 + n, key=other_key))["id"] for n in range(5)]
    unknown = [str(uuid.uuid4()) for _ in range(5)]

    few = await count_queries(api, caplog, NODES, {"ids": [numbers[0], agents[0]]})
    many = await count_queries(api, caplog, NODES, {"ids": [*numbers, *agents, *theirs, *unknown]})
    # the organization's numbers among the ids, then its agents among the rest
    assert few == many == 2


async def test_node_fields_of_one_request_share_their_queries(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    agent = await create_agent(api)
    numbers = [(await create_number(api, n))["id"] for n in range(3)]
    query = """
    query ($a: ID!, $b: ID!, $c: ID!, $ids: [ID!]!) {
      a: node(id: $a) { id } b: node(id: $b) { id } c: node(id: $c) { id } d: nodes(ids: $ids) { id }
    }"""
    variables = {"a": numbers[0], "b": numbers[1], "c": agent["id"], "ids": [numbers[2], MISSING]}
    assert await count_queries(api, caplog, query, variables) == 2
    # only numbers: the agents are not looked for
    assert await count_queries(api, caplog, NODES, {"ids": numbers}) == 1

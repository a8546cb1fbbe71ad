"""A query's cost, known before it runs: over SWITCHBOARD_MAX_QUERY_COST it is refused, naming cost and limit.

At the defaults no accepted document answers more than 10 MB: the worst
shapes, built at the largest size accepted against the largest rows, are
measured, and one step bigger is refused.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from graphql import get_introspection_query

from resolvers.rules import METADATA_MAX_BYTES
from switchboard.http import view
from switchboard.settings import Settings
from tests.support.app import Api, api_client, running_app
from tests.support.database import stored_rows
from tests.support.graphql_ops import twilio

GRAPHQL_JSON = "application/graphql-response+json"
MAX_QUERY_COST = 10_000
MAX_RESPONSE_BYTES = 10_000_000
ROWS = 100
# The issue's request (1,202 characters as it was sent, with its whitespace): depth 7, 15 aliases, pages of 100 rows.
ISSUE_QUERY = (
    "{ phoneNumbers(first:100){edges{node{agent{ "
    + " ".join(f"p{i}: phoneNumbers(first:100){{edges{{node{{id number name}}}}}}" for i in range(15))
    + " }}}}}"
)
# A page costs 1, and for each row 4 to read it and its selection:
# 1 + 100 x (4 + edges + node + agent + 15 x (1 + 100 x (4 + edges + node + id + number + name)))
ISSUE_QUERY_COST = 1 + 100 * (7 + 15 * (1 + 100 * 9))


def refusal(cost: int | None, max_cost: int = MAX_QUERY_COST) -> dict[str, Any]:
    message = f"The query costs {cost}; at most {max_cost} is allowed"
    if cost is None:
        message = f"The query costs more than {max_cost}; at most {max_cost} is allowed"
    return {
        "errors": [{"message": message, "extensions": {"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": max_cost}}]
    }


async def post(api: Api, query: str, variables: dict[str, Any] | None = None, *, accept: str = GRAPHQL_JSON) -> Any:
    return await api.client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {api.key}", "Accept": accept},
    )


def largest_metadata() -> dict[str, str]:
    """Metadata of exactly METADATA_MAX_BYTES bytes as JSON, of 4-byte characters as far as they go."""
    metadata = {f"k{i}": "\N{GRINNING FACE}" * 500 for i in range(4)}
    size = len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode())
    metadata["k4"] = "x" * (METADATA_MAX_BYTES - size - len(',"k4":""'))
    return metadata


LARGEST_NAME = "\N{GRINNING FACE}" * 100
CREATE = (
    "mutation($input: CreatePhoneNumberInput!) { createPhoneNumber(input: $input) { userErrors { field message } } }"
)


async def seed(api: Api) -> None:
    """One agent owning ROWS numbers, every text at its largest."""
    agent = await api.gql(
        "mutation($name: String!) { createAgent(input: {name: $name}) { agent { id } } }", {"name": LARGEST_NAME}
    )
    agent_id = agent["createAgent"]["agent"]["id"]
    metadata = largest_metadata()
    for i in range(ROWS):
        number = {
            "number": f"+1415555{100 + i:04d}",
            "name": LARGEST_NAME,
            "agentId": agent_id,
            "metadata": metadata,
            "provider": twilio(),
        }
        data = await api.gql(CREATE, {"input": number})
        assert data["createPhoneNumber"]["userErrors"] == []


@pytest.fixture
async def seeded(api: Api) -> Api:
    await seed(api)
    return api


async def test_the_issues_query_is_refused_naming_its_cost_and_the_limit(seeded: Api) -> None:
    response = await post(seeded, ISSUE_QUERY)
    assert (response.status_code, response.json()) == (400, refusal(ISSUE_QUERY_COST))
    response = await post(seeded, ISSUE_QUERY, accept="application/json")
    assert (response.status_code, response.json()) == (200, refusal(ISSUE_QUERY_COST))


def with_fragments() -> str:
    """The issue's query, its inner pages spread from a named fragment inside an inline one."""
    inner = " ".join(f"p{i}: phoneNumbers(first:100){{...Page}}" for i in range(15))
    return (
        f"{{ phoneNumbers(first:100){{edges{{node{{agent{{ ... on Agent {{ {inner} }} }}}}}}}}}} "
        "fragment Page on PhoneNumberConnection { edges{node{id number name}} }"
    )


VARIANTS = [
    pytest.param(
        ISSUE_QUERY.replace("id number name", "metadata"), {}, 1 + 100 * (7 + 15 * (1 + 100 * 23)), id="metadata"
    ),
    pytest.param(with_fragments(), {}, ISSUE_QUERY_COST, id="fragments"),
    pytest.param(
        "query($n: Int!) " + ISSUE_QUERY.replace("first:100", "first:$n"), {"n": 100}, ISSUE_QUERY_COST, id="variable"
    ),
    pytest.param(
        "query($n: Int = 100) " + ISSUE_QUERY.replace("first:100", "first:$n"),
        {},
        ISSUE_QUERY_COST,
        id="variable-default",
    ),
    pytest.param(
        "query($n: Int!) " + ISSUE_QUERY.replace("first:100", "first:$n"),
        {"n": 1_000_000},
        ISSUE_QUERY_COST,
        id="variable-clamped",
    ),
    pytest.param(
        ISSUE_QUERY.replace("(first:100)", ""), {}, 1 + 20 * (7 + 15 * (1 + 20 * 9)), id="schema-default-first"
    ),
    pytest.param(
        "{ "
        + " ".join(
            f"a{i}: phoneNumbers(first: 100) {{ edges {{ node {{ id name number agent {{ id name }} }} }} }}"
            for i in range(15)
        )
        + " }",
        {},
        15 * (1 + 100 * 12),
        id="aliases",
    ),
    # nodes(ids) reads and answers a row per id: 4 to read it, the list's own 1, id 1, metadata 17.
    pytest.param(
        "query($ids: [ID!]!) { "
        + " ".join(f"n{i}: nodes(ids: $ids) {{ id ... on PhoneNumber {{ metadata }} }}" for i in range(15))
        + " }",
        {"ids": [f"00000000-0000-0000-0000-{i:012d}" for i in range(100)]},
        15 * 100 * (4 + 1 + 1 + 17),
        id="nodes-ids-variable",
    ),
    pytest.param(
        "{ "
        + " ".join(
            f"n{i}: nodes(ids: [{', '.join(repr(str(k)) for k in range(100))}]) {{ ... on PhoneNumber {{ metadata }} }}"
            for i in range(5)
        ).replace("'", '"')
        + " }",
        {},
        5 * 100 * (4 + 1 + 17),
        id="nodes-ids-literal",
    ),
]


@pytest.mark.parametrize(("query", "variables", "cost"), VARIANTS)
async def test_other_shapes_of_it_are_refused_too(api: Api, query: str, variables: dict, cost: int) -> None:
    response = await post(api, query, variables)
    assert (response.status_code, response.json()) == (400, refusal(cost))


async def test_the_cached_cost_is_evaluated_with_each_requests_variables(api: Api) -> None:
    query = "query($n: Int!) " + ISSUE_QUERY.replace("first:100", "first:$n")
    assert (await post(api, query, {"n": 100})).json() == refusal(ISSUE_QUERY_COST)
    response = await post(api, query, {"n": 2})  # 1 + 2 x (7 + 15 x (1 + 2 x 9)): 585
    assert (response.status_code, response.json()) == (200, {"data": {"phoneNumbers": {"edges": []}}})
    assert (await post(api, query, {"n": 100})).json() == refusal(ISSUE_QUERY_COST)


async def test_a_refused_mutation_writes_nothing(api: Api) -> None:
    fields = " ".join(
        f'm{i}: createAgent(input: {{name: "A{i}"}}) {{ agent {{ phoneNumbers(first: 100) {{ edges {{ node {{ metadata }} }} }} }} }}'
        for i in range(6)
    )
    # 6 x (10 for the write + 1 + agent 1 + 1 + 100 x (4 + edges + node + 17 for metadata))
    response = await post(api, f"mutation {{ {fields} }}")
    assert (response.status_code, response.json()) == (400, refusal(6 * (11 + 1 + 1 + 100 * 23)))
    assert await stored_rows("agents") == []


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        # Each count may read every row: 200, once per field, not per page it appears on.
        pytest.param(
            "{ " + " ".join(f"a{i}: phoneNumbers(first: 1) {{ totalCount }}" for i in range(15)) + " }",
            15 * (1 + 4 + 1 + 200),
            id="counts",
        ),
        pytest.param(
            "{ "
            + " ".join(
                f'a{i}: phoneNumbers(first: 1, filter: {{search: "{i}"}}) {{ edges {{ node {{ id }} }} }}'
                for i in range(15)
            )
            + " }",
            15 * (1 + 200 + 1 * (4 + 3)),
            id="filtered-pages",
        ),
        pytest.param(
            "{ agents(first: 100) { edges { node { phoneNumbers(first: 1) { totalCount } } } } }",
            1 + 100 * (4 + 1 + 1 + (1 + 4 + 1)) + 200,
            id="counts-of-a-page-of-agents",
        ),
    ],
)
async def test_counts_and_filters_cost_what_they_may_read(settings: Settings, query: str, cost: int) -> None:
    limited = dataclasses.replace(settings, max_query_cost=cost - 1)
    async with running_app(limited) as app, api_client(app) as api:
        response = await post(api, query)
        assert (response.status_code, response.json()) == (400, refusal(cost, max_cost=cost - 1))
    async with running_app(dataclasses.replace(settings, max_query_cost=cost)) as app, api_client(app) as api:
        assert (await post(api, query)).status_code == 200


INTROSPECTION_SHAPE = "{ __schema { types { fields { type { fields { type { name } } } } } } }"


async def test_introspection_is_counted_too(api: Api) -> None:
    aliased = "{ " + " ".join(f"s{i}: {INTROSPECTION_SHAPE[2:-2]}" for i in range(15)) + " }"
    response = await post(api, aliased)
    assert (response.status_code, response.json()) == (400, refusal(None))
    response = await post(api, INTROSPECTION_SHAPE)
    assert response.status_code == 200 and len(response.json()["data"]["__schema"]["types"]) > 10


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(get_introspection_query(descriptions=True), id="typed-clients"),
        pytest.param(
            get_introspection_query(
                descriptions=True,
                specified_by_url=True,
                directive_is_repeatable=True,
                schema_description=True,
                input_value_deprecation=True,
                one_of=True,
            ),
            id="every-option",
        ),
    ],
)
async def test_introspection_queries_of_clients_and_graphiql_fit_the_limits(api: Api, query: str) -> None:
    response = await post(api, query)
    assert response.status_code == 200
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


# --- the worst accepted documents -------------------------------------------------


def flat(n: int) -> tuple[str, dict[str, int], int]:
    """A page of `n` numbers, each with 15 aliases of metadata: the most bytes a unit of cost can buy."""
    metadata = " ".join(f"m{i}: metadata" for i in range(15))
    query = f"query($n: Int!) {{ phoneNumbers(first: $n) {{ edges {{ node {{ {metadata} }} }} }} }}"
    return query, {"n": n}, 1 + n * (4 + 2 + 15 * 17)


def nested(n: int) -> tuple[str, dict[str, int], int]:
    """The issue's shape: a number's agent's numbers, 15 times, with metadata and name, depth 8."""
    pages = " ".join(f"p{i}: phoneNumbers(first: $n) {{ edges {{ node {{ metadata name }} }} }}" for i in range(15))
    query = f"query($n: Int!) {{ phoneNumbers(first: 1) {{ edges {{ node {{ agent {{ {pages} }} }} }} }} }}"
    return query, {"n": n}, 1 + 1 * (4 + 3 + 15 * (1 + n * (4 + 2 + 17 + 1)))


@pytest.mark.parametrize(
    ("shape", "largest"), [pytest.param(flat, 38, id="flat"), pytest.param(nested, 27, id="nested")]
)
async def test_the_worst_accepted_documents_answer_under_10_mb(seeded: Api, shape: Any, largest: int) -> None:
    query, variables, cost = shape(largest)
    assert cost <= MAX_QUERY_COST < shape(largest + 1)[2]
    response = await post(seeded, query, variables)
    assert response.status_code == 200 and "errors" not in response.json()
    assert MAX_RESPONSE_BYTES / 4 < len(response.content) < MAX_RESPONSE_BYTES
    assert len(response.content) <= cost * 512  # a unit stands for at most 512 bytes of answer

    query, variables, cost = shape(largest + 1)
    response = await post(seeded, query, variables)
    assert (response.status_code, response.json()) == (400, refusal(cost))


async def test_an_answer_lists_at_most_100_errors(seeded: Api) -> None:
    # Every page of first: 0 fails, nulling its agent: 100 x 2 of them.
    query = (
        "{ phoneNumbers(first: 100) { edges { node { agent { phoneNumbers(first: 2) { edges { node { "
        "agent { phoneNumbers(first: 0) { totalCount } } } } } } } } } }"
    )
    response = await post(seeded, query)
    errors = response.json()["errors"]
    assert response.status_code == 200 and len(errors) == 100
    assert errors[0]["message"] == "first must be between 1 and 100, got 0"
    assert errors[-1] == {"message": "101 more errors were left out"}


async def test_no_answer_is_sent_over_the_response_limit(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(view, "MAX_RESPONSE_BYTES", 100)
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(10)) + " }"  # 129 bytes of answer
    response = await api.client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {api.key}", "X-Request-ID": "req-9"}
    )
    assert response.status_code == 500
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "RESPONSE_TOO_LARGE"}
    assert error["message"].startswith("The response would be ") and error["message"].endswith("(request id req-9)")

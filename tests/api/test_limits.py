"""Limits on a request: query length, tokens, selections, depth, aliases and body size, each at its edge.

Each refusal is a GraphQL error that names the limit, and nothing runs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql.language import Lexer, Source, TokenKind

from schema.limits import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_FIELD_COMPARISONS,
    MAX_NUMBER_LENGTH,
    MAX_QUERY_LENGTH,
    MAX_SELECTIONS,
    MAX_TOKENS,
)
from switchboard.http.limits import MAX_BODY_BYTES
from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import twilio

GRAPHQL_JSON = "application/graphql-response+json"


def nested(depth: int) -> str:
    """A valid query `depth` fields deep: phoneNumbers > edges > node > agent > phoneNumbers > ..., one row a page."""
    chain = ["phoneNumbers(first: 1)", "edges", "node", "agent"]
    selection = "id" if chain[(depth - 1) % 4] in ("node", "agent") else "__typename"
    for level in reversed(range(depth)):
        selection = f"{chain[level % 4]} {{ {selection} }}"
    return f"{{ {selection} }}"


def token_count(document: str) -> int:
    lexer, count = Lexer(Source(document)), 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def tokens(count: int) -> str:
    """A valid document of exactly `count` tokens and 3 selections: a dry run with a long metadata list."""
    head = 'mutation { createPhoneNumber(input: {number: "+14155550123", provider: {voximplant: {}}, dryRun: true, metadata: {k: ['
    tail = "]}}) { userErrors { code } } }"
    return head + "1 " * (count - token_count(head + tail)) + tail


NUMBER_FIELDS = ["id", "name", "number", "provider", "sipMode", "agentId", "createdAt", "updatedAt", "metadata"]


def selections(count: int) -> str:
    """A valid query of exactly `count` selections, no two fields of one name side by side: aliased pages."""
    pages, left = [], count
    while left:
        fields = min(len(NUMBER_FIELDS), left - 3)
        assert fields > 0, count
        pages.append(
            f"a{len(pages)}: phoneNumbers(first: 1) {{ edges {{ node {{ {' '.join(NUMBER_FIELDS[:fields])} }} }} }}"
        )
        left -= 3 + fields
    return "{ " + " ".join(pages) + " }"


def same_fields(count: int) -> str:
    """`count` fields of one name, which validation compares pairwise."""
    return "{ " + "phoneNumbers { totalCount } " * count + "}"


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"


def padded(length: int) -> str:
    query = "{ __typename }"
    return query + " " * (length - len(query))


async def errors_of(api: Api, query: str, *, accept: str = GRAPHQL_JSON) -> tuple[int, Any]:
    response = await api.client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {api.key}", "Accept": accept}
    )
    body = response.json()
    return response.status_code, [e["message"] for e in body.get("errors", [])] if "errors" in body else body["data"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param(nested(MAX_DEPTH + 1), f"'anonymous' exceeds maximum operation depth of {MAX_DEPTH}", id="depth"),
        pytest.param(
            tokens(MAX_TOKENS + 1),
            f"Syntax Error: Document contains more than {MAX_TOKENS} tokens. Parsing aborted.",
            id="tokens",
        ),
        pytest.param(
            aliases(MAX_ALIASES + 1), f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}", id="aliases"
        ),
        pytest.param(
            selections(MAX_SELECTIONS + 1),
            f"The document has {MAX_SELECTIONS + 1} selections; at most {MAX_SELECTIONS} are allowed",
            id="selections",
        ),
        pytest.param(
            same_fields(MAX_SELECTIONS // 2),
            f"Validation aborted: comparing the fields that share a name took more than {MAX_FIELD_COMPARISONS} steps",
            id="field-comparisons",
        ),
        pytest.param(
            padded(MAX_QUERY_LENGTH + 1),
            f"The query is {MAX_QUERY_LENGTH + 1} characters long; at most {MAX_QUERY_LENGTH} are allowed",
            id="length",
        ),
        # Python reads no integer of more than 4,300 digits: these were 500s.
        *(
            pytest.param(
                query,
                f"A number in the document has {length} characters; at most {MAX_NUMBER_LENGTH} are allowed",
                id=name,
            )
            for name, query, length in (
                ("int-argument", "{ phoneNumbers(first: %s) { totalCount } }" % ("1" * 5000), 5000),
                (
                    "int-in-input",
                    'mutation { createAgent(input: {name: "a"}) { agent { id } } } query { agents(first: %s) { totalCount } }'
                    % ("9" * (MAX_NUMBER_LENGTH + 1)),
                    MAX_NUMBER_LENGTH + 1,
                ),
                ("int-default", "query($n: Int = %s) { phoneNumbers(first: $n) { totalCount } }" % ("7" * 4301), 4301),
                ("float", "{ phoneNumbers(first: 1.%s) { totalCount } }" % ("0" * 5000), 5002),
                (
                    "json-scalar",
                    'mutation { updatePhoneNumber(input: {id: "x", metadata: {a: %s}}) { userErrors { code } } }'
                    % ("5" * 6000),
                    6000,
                ),
            )
        ),
    ],
)
async def test_a_document_over_a_limit_is_refused(api: Api, query: str, message: str) -> None:
    assert await errors_of(api, query) == (400, [message])
    assert await errors_of(api, query, accept="application/json") == (200, [message])


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(nested(MAX_DEPTH), id="depth"),
        pytest.param(tokens(MAX_TOKENS), id="tokens"),
        pytest.param(aliases(MAX_ALIASES), id="aliases"),
        pytest.param(selections(MAX_SELECTIONS), id="selections"),
        pytest.param(same_fields(20), id="field-comparisons"),
        pytest.param(padded(MAX_QUERY_LENGTH), id="length"),
        pytest.param(
            'mutation { updatePhoneNumber(input: {id: "x", metadata: {a: 1.%s}}) { userErrors { code } } }'
            % ("0" * (MAX_NUMBER_LENGTH - 2)),
            id="number-length",
        ),
    ],
)
async def test_a_document_at_a_limit_runs(api: Api, query: str) -> None:
    status, data = await errors_of(api, query)
    assert status == 200 and isinstance(data, dict)


async def test_typed_clients_introspection_query_runs_within_the_limits(api: Api) -> None:
    from graphql import get_introspection_query

    status, data = await errors_of(api, get_introspection_query(descriptions=True))
    assert status == 200 and data["__schema"]["queryType"]["name"] == "Query"


async def test_a_refused_mutation_runs_nothing(api: Api) -> None:
    fields = " ".join(
        f'm{i}: createAgent(input: {{name: "Agent {i}"}}) {{ agent {{ id }} }}' for i in range(MAX_ALIASES + 1)
    )
    status, messages = await errors_of(api, f"mutation {{ {fields} }}")
    assert (status, messages) == (400, [f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}"])
    assert await stored_rows("agents") == []


async def test_a_repeated_document_is_validated_once(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # ValidationCache keys on the rule classes: the limits must not make new ones per request.
    import strawberry.schema.schema as strawberry_schema

    calls = []
    validate = strawberry_schema.validate
    monkeypatch.setattr(strawberry_schema, "validate", lambda *args: calls.append(1) or validate(*args))
    query = f"query Once{id(calls)} {{ __typename }}"
    for _ in range(3):
        assert await errors_of(api, query) == (200, {"__typename": "Query"})
    assert len(calls) == 1


# --- the request body -----------------------------------------------------------


def json_body(size: int) -> bytes:
    """A valid GraphQL request of exactly `size` bytes, padded with JSON whitespace."""
    body = json.dumps({"query": "{ __typename }"}).encode()
    return body + b" " * (size - len(body))


async def chunks(body: bytes, size: int = 8192) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_a_body_at_the_limit_is_read(api: Api) -> None:
    response = await api.client.post(
        "/graphql",
        content=json_body(MAX_BODY_BYTES),
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()) == (200, {"data": {"__typename": "Query"}})


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
async def test_a_larger_graphql_body_is_413(api: Api, streamed: bool) -> None:
    body = json.dumps({"query": CREATE_AGENT_QUERY, "variables": {"name": "x" * MAX_BODY_BYTES}}).encode()
    response = await api.client.post(
        "/graphql",
        content=chunks(body) if streamed else body,
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {
        "errors": [
            {"message": "The request body is too large: at most 64 KiB", "extensions": {"code": "REQUEST_TOO_LARGE"}}
        ]
    }
    assert await stored_rows("agents") == []


CREATE_AGENT_QUERY = "mutation($name: String!) { createAgent(input: {name: $name}) { agent { id } } }"


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
async def test_a_larger_rest_body_is_413(api: Api, streamed: bool) -> None:
    body = json.dumps(
        {
            "number": "+14155550123",
            "twilioAccountSid": twilio()["twilio"]["accountSid"],
            "twilioAuthToken": "t",
            "name": "x" * MAX_BODY_BYTES,
        }
    ).encode()
    response = await api.client.post(
        "/v1/phone-numbers",
        content=chunks(body) if streamed else body,
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()) == (
        413,
        {"error": "The request body is too large: at most 64 KiB", "details": []},
    )
    assert await stored_rows("phone_numbers") == []


async def test_fragments_spread_twice_down_a_chain_are_weighed_without_following_every_spread(api: Api) -> None:
    """20 fragments, each spreading the next twice: a million paths in 430 tokens. Depth, aliases and cost are
    worked out once a fragment (Strawberry's limiters followed every path: seconds at 20, never done at 40)."""
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(20))
    query = f"{{ ...F0 }} {chain} fragment F20 on Query {{ __typename }}"
    assert await errors_of(api, query) == (400, [f"The query costs {2**20}; at most 10000 is allowed"])

"""Messages quote caller input only as a short, escaped excerpt, and never a secret.

Each case sends about 60 KB of input in a place some message quotes (a number,
an id, a field or argument name, an operation name) and checks the answer
stays small, through GraphQL and REST.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import (
    CREATE_PHONE_NUMBER,
    DELETE_AGENT,
    DELETE_PHONE_NUMBER,
    UPDATE_PHONE_NUMBER,
    twilio,
)
from tests.support.rule_cases import body

HUGE = 60_000
# Far more than any message needs, far less than the input.
MESSAGE_BOUND = 300
# Invisible or control characters a message would otherwise carry verbatim.
RAW_CHARACTERS = ("\u202e", "\n", "\x1b", "\u2028", "\u200b")


def messages(value: Any) -> list[str]:
    """Every message and REST field name in a response body."""
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k in {"message", "error"} and isinstance(v, str)]
        found += [v for k, v in value.items() if k == "field" and isinstance(v, str)]
        found += ["".join(v) for k, v in value.items() if k == "field" and isinstance(v, list)]
        return found + [m for v in value.values() for m in messages(v)]
    if isinstance(value, list):
        return [m for v in value for m in messages(v)]
    return []


def assert_bounded(response_text: str, *, expect: str | None = None) -> list[str]:
    assert len(response_text) < 2_000, response_text[:500]
    found = messages(json.loads(response_text))
    assert found, response_text
    for message in found:
        assert len(message) <= MESSAGE_BOUND, message
        assert not any(c in message for c in RAW_CHARACTERS), message
    if expect is not None:
        assert any(expect in m for m in found), found
    return found


async def rest(api: Api, method: str, path: str, **kwargs: Any) -> Any:
    return await api.client.request(method, path, headers={"Authorization": f"Bearer {api.key}"}, **kwargs)


# --- the rules' own messages ---------------------------------------------------------------------


async def test_a_huge_number_is_quoted_as_a_short_prefix(api: Api) -> None:
    number = "+1" + "2" * HUGE
    response = await api.post(CREATE_PHONE_NUMBER, {"input": {"number": number, "provider": twilio()}})
    found = assert_bounded(response.text, expect="is not a valid phone number")
    assert any("+1222222" in m and "…" in m for m in found), found
    response = await rest(api, "POST", "/v1/phone-numbers", json=body(number=number))
    assert response.status_code == 400
    assert_bounded(response.text, expect="is not a valid phone number")
    assert await stored_rows("phone_numbers") == []


async def test_a_short_invalid_number_is_quoted_whole(api: Api) -> None:
    response = await api.post(CREATE_PHONE_NUMBER, {"input": {"number": "+1234", "provider": twilio()}})
    assert (
        response.json()["data"]["createPhoneNumber"]["userErrors"][0]["message"]
        == "Number '+1234' is not a valid phone number"
    )


@pytest.mark.parametrize(
    ("document", "field"),
    [
        pytest.param(UPDATE_PHONE_NUMBER, "updatePhoneNumber", id="update"),
        pytest.param(DELETE_PHONE_NUMBER, "deletePhoneNumber", id="delete"),
        pytest.param(DELETE_AGENT, "deleteAgent", id="delete-agent"),
    ],
)
@pytest.mark.parametrize("id", ["y" * HUGE, "id\u202e\n\x1b" + "z" * 100])
async def test_unknown_ids_are_quoted_as_a_short_escaped_prefix(api: Api, document: str, field: str, id: str) -> None:
    response = await api.post(document, {"input": {"id": id}})
    (error,) = response.json()["data"][field]["userErrors"]
    assert error["code"] == "NOT_FOUND"
    assert_bounded(response.text, expect="does not exist")


# --- REST's shape checks --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["x" * HUGE, "sip\u202eUsername\n" + "x" * 100])
async def test_rest_unknown_body_fields_are_named_by_a_short_escaped_prefix(api: Api, name: str) -> None:
    response = await rest(api, "POST", "/v1/phone-numbers", json={**body(), name: 1})
    assert response.status_code == 400
    (detail,) = response.json()["details"]
    assert detail["message"].endswith("is not a field of a phone number")
    assert_bounded(response.text)


@pytest.mark.parametrize("name", ["q" * HUGE, "page\u202e\n" + "q" * 100])
async def test_rest_unknown_query_parameters_are_named_by_a_short_escaped_prefix(api: Api, name: str) -> None:
    response = await rest(api, "GET", "/v1/phone-numbers", params={name: "1"})
    assert response.status_code == 400
    (detail,) = response.json()["details"]
    assert detail["message"].endswith("is not a query parameter of this list")
    assert_bounded(response.text)


async def test_rest_long_metadata_keys_are_named_by_a_short_prefix(api: Api) -> None:
    response = await rest(api, "POST", "/v1/phone-numbers", json=body(metadata={"a": {"k" * HUGE: 1}}))
    assert response.status_code == 400
    (detail,) = response.json()["details"]
    assert detail["field"] == "metadata.a." + "k" * 39 + "…"
    assert_bounded(response.text)


# --- graphql-core's messages ----------------------------------------------------------------------


LONG_NAME = "n" * 14_000  # within the 15,000-character query limit

GRAPHQL_ECHOES = [
    pytest.param(
        {
            "query": f'mutation {{ createPhoneNumber(input: {{number: "+14155550123", {LONG_NAME}: 1, provider: {{voximplant: {{}}}}}}) {{ phoneNumber {{ id }} }} }}'
        },
        id="unknown-input-field-literal",
    ),
    pytest.param({"query": f"{{ {LONG_NAME} }}"}, id="unknown-field"),
    pytest.param({"query": f"{{ phoneNumbers({LONG_NAME}: 1) {{ totalCount }} }}"}, id="unknown-argument"),
    pytest.param({"query": f"query($v: {LONG_NAME}) {{ phoneNumbers {{ totalCount }} }}"}, id="unknown-type"),
    pytest.param({"query": f"{{ phoneNumbers @{LONG_NAME} {{ totalCount }} }}"}, id="unknown-directive"),
    pytest.param({"query": f"{{ ...{LONG_NAME} }}"}, id="unknown-fragment"),
    pytest.param({"query": f"query(${LONG_NAME}: Int) {{ phoneNumbers {{ totalCount }} }}"}, id="unused-variable"),
    pytest.param({"query": f"{{ phoneNumbers(first: ${LONG_NAME}) {{ totalCount }} }}"}, id="undefined-variable"),
    pytest.param({"query": "{ phoneNumbers { totalCount } } %s" % ("}" + LONG_NAME)}, id="syntax-error-token"),
    pytest.param(
        {"query": "query A { agents { totalCount } }", "operationName": "o" * HUGE}, id="unknown-operation-name"
    ),
    pytest.param(
        {
            "query": CREATE_PHONE_NUMBER,
            "variables": {"input": {"number": "+14155550123", "provider": twilio(), "x" * HUGE: 1}},
        },
        id="unknown-variable-field",
    ),
    pytest.param(
        {
            "query": CREATE_PHONE_NUMBER,
            "variables": {
                "input": {
                    "number": "+14155550123",
                    "provider": {"twilio": {"accountSid": "AC", "authToken": "t", "k\u202e\n" * 5_000: 1}},
                }
            },
        },
        id="unknown-nested-variable-field",
    ),
    pytest.param(
        {
            "query": CREATE_PHONE_NUMBER,
            "variables": {"input": {"number": "+14155550123", "provider": {"x'" * 30_000: {}}}},
        },
        id="unknown-variable-field-of-quotes",
    ),
    pytest.param(
        {
            "query": 'mutation { createPhoneNumber(input: {number: "+14155550123", provider: {twilio: {accountSid: "AC", authToken: "t", x\u202e: 1}}}) { phoneNumber { id } } }'
        },
        id="unexpected-character",
    ),
]


@pytest.mark.parametrize("request_body", GRAPHQL_ECHOES)
async def test_graphql_errors_quote_long_names_as_a_short_escaped_prefix(
    api: Api, request_body: dict[str, Any]
) -> None:
    response = await api.client.post("/graphql", json=request_body, headers={"Authorization": f"Bearer {api.key}"})
    assert response.status_code < 500
    assert response.json()["errors"]
    assert_bounded(response.text)
    assert await stored_rows("phone_numbers") == []


@pytest.mark.parametrize(
    "query",
    [
        'mutation { createPhoneNumber(input: {number: "+14155550123" "leaky-literal-0123"}) { phoneNumber { id } } }',
        'mutation { createPhoneNumber(input: {number: "+14155550123", provider: {twilio: {authToken: """leaky-block-0123""" """x"""}}}) { phoneNumber { id } } }',
        '{ "leaky-literal-0123" }',
    ],
)
async def test_syntax_errors_do_not_quote_string_literals(api: Api, query: str) -> None:
    response = await api.post(query)
    (error,) = response.json()["errors"]
    assert error["message"].startswith("Syntax Error: ")
    assert "leaky" not in response.text


async def test_short_names_are_still_quoted_whole(api: Api) -> None:
    response = await api.post("{ phoneNumberz { totalCount } }")
    assert response.json()["errors"][0]["message"].startswith("Cannot query field 'phoneNumberz' on type 'Query'.")


async def test_rest_lists_a_bounded_number_of_problems(api: Api) -> None:
    """A 50 KB body of short unknown fields answers with a short list, saying how many more there were."""
    fields = {f"k{i}": 1 for i in range(4_000)}
    headers = {"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"}
    response = await api.client.post("/v1/phone-numbers", content=json.dumps(fields), headers=headers)
    assert response.status_code == 400
    details = response.json()["details"]
    assert len(details) == 50
    assert details[:3] == [{"field": f"k{i}", "message": f"k{i} is not a field of a phone number"} for i in range(3)]
    assert details[-1] == {"field": "body", "message": "3951 more problems are not listed"}
    assert len(response.content) < 5_000

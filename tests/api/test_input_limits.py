"""Metadata numbers and nesting, and the search filter's length: refused with a path, never a 500 or a silent change.

The variable and REST forms of the metadata rules are rows of tests/support/rule_cases.py;
here are the GraphQL literals, which graphql-core turns into Python numbers
no JSON parser would produce (integers of any size, infinities, NaN).
"""

from __future__ import annotations

import pytest

from schema.limits import MAX_NUMBER_LENGTH
from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import LIST_PHONE_NUMBERS
from tests.support.helpers import create_number

LITERAL_CREATE = """
mutation {
  createPhoneNumber(input: {number: "+14155550123", provider: {voximplant: {}}, metadata: %s}) {
    phoneNumber { id metadata }
    userErrors { field message code }
  }
}
"""


@pytest.mark.parametrize(
    ("literal", "path"),
    [
        pytest.param("{a: 123456789012345678901234567890}", ["a"], id="integer-beyond-64-bits"),
        pytest.param("{a: -123456789012345678901234567890}", ["a"], id="negative-integer-beyond-64-bits"),
        pytest.param("{a: 9007199254740992}", ["a"], id="integer-2^53"),
        # The longest number a document may hold (tests/api/test_limits.py refuses longer ones whole).
        pytest.param("{a: %s}" % ("9" * MAX_NUMBER_LENGTH), ["a"], id="integer-of-the-longest-length"),
        pytest.param("{a: 1e400}", ["a"], id="float-overflowing-to-infinity"),
        pytest.param("{a: 1.5e308}", ["a"], id="float-over-2^53"),
        pytest.param("{a: -1e400}", ["a"], id="float-overflowing-to-minus-infinity"),
        pytest.param("{a: %s.0}" % ("9" * (MAX_NUMBER_LENGTH - 2)), ["a"], id="float-of-the-longest-length"),
        pytest.param("{a: {b: [1, 2, 1e400]}}", ["a", "b", "2"], id="nested-infinity"),
        pytest.param("{a: [{b: 123456789012345678901234567890}]}", ["a", "0", "b"], id="nested-huge-integer"),
    ],
)
async def test_metadata_literals_that_no_client_can_hold_are_invalid(api: Api, literal: str, path: list[str]) -> None:
    response = await api.post(LITERAL_CREATE % literal)
    assert response.status_code == 200
    payload = response.json()["data"]["createPhoneNumber"]
    assert payload["phoneNumber"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "metadata", *path], "INVALID")]
    assert await stored_rows("phone_numbers") == []


async def test_metadata_literals_within_the_limits_are_stored_exactly(api: Api) -> None:
    literal = "{a: 9007199254740991, b: -9007199254740991, c: 9.0e15, d: [0.5, -2]}"
    payload = (await api.gql(LITERAL_CREATE % literal))["createPhoneNumber"]
    assert payload["userErrors"] == []
    assert payload["phoneNumber"]["metadata"] == {"a": 2**53 - 1, "b": -(2**53 - 1), "c": 9.0e15, "d": [0.5, -2]}


@pytest.mark.parametrize(
    ("literal", "path", "code"),
    [
        pytest.param(
            "{{a: {{{}}}}}".format(" ".join(f"k{i}: {i}" for i in range(51))), ["a"], "TOO_LONG", id="51-nested-keys"
        ),
        pytest.param(
            "{a: [{b: {%s: 1}}]}" % ("k" * 41), ["a", "0", "b", "k" * 39 + "…"], "TOO_LONG", id="nested-key-41"
        ),
    ],
)
async def test_nested_metadata_limits_apply_to_literals(api: Api, literal: str, path: list[str], code: str) -> None:
    payload = (await api.gql(LITERAL_CREATE % literal))["createPhoneNumber"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "metadata", *path], code)]


@pytest.mark.parametrize(
    "document",
    [
        pytest.param('{"number": "+14155550123", "provider": "voximplant", "metadata": {"a": 1e400}}', id="infinity"),
        pytest.param('{"number": "+14155550123", "provider": "voximplant", "metadata": {"a": NaN}}', id="nan"),
    ],
)
async def test_json_numbers_the_parser_refuses_are_400_over_rest(api: Api, document: str) -> None:
    response = await api.client.post(
        "/v1/phone-numbers",
        content=document,
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "Validation failed",
        "details": [{"field": "body", "message": "The body is not valid JSON"}],
    }
    assert await stored_rows("phone_numbers") == []


# --- search ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [101, 1_000, 60_000])
async def test_search_over_the_limit_is_a_bad_user_input_error(api: Api, length: int) -> None:
    await create_number(api, 1, name="Front")
    for search in ["a" * length, "4" * length, "\u00e9" * min(length, 5_000), " " + "x" * length + " "]:
        response = await api.post(LIST_PHONE_NUMBERS, {"filter": {"search": search}})
        assert response.status_code == 200
        (error,) = response.json()["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "filter.search"}
        assert "at most 100 characters" in error["message"]
        assert len(error["message"]) < 200


async def test_search_at_the_limit_runs(api: Api) -> None:
    await create_number(api, 1, name="F" * 100)
    data = await api.gql(LIST_PHONE_NUMBERS, {"filter": {"search": "f" * 100}})
    assert data["phoneNumbers"]["totalCount"] == 1
    # Surrounding blanks are not part of the search.
    data = await api.gql(LIST_PHONE_NUMBERS, {"filter": {"search": "  " + "f" * 100 + "  "}})
    assert data["phoneNumbers"]["totalCount"] == 1


@pytest.mark.parametrize("search", ["a\x00b", "\x00", "front\x1b[0m"])
async def test_search_with_control_characters_is_a_bad_user_input_error(api: Api, search: str) -> None:
    await create_number(api, 1, name="Front")
    response = await api.post(LIST_PHONE_NUMBERS, {"filter": {"search": search}})
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "filter.search"}

"""Cursors of phoneNumbers, agents, Agent.phoneNumbers and apiKeys: signed, opaque, bounded; any other `after` is
a BAD_USER_INPUT error naming it, never a 500.

An attacker holds a valid key and sends whatever `after` it likes: the
payloads below are what it can build knowing how cursors used to look
(base64 of a JSON array of list, organization id, time and row id).

The tests that need real processes are in tests/system/test_cursors_processes.py.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from resolvers.pagination import CURSOR_MAX_LENGTH
from tests.support.app import Api
from tests.support.cursors import Lists, read

NOT_A_CURSOR = "after is not a cursor returned by this API"
TOO_LONG = f"after must be at most {CURSOR_MAX_LENGTH} characters"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def old_style(*parts: Any) -> str:
    return b64(json.dumps(list(parts)).encode())


def refusal(response: httpx.Response) -> tuple[int, str, dict[str, Any]]:
    body = response.json()
    assert "errors" in body, body
    (error,) = body["errors"]
    return response.status_code, error["message"], error.get("extensions")


LIST_NAMES = ("phoneNumbers", "agents", "agentPhoneNumbers", "apiKeys")

# Each builds an `after` from the caller's organization id and the newest number's id.
Build = Callable[[uuid.UUID, str], str]
MALFORMED: list[Any] = [
    pytest.param(lambda org, row: b64(b"[" * 5000), id="deeply-nested-json-array"),
    pytest.param(lambda org, row: b64(b"[" * 90), id="nested-json-array-within-the-length-limit"),
    pytest.param(lambda org, row: b64(b'{"a":' * 3000), id="deeply-nested-json-object"),
    pytest.param(
        lambda org, row: old_style("phone_numbers", org.hex, "0001-01-01T00:00:00+23:59", row),
        id="time-before-year-1-in-utc",
    ),
    pytest.param(
        lambda org, row: old_style("phone_numbers", org.hex, "9999-12-31T23:59:59-23:59", row),
        id="time-after-year-9999-in-utc",
    ),
    pytest.param(
        lambda org, row: old_style("phone_numbers", org.hex, "2024-05-01T10:00:00+05:17:31.5", row), id="odd-utc-offset"
    ),
    pytest.param(lambda org, row: old_style("phone_numbers", org.hex, "2024-05-01T10:00:00", row), id="naive-time"),
    pytest.param(lambda org, row: old_style("phone_numbers", org.hex, 1714557600, row), id="time-of-wrong-type"),
    pytest.param(
        lambda org, row: old_style("phone_numbers", org.hex, "2024-05-01T10:00:00+00:00", 7), id="id-of-wrong-type"
    ),
    pytest.param(
        lambda org, row: old_style("phone_numbers", org.hex, "2024-05-01T10:00:00+00:00", "x"), id="id-not-a-uuid"
    ),
    pytest.param(lambda org, row: old_style(1, 2, 3, 4), id="numbers-only"),
    pytest.param(lambda org, row: b64(json.dumps({"kind": "phone_numbers"}).encode()), id="object-not-array"),
    pytest.param(lambda org, row: b64(b"[" + b"9" * 5000 + b"]"), id="huge-integer"),
    pytest.param(lambda org, row: b64(b"[NaN, Infinity]"), id="nan"),
    pytest.param(lambda org, row: b64(b"\xff\xfe\xfd\x80\x00"), id="not-utf-8"),
    pytest.param(lambda org, row: b64(b"\x00" * 60), id="zero-bytes"),
    pytest.param(lambda org, row: old_style("phone_numbers", org.hex, "x" * 60, row), id="long-string-inside"),
    pytest.param(lambda org, row: "A" * (CURSOR_MAX_LENGTH + 1), id="one-over-the-length-limit"),
    pytest.param(lambda org, row: "A" * 60_000, id="sixty-thousand-characters"),
    pytest.param(lambda org, row: "", id="empty"),
    pytest.param(lambda org, row: "A", id="impossible-base64-length"),
    pytest.param(lambda org, row: "%%%%", id="not-base64"),
    pytest.param(lambda org, row: "WyJwaG9uZV9udW1iZXJzIl0=", id="padded"),
    pytest.param(lambda org, row: "Wy Jw\naG9u", id="whitespace"),
    pytest.param(lambda org, row: "курсор", id="not-ascii"),
    pytest.param(lambda org, row: "\x00\x01", id="control-characters"),
]


@pytest.mark.parametrize("build", MALFORMED)
async def test_a_malformed_cursor_is_bad_user_input_naming_after(api: Api, lists: Lists, build: Build) -> None:
    after = build(lists.organization, lists.numbers[0].replace("-", ""))
    message = TOO_LONG if len(after) > CURSOR_MAX_LENGTH else NOT_A_CURSOR
    for list_name in LIST_NAMES:
        response = await read(api, lists, list_name, after)
        assert refusal(response) == (200, message, {"code": "BAD_USER_INPUT", "argument": "after"}), list_name


@pytest.mark.parametrize("after", [123, 1.5, True, ["x"], {"a": 1}])
async def test_an_after_that_is_not_a_string_is_refused_naming_it(api: Api, lists: Lists, after: Any) -> None:
    for list_name in LIST_NAMES:
        status, message, _ = refusal(await read(api, lists, list_name, after))
        assert status == 200 and message.startswith("Variable '$after' has invalid value"), (list_name, message)


async def test_a_cursor_forged_for_another_position_is_refused(api: Api, lists: Lists) -> None:
    """Valid JSON, in the very form cursors had, naming a position no page ended at."""
    newest = lists.numbers[0].replace("-", "")
    forged = {
        "phoneNumbers": old_style("phone_numbers", lists.organization.hex, "2999-01-01T00:00:00+00:00", newest),
        "agents": old_style("agents", lists.organization.hex, "2999-01-01T00:00:00+00:00", newest),
        "agentPhoneNumbers": old_style(
            "agent_phone_numbers", uuid.UUID(lists.agent).hex, "2999-01-01T00:00:00+00:00", newest
        ),
    }
    for list_name, after in forged.items():
        response = await read(api, lists, list_name, after)
        assert refusal(response) == (200, NOT_A_CURSOR, {"code": "BAD_USER_INPUT", "argument": "after"}), list_name


@pytest.mark.parametrize("list_name", LIST_NAMES)
async def test_a_cursor_with_any_byte_changed_is_refused(api: Api, lists: Lists, list_name: str) -> None:
    """Whatever byte is altered (position, list, scope or signature), the cursor is no longer one of ours."""
    raw = unb64(lists.cursors[list_name])
    for index in range(len(raw)):
        tampered = b64(raw[:index] + bytes([raw[index] ^ 0x01]) + raw[index + 1 :])
        status, message, extensions = refusal(await read(api, lists, list_name, tampered))
        assert (status, extensions) == (200, {"code": "BAD_USER_INPUT", "argument": "after"}), index
        assert message in (NOT_A_CURSOR, f"after is a cursor of another list, not of {list_name}"), index


async def test_a_cursor_does_not_reveal_the_organization(api: Api, lists: Lists) -> None:
    organization = lists.organization
    agent = uuid.UUID(lists.agent)
    for list_name, cursor in lists.cursors.items():
        raw = unb64(cursor)
        for scope in (organization, agent):
            for form in (scope.bytes, scope.hex.encode(), str(scope).encode()):
                assert form not in raw, (list_name, form)
            assert scope.hex not in cursor.lower() and str(scope) not in cursor


async def test_cursors_are_bounded_in_length(api: Api, lists: Lists) -> None:
    assert all(len(cursor) <= CURSOR_MAX_LENGTH for cursor in lists.cursors.values())


async def test_a_real_cursor_reads_on(api: Api, lists: Lists) -> None:
    for list_name in ("phoneNumbers", "agentPhoneNumbers"):
        page = (await read(api, lists, list_name, lists.cursors[list_name])).json()["data"]
        edges = page["phoneNumbers"]["edges"] if list_name == "phoneNumbers" else page["agent"]["phoneNumbers"]["edges"]
        assert [e["node"]["id"] for e in edges] == [lists.numbers[1]], list_name

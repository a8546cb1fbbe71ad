"""createPhoneNumber's dryRun and idempotencyKey."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from models import IdempotencyKey

from tests.conftest import Api, stored_rows
from tests.graphql_ops import CREATE_PHONE_NUMBER, DELETE_PHONE_NUMBER, twilio
from tests.helpers import create_agent, create_number, nth_number


async def create(api: Api, input: dict[str, Any], *, key: str | None = None) -> dict[str, Any]:
    return (await api.gql(CREATE_PHONE_NUMBER, {"input": input}, key=key))["createPhoneNumber"]


def number_input(n: int = 1, **fields: Any) -> dict[str, Any]:
    return {"number": nth_number(n), "provider": twilio(), **fields}


# --- dry runs ------------------------------------------------------------------------


async def test_dry_run_answers_as_if_saved_and_saves_nothing(api: Api) -> None:
    agent = await create_agent(api)
    payload = await create(api, number_input(agentId=agent["id"], name="Front", dryRun=True))
    assert payload["userErrors"] == []
    assert payload["phoneNumber"]["number"] == nth_number(1)
    assert payload["phoneNumber"]["agent"] == {"id": agent["id"], "name": agent["name"]}
    assert payload["phoneNumber"]["config"]["authTokenSet"] is True
    assert await stored_rows("phone_numbers") == []


async def test_dry_run_checks_uniqueness_and_agents(api: Api) -> None:
    await create_number(api, 1)
    payload = await create(api, number_input(agentId="00000000-0000-4000-8000-000000000000", dryRun=True))
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "agentId"], "NOT_FOUND"),
        (["input", "number"], "TAKEN"),
    ]
    assert len(await stored_rows("phone_numbers")) == 1


async def test_dry_run_reports_every_rule(api: Api) -> None:
    payload = await create(api, {"number": "", "provider": twilio(accountSid="x"), "dryRun": True})
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "number"], "BLANK"),
        (["input", "provider", "twilio", "accountSid"], "INVALID"),
    ]


# --- idempotency keys ------------------------------------------------------------------


async def test_retry_with_the_same_key_returns_the_original(api: Api) -> None:
    first = await create(api, number_input(idempotencyKey="order-1"))
    retry = await create(api, number_input(idempotencyKey="order-1"))
    assert retry == first
    assert len(await stored_rows("phone_numbers")) == 1


async def test_same_key_with_different_input_is_refused(api: Api) -> None:
    await create(api, number_input(idempotencyKey="order-1"))
    payload = await create(api, number_input(2, idempotencyKey="order-1"))
    assert payload == {
        "phoneNumber": None,
        "userErrors": [
            {
                "field": ["input", "idempotencyKey"],
                "code": "IDEMPOTENCY_KEY_REUSED",
                "message": "This idempotency key was already used with different input; use a new key for a new request",
            }
        ],
    }
    changed_secret = await create(api, number_input(idempotencyKey="order-1", provider=twilio(authToken="other")))
    assert changed_secret["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(await stored_rows("phone_numbers")) == 1


async def test_keys_are_scoped_to_the_organization(api: Api, other_key: str) -> None:
    mine = await create(api, number_input(idempotencyKey="k"))
    theirs = await create(api, number_input(idempotencyKey="k"), key=other_key)
    assert theirs["userErrors"] == [] and theirs["phoneNumber"]["id"] != mine["phoneNumber"]["id"]


async def test_a_failed_request_does_not_consume_the_key(api: Api) -> None:
    failed = await create(api, number_input(idempotencyKey="k", provider=twilio(authToken="")))
    assert failed["userErrors"][0]["code"] == "BLANK"
    assert (await create(api, number_input(idempotencyKey="k")))["userErrors"] == []


async def test_key_older_than_24_hours_is_free_again(api: Api) -> None:
    first = await create(api, number_input(idempotencyKey="k"))
    await IdempotencyKey.all().update(created_at=datetime.now(timezone.utc) - timedelta(hours=24, minutes=1))
    second = await create(api, number_input(2, idempotencyKey="k"))
    assert second["userErrors"] == [] and second["phoneNumber"]["id"] != first["phoneNumber"]["id"]


async def test_key_of_a_deleted_number(api: Api) -> None:
    first = await create(api, number_input(idempotencyKey="k"))
    await api.gql(DELETE_PHONE_NUMBER, {"input": {"id": first["phoneNumber"]["id"]}})
    retry = await create(api, number_input(idempotencyKey="k"))
    assert [(e["field"], e["code"]) for e in retry["userErrors"]] == [(["input", "idempotencyKey"], "NOT_FOUND")]
    assert await stored_rows("phone_numbers") == []


@pytest.mark.parametrize(("key", "code"), [("k" * 256, "TOO_LONG"), ("  ", "BLANK")])
async def test_key_rules(api: Api, key: str, code: str) -> None:
    payload = await create(api, number_input(idempotencyKey=key))
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "idempotencyKey"], code)]


async def test_key_of_255_characters_is_accepted(api: Api) -> None:
    assert (await create(api, number_input(idempotencyKey="k" * 255)))["userErrors"] == []


async def test_concurrent_retries_with_one_key_create_one_row(api: Api) -> None:
    results = await asyncio.gather(*(create(api, number_input(idempotencyKey="burst")) for _ in range(10)))
    ids = {r["phoneNumber"]["id"] for r in results}
    assert all(r["userErrors"] == [] for r in results)
    assert len(ids) == 1
    assert len(await stored_rows("phone_numbers")) == 1
    assert len(await stored_rows("idempotency_keys")) == 1


async def test_the_key_table_holds_no_secret(api: Api) -> None:
    await create(api, number_input(idempotencyKey="k"))
    (row,) = await stored_rows("idempotency_keys")
    assert all("twilio-secret" not in str(v) for v in row.values())

"""Rows per organization: SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION and SWITCHBOARD_MAX_AGENTS_PER_ORGANIZATION.

The tests that need real processes are in tests/system/test_row_limits_processes.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from switchboard.settings import Settings, SettingsError
from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import (
    CREATE_AGENT,
    CREATE_PHONE_NUMBER,
    DELETE_PHONE_NUMBER,
    UPDATE_PHONE_NUMBER,
    twilio,
)
from tests.support.helpers import create_agent, create_number, nth_number
from tests.support.rule_cases import body

MAX_NUMBERS = 3
MAX_AGENTS = 2
NUMBERS_FULL = (
    f"This organization has reached its limit of {MAX_NUMBERS} phone numbers: delete one before creating another"
)
AGENTS_FULL = f"This organization has reached its limit of {MAX_AGENTS} agents: delete one before creating another"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The same databases, with small limits."""
    return dataclasses.replace(
        settings, max_phone_numbers_per_organization=MAX_NUMBERS, max_agents_per_organization=MAX_AGENTS
    )


async def create(api: Api, n: int, *, key: str | None = None, **fields: Any) -> dict[str, Any]:
    input = {"number": nth_number(n), "provider": twilio(), **fields}
    return (await api.gql(CREATE_PHONE_NUMBER, {"input": input}, key=key))["createPhoneNumber"]


async def fill(api: Api, count: int = MAX_NUMBERS) -> list[dict[str, Any]]:
    return [await create_number(api, n) for n in range(count)]


def limit_error(message: str = NUMBERS_FULL) -> dict[str, Any]:
    return {"field": ["input"], "code": "LIMIT_REACHED", "message": message}


# --- phone numbers ---------------------------------------------------------------------


async def test_a_create_beyond_the_limit_is_refused_until_a_number_is_deleted(api: Api) -> None:
    numbers = await fill(api)

    refused = await create(api, 10)

    assert refused == {"phoneNumber": None, "userErrors": [limit_error()]}
    assert len(await stored_rows("phone_numbers")) == MAX_NUMBERS
    await api.gql(DELETE_PHONE_NUMBER, {"input": {"id": numbers[0]["id"]}})
    assert (await create(api, 10))["userErrors"] == []


async def test_the_limit_is_per_organization(api: Api, other_key: str) -> None:
    await fill(api)
    assert (await create(api, 10, key=other_key))["userErrors"] == []


async def test_rest_answers_409_naming_the_limit(api: Api) -> None:
    await fill(api)
    response = await api.client.post(
        "/v1/phone-numbers", json=body(number=nth_number(10)), headers={"Authorization": f"Bearer {api.key}"}
    )
    assert response.status_code == 409
    assert response.json() == {"error": NUMBERS_FULL, "details": []}
    assert len(await stored_rows("phone_numbers")) == MAX_NUMBERS


async def test_dry_runs_report_the_limit(api: Api) -> None:
    await fill(api, MAX_NUMBERS - 1)
    assert (await create(api, 10, dryRun=True))["userErrors"] == []
    await create_number(api, MAX_NUMBERS - 1)
    assert (await create(api, 10, dryRun=True)) == {"phoneNumber": None, "userErrors": [limit_error()]}


@pytest.mark.parametrize("dry_run", [False, True], ids=["create", "dry-run"])
async def test_other_rules_come_first(api: Api, dry_run: bool) -> None:
    await fill(api)
    taken = await create(api, 0, dryRun=dry_run)
    assert [(e["field"], e["code"]) for e in taken["userErrors"]] == [(["input", "number"], "TAKEN")]
    invalid = await create(api, 10, name="n" * 101, dryRun=dry_run)
    assert [(e["field"], e["code"]) for e in invalid["userErrors"]] == [(["input", "name"], "TOO_LONG")]


async def test_an_idempotent_retry_replays_at_the_limit(api: Api) -> None:
    await fill(api, MAX_NUMBERS - 1)
    first = await create(api, 10, idempotencyKey="last-one")
    assert first["userErrors"] == []

    retry = await create(api, 10, idempotencyKey="last-one")

    assert retry == first
    rest_retry = await api.client.post(
        "/v1/phone-numbers",
        json=body(number=nth_number(10)),
        headers={"Authorization": f"Bearer {api.key}", "Idempotency-Key": "last-one"},
    )
    assert (rest_retry.status_code, rest_retry.json()["data"]["id"]) == (201, first["phoneNumber"]["id"])
    # A new key is a new number, and there is no room for it.
    assert (await create(api, 11, idempotencyKey="another"))["userErrors"] == [limit_error()]


async def test_a_refusal_at_the_limit_does_not_use_up_the_key(api: Api) -> None:
    numbers = await fill(api)
    assert (await create(api, 10, idempotencyKey="later"))["userErrors"] == [limit_error()]
    await api.gql(DELETE_PHONE_NUMBER, {"input": {"id": numbers[0]["id"]}})
    assert (await create(api, 10, idempotencyKey="later"))["userErrors"] == []


async def test_numbers_at_the_limit_can_still_change(api: Api) -> None:
    numbers = await fill(api)
    payload = await api.gql(UPDATE_PHONE_NUMBER, {"input": {"id": numbers[0]["id"], "number": nth_number(10)}})
    assert payload["updatePhoneNumber"]["userErrors"] == []


# --- agents -------------------------------------------------------------------------------


async def test_an_agent_beyond_the_limit_is_refused(api: Api, other_key: str) -> None:
    for n in range(MAX_AGENTS):
        await create_agent(api, f"Agent {n}")

    refused = (await api.gql(CREATE_AGENT, {"input": {"name": "One too many"}}))["createAgent"]

    assert refused == {"agent": None, "userErrors": [limit_error(AGENTS_FULL)]}
    assert len(await stored_rows("agents")) == MAX_AGENTS
    await create_agent(api, "Another organization's", key=other_key)


# --- concurrent creates at the limit, on real servers -----------------------------------------


# --- settings ---------------------------------------------------------------------------------


def test_the_limits_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {"SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION": "250", "SWITCHBOARD_MAX_AGENTS_PER_ORGANIZATION": "7"}
    )
    assert (settings.policy.max_phone_numbers, settings.policy.max_agents) == (250, 7)
    defaults = Settings.from_env({}).policy
    assert (defaults.max_phone_numbers, defaults.max_agents) == (10_000, 1_000)


@pytest.mark.parametrize(
    "name", ["SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION", "SWITCHBOARD_MAX_AGENTS_PER_ORGANIZATION"]
)
@pytest.mark.parametrize("value", ["0", "-1", "ten", "10000001", "1.5"])
def test_a_limit_that_is_not_a_whole_number_in_range_stops_start_up(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})

"""Rows per organization: SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION and SWITCHBOARD_MAX_AGENTS_PER_ORGANIZATION.

The tests that need real processes are in tests/system/test_row_limits_processes.py.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate

from resolvers.api_keys import issue_key
from switchboard.db import tortoise_config
from switchboard.settings import Settings, SettingsError
from tests.support.app import Api, api_client, running_app
from tests.support.database import organization_counts, stored_rows
from tests.support.graphql_ops import (
    CREATE_AGENT,
    CREATE_PHONE_NUMBER,
    DELETE_AGENT,
    DELETE_PHONE_NUMBER,
    UPDATE_PHONE_NUMBER,
    twilio,
)
from tests.support.helpers import create_agent, create_number, nth_number
from tests.support.rule_cases import body
from tests.support.secret_sweep import SWEEP

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


# --- the counts the limits are checked against -------------------------------------------------


async def test_the_counts_follow_every_create_and_delete(api: Api, other_key: str) -> None:
    async def counts_match() -> tuple[int, int]:
        """Acme's counts, once every organization's are seen to equal its rows."""
        counted, stored = await organization_counts()
        assert counted == stored
        (acme,) = [o for o in await stored_rows("organizations") if o["name"] == "Acme"]
        return counted[str(acme["id"])]

    agent = await create_agent(api, "Receptionist")
    numbers = [await create_number(api, 0, agentId=agent["id"]), await create_number(api, 1)]
    rest = await api.client.post(
        "/v1/phone-numbers", json=body(number=nth_number(2)), headers={"Authorization": f"Bearer {api.key}"}
    )
    await create_number(api, 0, key=other_key)
    assert rest.status_code == 201
    assert await counts_match() == (3, 1)
    # Refused, replayed and dry-run creates leave the counts as they were.
    assert (await create(api, 10))["userErrors"] == [limit_error()]
    assert [e["code"] for e in (await create(api, 1))["userErrors"]] == ["TAKEN"]
    assert (await create(api, 10, dryRun=True))["userErrors"] == [limit_error()]
    assert await counts_match() == (3, 1)

    await api.gql(DELETE_PHONE_NUMBER, {"input": {"id": numbers[1]["id"]}})
    deleted = await api.client.delete(
        f"/v1/phone-numbers/{rest.json()['data']['id']}", headers={"Authorization": f"Bearer {api.key}"}
    )
    assert deleted.status_code == 204
    await api.gql(DELETE_AGENT, {"input": {"id": agent["id"]}})
    assert await counts_match() == (1, 0)
    assert (await create(api, 10, idempotencyKey="once"))["userErrors"] == []
    assert (await create(api, 10, idempotencyKey="once"))["userErrors"] == []
    assert await counts_match() == (2, 0)


async def test_rows_written_by_any_statement_are_counted(api: Api) -> None:
    """The database keeps the counts: rows inserted and deleted in bulk, outside the API, count too."""
    await create_number(api, 0)
    (organization,) = await stored_rows("organizations")
    db = connections.get("default")
    values = ", ".join(
        f"('{uuid.uuid4()}', (SELECT id FROM organizations), '{nth_number(n)}', 'voximplant', "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        for n in range(100, 104)
    )
    # One statement of four rows: with the one the API made, five, past the limit of three.
    await db.execute_query(
        f"INSERT INTO phone_numbers (id, organization_id, number, provider, created_at, updated_at) VALUES {values}"
    )
    counted, stored = await organization_counts()
    assert counted == stored == {str(organization["id"]): (5, 0)}
    # Over the limit, not only at it: refused until the count is under it again.
    assert (await create(api, 10))["userErrors"] == [limit_error()]
    await db.execute_query(f"DELETE FROM phone_numbers WHERE number IN ('{nth_number(100)}', '{nth_number(101)}')")
    assert (await create(api, 10))["userErrors"] == [limit_error()]
    await db.execute_query(f"DELETE FROM phone_numbers WHERE number = '{nth_number(102)}'")
    assert (await create(api, 10))["userErrors"] == []
    counted, stored = await organization_counts()
    assert counted == stored == {str(organization["id"]): (3, 0)}


async def test_the_migration_counts_the_rows_already_there(settings: Settings, unmigrated_database_url: str) -> None:
    config = tortoise_config(unmigrated_database_url)
    await migrate(config=config, target="models.0006_health")
    db = connections.get("default")
    for organization, numbers, agents in (("Old", 4, 2), ("Other", 1, 0), ("Empty", 0, 0)):
        await db.execute_query(
            f"INSERT INTO organizations (id, name, created_at) VALUES ('{uuid.uuid4()}', '{organization}', CURRENT_TIMESTAMP)"
        )
        owner = f"(SELECT id FROM organizations WHERE name = '{organization}')"
        for n in range(numbers):
            await db.execute_query(
                "INSERT INTO phone_numbers (id, organization_id, number, provider, created_at, updated_at) "
                f"VALUES ('{uuid.uuid4()}', {owner}, '{nth_number(n)}', 'voximplant', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        for n in range(agents):
            await db.execute_query(
                "INSERT INTO agents (id, organization_id, name, created_at, updated_at) "
                f"VALUES ('{uuid.uuid4()}', {owner}, 'Agent {n}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
    await Tortoise.close_connections()

    await migrate(config=config)
    await Tortoise.close_connections()

    migrated = dataclasses.replace(settings, database_url=unmigrated_database_url)
    async with running_app(migrated) as app, api_client(app) as api:
        counted, stored = await organization_counts()
        assert sorted(counted.values()) == sorted(stored.values()) == [(0, 0), (0, 0), (1, 0), (4, 2)]
        assert counted == stored
        # Counted from here on: Old is past the limit of three, and stays refused.
        key = (await issue_key("Old")).key
        SWEEP.add_secret(key)
        assert (await create(api, 10, key=key))["userErrors"] == [limit_error()]
        assert (await create(api, 10))["userErrors"] == []
        counted, stored = await organization_counts()
        assert counted == stored


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

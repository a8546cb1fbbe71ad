"""Versions: PhoneNumber.version, expectedVersion, the migration."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate

from switchboard.app import create_app
from switchboard.db import tortoise_config
from switchboard.settings import Settings
from tests.conftest import Api, stored_rows
from tests.graphql_ops import (
    DELETE_AGENT,
    DELETE_PHONE_NUMBER,
    PHONE_NUMBER,
    UPDATE_PHONE_NUMBER,
    sip_ip_allowlist,
)
from tests.helpers import create_agent, create_number, nth_number

UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def update(api: Api, id: str, **fields: Any) -> dict[str, Any]:
    return (await api.gql(UPDATE_PHONE_NUMBER, {"input": {"id": id, **fields}}))["updatePhoneNumber"]


async def delete(api: Api, id: str, **fields: Any) -> dict[str, Any]:
    return (await api.gql(DELETE_PHONE_NUMBER, {"input": {"id": id, **fields}}))["deletePhoneNumber"]


async def read(api: Api, id: str) -> dict[str, Any] | None:
    return (await api.gql(PHONE_NUMBER, {"id": id}))["phoneNumber"]


async def row_of(id: str) -> dict[str, Any]:
    (row,) = [r for r in await stored_rows("phone_numbers") if str(r["id"]) == id]
    return row


def conflict(id: str, version: int, expected: int) -> dict[str, Any]:
    return {
        "field": ["input", "expectedVersion"],
        "code": "CONFLICT",
        "message": f"Phone number {id} is at version {version}, not {expected}: read it again, then retry",
    }


# --- GraphQL: version -------------------------------------------------------------------


async def test_version_starts_at_1_and_grows_by_one_with_every_change(api: Api) -> None:
    created = await create_number(api, 1)
    assert created["version"] == 1

    changes = [
        {"name": "Front desk"},
        {"provider": {"twilio": {"authToken": "rotated-token-1234"}}},
        {"provider": sip_ip_allowlist()},
        {"metadata": {"a": 1}},
        {},  # an update that changes no field still writes the row
    ]
    for expected, change in enumerate(changes, start=2):
        payload = await update(api, created["id"], **change)
        assert payload["userErrors"] == []
        assert payload["phoneNumber"]["version"] == expected
        assert await read(api, created["id"]) == payload["phoneNumber"]
        assert (await row_of(created["id"]))["version"] == expected


async def test_refused_updates_and_dry_runs_leave_the_version(api: Api) -> None:
    created = await create_number(api, 1)
    refused = await update(api, created["id"], name="n" * 101)
    assert [e["code"] for e in refused["userErrors"]] == ["TOO_LONG"]

    dry = await update(api, created["id"], name="Dry", dryRun=True)
    # Answered as if saved: the version the change would make.
    assert (dry["phoneNumber"]["name"], dry["phoneNumber"]["version"]) == ("Dry", 2)
    assert await read(api, created["id"]) == created
    assert (await row_of(created["id"]))["version"] == 1


async def test_deleting_an_agent_unties_its_numbers_at_their_next_version(api: Api) -> None:
    agent = await create_agent(api)
    tied = await create_number(api, 1, agentId=agent["id"])
    other = await create_number(api, 2)

    await api.gql(DELETE_AGENT, {"input": {"id": agent["id"]}})

    untied = await read(api, tied["id"])
    assert (untied["agentId"], untied["version"]) == (None, 2)
    assert untied["updatedAt"] > tied["updatedAt"]
    assert await read(api, other["id"]) == other


# --- GraphQL: expectedVersion ----------------------------------------------------------------


async def test_expected_version_applies_the_change_only_at_that_version(api: Api) -> None:
    created = await create_number(api, 1)
    first = await update(api, created["id"], name="Alice's edit", expectedVersion=1)
    assert (first["userErrors"], first["phoneNumber"]["version"]) == ([], 2)
    before = await row_of(created["id"])

    # A second client still holding version 1 would undo the first edit: refused.
    stale = await update(api, created["id"], name="Bob's edit", expectedVersion=1)

    assert stale == {"phoneNumber": None, "userErrors": [conflict(created["id"], 2, 1)]}
    assert await row_of(created["id"]) == before
    again = await update(api, created["id"], name="Bob's edit", expectedVersion=2)
    assert (again["phoneNumber"]["name"], again["phoneNumber"]["version"]) == ("Bob's edit", 3)


@pytest.mark.parametrize("expected", [0, -1, 2, 2**31 - 1])
async def test_every_other_expected_version_is_a_conflict(api: Api, expected: int) -> None:
    created = await create_number(api, 1)
    before = await row_of(created["id"])
    payload = await update(api, created["id"], name="x", expectedVersion=expected)
    assert payload == {"phoneNumber": None, "userErrors": [conflict(created["id"], 1, expected)]}
    assert await row_of(created["id"]) == before


async def test_a_conflict_is_answered_before_any_other_rule(api: Api) -> None:
    created = await create_number(api, 1)
    await update(api, created["id"], name="moved on")
    payload = await update(api, created["id"], name="n" * 101, provider=sip_ip_allowlist(ip="nope"), expectedVersion=1)
    assert payload["userErrors"] == [conflict(created["id"], 2, 1)]


async def test_dry_runs_check_the_expected_version_too(api: Api) -> None:
    created = await create_number(api, 1)
    payload = await update(api, created["id"], name="x", expectedVersion=5, dryRun=True)
    assert payload["userErrors"] == [conflict(created["id"], 1, 5)]


async def test_null_expected_version_means_any_version(api: Api) -> None:
    created = await create_number(api, 1)
    await update(api, created["id"], name="one")
    payload = await update(api, created["id"], name="two", expectedVersion=None)
    assert (payload["userErrors"], payload["phoneNumber"]["version"]) == ([], 3)


async def test_an_unknown_number_is_not_found_whatever_the_expected_version(api: Api) -> None:
    payload = await update(api, UNKNOWN, name="x", expectedVersion=1)
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "id"], "NOT_FOUND")]
    deleted = await delete(api, UNKNOWN, expectedVersion=1)
    assert [(e["field"], e["code"]) for e in deleted["userErrors"]] == [(["input", "id"], "NOT_FOUND")]


async def test_delete_with_expected_version(api: Api) -> None:
    created = await create_number(api, 1)
    await update(api, created["id"], name="changed")

    stale = await delete(api, created["id"], expectedVersion=1)
    assert stale == {"deletedId": None, "userErrors": [conflict(created["id"], 2, 1)]}
    assert (await row_of(created["id"]))["name"] == "changed"

    current = await delete(api, created["id"], expectedVersion=2)
    assert current == {"deletedId": created["id"], "userErrors": []}
    assert await stored_rows("phone_numbers") == []


# --- the migration -------------------------------------------------------------------------------


async def test_rows_from_before_versions_get_version_1(settings: Settings, unmigrated_database_url: str) -> None:
    config = tortoise_config(unmigrated_database_url)
    await migrate(config=config, target="models.0002_lifecycle")
    organization_id, phone_id = uuid.uuid4(), uuid.uuid4()
    db = connections.get("default")
    await db.execute_query(
        "INSERT INTO organizations (id, name, created_at) VALUES ($1, 'Old', CURRENT_TIMESTAMP)".replace("$1", "?" if settings.is_sqlite else "$1"),
        [str(organization_id)],
    )
    columns = "id, organization_id, number, provider, created_at, updated_at"
    placeholders = "?, ?, ?, ?" if settings.is_sqlite else "$1, $2, $3, $4"
    await db.execute_query(
        f"INSERT INTO phone_numbers ({columns}) VALUES ({placeholders}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        [str(phone_id), str(organization_id), nth_number(1), "voximplant"],
    )
    await Tortoise.close_connections()

    await migrate(config=config)
    await Tortoise.close_connections()

    async with LifespanManager(create_app(dataclasses.replace(settings, database_url=unmigrated_database_url))):
        (row,) = await connections.get("default").execute_query_dict("SELECT version FROM phone_numbers")
    assert row["version"] == 1

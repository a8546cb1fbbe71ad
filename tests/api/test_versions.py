"""Versions: PhoneNumber.version, expectedVersion over GraphQL, ETag and If-Match over REST, the migration."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate

from switchboard.app import create_app
from switchboard.db import tortoise_config
from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import (
    DELETE_AGENT,
    DELETE_PHONE_NUMBER,
    PHONE_NUMBER,
    UPDATE_PHONE_NUMBER,
    sip_ip_allowlist,
)
from tests.support.helpers import create_agent, create_number, nth_number
from tests.support.rule_cases import body

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


async def test_another_organizations_number_is_not_found_whatever_the_version(api: Api, other_key: str) -> None:
    created = await create_number(api, 1)
    for expected in (1, 2):
        input = {"id": created["id"], "name": "x", "expectedVersion": expected}
        foreign = await api.gql(UPDATE_PHONE_NUMBER, {"input": input}, key=other_key)
        assert [(e["field"], e["code"]) for e in foreign["updatePhoneNumber"]["userErrors"]] == [
            (["input", "id"], "NOT_FOUND")
        ]
        gone = await api.gql(
            DELETE_PHONE_NUMBER, {"input": {"id": created["id"], "expectedVersion": expected}}, key=other_key
        )
        assert [(e["field"], e["code"]) for e in gone["deletePhoneNumber"]["userErrors"]] == [
            (["input", "id"], "NOT_FOUND")
        ]
        for method in ("GET", "PATCH", "DELETE"):
            response = await api.client.request(
                method,
                f"/v1/phone-numbers/{created['id']}",
                json={"name": "x"} if method == "PATCH" else None,
                headers={"Authorization": f"Bearer {other_key}", "If-Match": f'"{expected}"'},
            )
            assert response.status_code == 404 and "etag" not in response.headers
    assert await read(api, created["id"]) == created


async def test_delete_with_expected_version(api: Api) -> None:
    created = await create_number(api, 1)
    await update(api, created["id"], name="changed")

    stale = await delete(api, created["id"], expectedVersion=1)
    assert stale == {"deletedId": None, "userErrors": [conflict(created["id"], 2, 1)]}
    assert (await row_of(created["id"]))["name"] == "changed"

    current = await delete(api, created["id"], expectedVersion=2)
    assert current == {"deletedId": created["id"], "userErrors": []}
    assert await stored_rows("phone_numbers") == []


# --- REST: ETag and If-Match -------------------------------------------------------------------


async def rest(api: Api, method: str, id: str | None = None, **kwargs: Any) -> httpx.Response:
    path = "/v1/phone-numbers" + (f"/{id}" if id else "")
    headers = {"Authorization": f"Bearer {api.key}", **kwargs.pop("headers", {})}
    return await api.client.request(method, path, headers=headers, **kwargs)


async def test_etag_is_the_version_on_every_answer_with_a_number(api: Api) -> None:
    created = await rest(api, "POST", json=body())
    assert (created.status_code, created.headers["etag"]) == (201, '"1"')
    id = created.json()["data"]["id"]
    read_back = await rest(api, "GET", id)
    assert (read_back.status_code, read_back.headers["etag"]) == (200, '"1"')
    assert (await rest(api, "HEAD", id)).headers["etag"] == '"1"'

    patched = await rest(api, "PATCH", id, json={"name": "Front desk"})
    assert (patched.status_code, patched.headers["etag"]) == (200, '"2"')
    assert (await rest(api, "GET", id)).headers["etag"] == '"2"'
    assert (await read(api, id))["version"] == 2


async def test_an_idempotent_retry_answers_the_etag_of_the_number_as_it_is_now(api: Api) -> None:
    first = await rest(api, "POST", json=body(), headers={"Idempotency-Key": "k-1"})
    id = first.json()["data"]["id"]
    await rest(api, "PATCH", id, json={"name": "renamed"})
    retry = await rest(api, "POST", json=body(), headers={"Idempotency-Key": "k-1"})
    assert (retry.status_code, retry.json()["data"]["id"], retry.headers["etag"]) == (201, id, '"2"')


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        pytest.param(['"2"'], 200, id="current"),
        pytest.param(["*"], 200, id="any"),
        pytest.param(['"1", "2"'], 200, id="list-holding-the-current"),
        pytest.param(['"1"', '"2"'], 200, id="two-field-lines"),
        pytest.param(['"1",,"2"'], 200, id="empty-list-element"),
        pytest.param(['"1"'], 412, id="stale"),
        pytest.param(['"1", "3"'], 412, id="list-without-the-current"),
        pytest.param(['W/"2"'], 412, id="weak-never-matches"),
        pytest.param(['"02"'], 412, id="other-spelling"),
        pytest.param(['"v2"'], 412, id="other-opaque-tag"),
        pytest.param(['"2 "'], 400, id="space-inside-a-tag"),
        pytest.param(['"x,2"'], 412, id="comma-inside-a-tag"),
        pytest.param(['"99999999999999999999"'], 412, id="beyond-any-version"),
        pytest.param(["2"], 400, id="unquoted"),
        pytest.param(['"2'], 400, id="unterminated"),
        pytest.param(['w/"2"'], 400, id="lower-case-weak"),
        pytest.param(['W/ "2"'], 400, id="space-after-weak"),
        pytest.param(['"1" "2"'], 400, id="no-comma"),
        pytest.param(['*, "2"'], 400, id="star-in-a-list"),
        pytest.param([""], 400, id="empty"),
        pytest.param([" , "], 400, id="no-tag"),
    ],
)
@pytest.mark.parametrize("method", ["PATCH", "DELETE", "GET"])
async def test_if_match(api: Api, method: str, if_match: list[str], status: int) -> None:
    id = (await rest(api, "POST", json=body())).json()["data"]["id"]
    await rest(api, "PATCH", id, json={"name": "version 2"})
    before = await row_of(id)
    headers = httpx.Headers([("If-Match", value) for value in if_match])

    response = await rest(api, method, id, headers=headers, json={"name": "changed"} if method == "PATCH" else None)

    expected_status = 204 if (method, status) == ("DELETE", 200) else status
    assert response.status_code == expected_status, response.text
    if status == 412:
        assert response.json()["error"] == "Precondition failed"
        assert [d["field"] for d in response.json()["details"]] == ["If-Match"]
        assert "is at version 2" in response.json()["details"][0]["message"]
    if status == 400:
        assert response.json() == {
            "error": "Validation failed",
            "details": [
                {
                    "field": "If-Match",
                    "message": 'If-Match must be * or a comma-separated list of entity tags, such as "3" (an ETag this API sent)',
                }
            ],
        }
    if status != 200 or method == "GET":
        assert await row_of(id) == before
    elif method == "PATCH":
        assert (response.headers["etag"], response.json()["data"]["name"]) == ('"3"', "changed")
    else:
        assert await stored_rows("phone_numbers") == []


async def test_a_stale_if_match_is_answered_before_the_body_is_checked(api: Api) -> None:
    id = (await rest(api, "POST", json=body())).json()["data"]["id"]
    await rest(api, "PATCH", id, json={"name": "moved on"})
    response = await rest(api, "PATCH", id, headers={"If-Match": '"1"'}, json={"name": "n" * 101, "sipIp": "x"})
    assert response.status_code == 412


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("if_match", ['"1"', "nonsense"])
async def test_unknown_numbers_are_404_whatever_if_match_says(api: Api, method: str, if_match: str) -> None:
    response = await rest(
        api, method, UNKNOWN, headers={"If-Match": if_match}, json={"name": "x"} if method == "PATCH" else None
    )
    assert response.status_code == 404


async def test_etag_of_a_graphql_change_and_if_match_across_transports(api: Api) -> None:
    created = await create_number(api, 1)
    await update(api, created["id"], name="over GraphQL")
    assert (await rest(api, "GET", created["id"])).headers["etag"] == '"2"'
    patched = await rest(api, "PATCH", created["id"], headers={"If-Match": '"2"'}, json={"name": "over REST"})
    assert patched.status_code == 200
    assert (await update(api, created["id"], name="late", expectedVersion=2))["userErrors"][0]["code"] == "CONFLICT"


async def test_openapi_documents_etag_and_if_match(api: Api) -> None:
    document = (await api.client.get("/v1/openapi.json")).json()
    item = document["paths"]["/v1/phone-numbers/{id}"]
    for method in ("get", "patch", "delete"):
        assert [p["name"] for p in item[method]["parameters"]] == ["If-Match"]
        assert "412" in item[method]["responses"]
    assert set(item["get"]["responses"]["200"]["headers"]) == {"ETag"}
    assert set(item["patch"]["responses"]["200"]["headers"]) == {"ETag"}
    assert set(document["paths"]["/v1/phone-numbers"]["post"]["responses"]["201"]["headers"]) == {"ETag"}


# --- the migration -------------------------------------------------------------------------------


async def test_rows_from_before_versions_get_version_1(settings: Settings, unmigrated_database_url: str) -> None:
    config = tortoise_config(unmigrated_database_url)
    await migrate(config=config, target="models.0002_lifecycle")
    organization_id, phone_id = str(uuid.uuid4()), str(uuid.uuid4())
    p1, p2, p3, p4 = ("?",) * 4 if settings.is_sqlite else ("$1", "$2", "$3", "$4")
    db = connections.get("default")
    await db.execute_query(
        f"INSERT INTO organizations (id, name, created_at) VALUES ({p1}, 'Old', CURRENT_TIMESTAMP)", [organization_id]
    )
    await db.execute_query(
        "INSERT INTO phone_numbers (id, organization_id, number, provider, created_at, updated_at) "
        f"VALUES ({p1}, {p2}, {p3}, {p4}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        [phone_id, organization_id, nth_number(1), "voximplant"],
    )
    await Tortoise.close_connections()

    await migrate(config=config)
    await Tortoise.close_connections()

    async with LifespanManager(create_app(dataclasses.replace(settings, database_url=unmigrated_database_url))):
        (row,) = await connections.get("default").execute_query_dict("SELECT version FROM phone_numbers")
    assert row["version"] == 1

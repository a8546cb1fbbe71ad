"""Managing API keys over GraphQL and REST: create, list, viewer, revoke, expiry, last use."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models import ApiKey, ApiKeyScope
from resolvers.api_keys import LAST_USED_INTERVAL, Authenticator, CreateApiKeyInput, hash_key, issue_key
from switchboard.settings import Settings
from tests.support.app import Api, api_client, running_app
from tests.support.database import stored_rows
from tests.support.graphql_ops import CREATE_API_KEY, LIST_API_KEYS, REVOKE_API_KEY, VIEWER
from tests.support.secret_sweep import SWEEP

MISSING = "00000000-0000-4000-8000-00000000dead"


def later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def create_key(api: Api, **input: Any) -> dict[str, Any]:
    payload = (await api.gql(CREATE_API_KEY, {"input": {"name": "ci", "scopes": ["READ"], **input}}))["createApiKey"]
    assert payload["userErrors"] == [], payload
    return payload


async def revoke(api: Api, id: str, *, key: str | None = None) -> dict[str, Any]:
    return (await api.gql(REVOKE_API_KEY, {"input": {"id": id}}, key=key))["revokeApiKey"]


async def status_with(api: Api, key: str) -> int:
    return (await api.post("{ __typename }", key=key)).status_code


def fields_and_codes(errors: list[dict[str, Any]]) -> list[tuple[Any, str]]:
    return [(e["field"], e["code"]) for e in errors]


# --- creating ---------------------------------------------------------------------


async def test_create_shows_the_key_once_and_stores_only_its_hash(api: Api) -> None:
    expires_at = later(days=30)
    payload = await create_key(api, name="  Dashboard  ", scopes=["WRITE", "READ", "WRITE"], expiresAt=expires_at)

    key, secret = payload["apiKey"], payload["secret"]
    assert secret.startswith("sb_live_") and len(secret) == len("sb_live_") + 43
    assert key["name"] == "Dashboard"
    assert key["prefix"] == secret[:12] and len(key["prefix"]) == 12
    assert key["scopes"] == ["READ", "WRITE"]
    assert datetime.fromisoformat(key["expiresAt"]) == datetime.fromisoformat(expires_at)
    assert (key["lastUsedAt"], key["revokedAt"]) == (None, None)
    (row,) = [r for r in await stored_rows("api_keys") if str(r["id"]) == key["id"]]
    assert row["key_hash"] == hash_key(secret) and secret not in repr(row)
    # It works at once, within its scope.
    assert await status_with(api, secret) == 200
    listed = (await api.gql(LIST_API_KEYS, {}))["apiKeys"]
    assert secret not in repr(listed) and secret[12:20] not in repr(listed), "the key is shown only once"


async def test_create_over_rest_answers_201_with_the_secret(api: Api) -> None:
    response = await api.client.post(
        "/v1/api-keys",
        json={"name": "deploy", "scopes": ["write"], "expiresAt": None},
        headers={"Authorization": f"Bearer {api.key}"},
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert set(data) == {
        "id",
        "name",
        "prefix",
        "scopes",
        "createdAt",
        "expiresAt",
        "lastUsedAt",
        "revokedAt",
        "secret",
    }
    assert (data["name"], data["scopes"], data["expiresAt"]) == ("deploy", ["write"], None)
    assert data["prefix"] == data["secret"][:12]
    created = await api.client.post(
        "/v1/phone-numbers",
        json={"number": "+14155550123", "provider": "voximplant"},
        headers={"Authorization": f"Bearer {data['secret']}"},
    )
    assert created.status_code == 201


# One table, through both transports: GraphQL input, REST body, the field and code expected.
INVALID = [
    pytest.param({"name": ""}, [("name", "BLANK", "Key name can't be blank")], id="empty-name"),
    pytest.param({"name": "   "}, [("name", "BLANK", "Key name can't be blank")], id="blank-name"),
    pytest.param({"name": "a" * 101}, [("name", "TOO_LONG", "Key name is too long (at most 100")], id="name-of-101"),
    pytest.param(
        {"name": "a\x00b"}, [("name", "INVALID", "Key name can't contain control")], id="name-with-control-character"
    ),
    pytest.param({"scopes": []}, [("scopes", "BLANK", "Scopes can't be empty")], id="no-scopes"),
    pytest.param(
        {"expiresAt": "2020-01-01T00:00:00Z"},
        [("expiresAt", "OUT_OF_RANGE", "Expiry must be in the future")],
        id="expired-already",
    ),
    pytest.param(
        {"expiresAt": "past-second"}, [("expiresAt", "OUT_OF_RANGE", "Expiry must be in the future")], id="a-second-ago"
    ),
    pytest.param(
        {"expiresAt": "too-far"},
        [("expiresAt", "OUT_OF_RANGE", "Expiry can be at most 366 days ahead")],
        id="367-days-ahead",
    ),
    pytest.param(
        {"expiresAt": "2099-01-01T00:00:00"},
        [("expiresAt", "INVALID", "Expiry must include a UTC offset")],
        id="no-utc-offset",
    ),
    pytest.param(
        {"name": "", "scopes": [], "expiresAt": "2020-01-01T00:00:00+00:00"},
        [("name", "BLANK", "Key name"), ("scopes", "BLANK", "Scopes"), ("expiresAt", "OUT_OF_RANGE", "Expiry")],
        id="every-broken-rule-at-once",
    ),
]


def resolved(changes: dict[str, Any]) -> dict[str, Any]:
    body = {"name": "ci", "scopes": ["read"], **changes}
    if body.get("expiresAt") == "past-second":
        body["expiresAt"] = later(seconds=-1)
    elif body.get("expiresAt") == "too-far":
        body["expiresAt"] = later(days=367)
    return body


@pytest.mark.parametrize(("changes", "expected"), INVALID)
async def test_create_rules_over_graphql(
    api: Api, changes: dict[str, Any], expected: list[tuple[str, str, str]]
) -> None:
    before = await stored_rows("api_keys")
    body = resolved(changes)
    input = {**body, "scopes": [s.upper() for s in body["scopes"]]}

    payload = (await api.gql(CREATE_API_KEY, {"input": input}))["createApiKey"]

    assert (payload["apiKey"], payload["secret"]) == (None, None)
    assert fields_and_codes(payload["userErrors"]) == [(["input", field], code) for field, code, _ in expected]
    assert [e["message"][: len(start)] for e, (_, _, start) in zip(payload["userErrors"], expected, strict=True)] == [
        m for _, _, m in expected
    ]
    assert await stored_rows("api_keys") == before


@pytest.mark.parametrize(("changes", "expected"), INVALID)
async def test_create_rules_over_rest(api: Api, changes: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    before = await stored_rows("api_keys")

    response = await api.client.post(
        "/v1/api-keys", json=resolved(changes), headers={"Authorization": f"Bearer {api.key}"}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "Validation failed"
    details = response.json()["details"]
    assert [d["field"] for d in details] == [field for field, _, _ in expected]
    assert [d["message"][: len(start)] for d, (_, _, start) in zip(details, expected, strict=True)] == [
        m for _, _, m in expected
    ]
    assert await stored_rows("api_keys") == before


async def test_a_year_ahead_and_a_trimmed_100_character_name_are_accepted(api: Api) -> None:
    payload = await create_key(api, name=" " + "a" * 100 + " ", expiresAt=later(days=366, seconds=-60))
    assert payload["apiKey"]["name"] == "a" * 100


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"name": "ci", "scopes": ["read"], "owner": "me"}, "owner", id="unknown-field"),
        pytest.param({"name": 5, "scopes": ["read"]}, "name", id="name-not-a-string"),
        pytest.param({"name": "ci", "scopes": "read"}, "scopes", id="scopes-not-an-array"),
        pytest.param({"name": "ci", "scopes": ["superuser"]}, "scopes", id="unknown-scope"),
        pytest.param(
            {"name": "ci", "scopes": ["read"], "expiresAt": "next tuesday"}, "expiresAt", id="not-a-date-time"
        ),
        pytest.param(
            {"name": "ci", "scopes": ["read"], "expiresAt": 1893456000}, "expiresAt", id="a-number-for-a-date"
        ),
    ],
)
async def test_rest_bodies_of_the_wrong_shape_are_400(api: Api, body: dict[str, Any], field: str) -> None:
    response = await api.client.post("/v1/api-keys", json=body, headers={"Authorization": f"Bearer {api.key}"})
    assert response.status_code == 400
    assert [d["field"] for d in response.json()["details"]] == [field]
    assert len(await stored_rows("api_keys")) == 1


# --- listing and the viewer ---------------------------------------------------------


async def test_list_is_newest_first_and_pages_with_cursors(api: Api) -> None:
    made = [(await create_key(api, name=f"key {i}"))["apiKey"]["id"] for i in range(4)]
    revoked = (await revoke(api, made[1]))["apiKey"]

    first = (await api.gql(LIST_API_KEYS, {"first": 3}))["apiKeys"]
    rest = (await api.gql(LIST_API_KEYS, {"first": 3, "after": first["pageInfo"]["endCursor"]}))["apiKeys"]

    ids = [e["node"]["id"] for e in first["edges"] + rest["edges"]]
    assert ids[:4] == made[::-1] and len(ids) == 5, "the fixture's own key is the oldest"
    assert (first["totalCount"], first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (5, True, False)
    assert next(e["node"] for e in first["edges"] if e["node"]["id"] == made[1])["revokedAt"] == revoked["revokedAt"]


async def test_list_over_rest_pages_by_offset(api: Api) -> None:
    for i in range(3):
        await create_key(api, name=f"key {i}")
    headers = {"Authorization": f"Bearer {api.key}"}
    page = (await api.client.get("/v1/api-keys", params={"limit": 2, "offset": 1}, headers=headers)).json()
    assert page["pagination"] == {"total": 4, "limit": 2, "offset": 1}
    assert [k["name"] for k in page["data"]] == ["key 1", "key 0"]
    bad = await api.client.get("/v1/api-keys", params={"limit": 0, "sort": "name"}, headers=headers)
    assert bad.status_code == 400 and {d["field"] for d in bad.json()["details"]} == {"limit", "sort"}


async def test_viewer_is_the_calling_key_and_its_organization(api: Api) -> None:
    reader = (await create_key(api, name="dashboard"))["secret"]
    viewer = (await api.gql(VIEWER, key=reader))["viewer"]
    assert (viewer["apiKey"]["name"], viewer["apiKey"]["scopes"], viewer["organization"]["name"]) == (
        "dashboard",
        ["READ"],
        "Acme",
    )
    assert viewer["apiKey"]["prefix"] == reader[:12]


# --- revoking -----------------------------------------------------------------------


async def test_a_revoked_key_is_refused_at_once_even_while_cached(api: Api) -> None:
    created = await create_key(api, scopes=["WRITE"])
    assert await status_with(api, created["secret"]) == 200  # now cached, for 30 s by default

    payload = await revoke(api, created["apiKey"]["id"])

    assert payload["userErrors"] == [] and payload["apiKey"]["revokedAt"] is not None
    assert await status_with(api, created["secret"]) == 401
    rest = await api.client.get("/v1/phone-numbers", headers={"Authorization": f"Bearer {created['secret']}"})
    assert rest.status_code == 401


@pytest.mark.parametrize("id", [MISSING, "not-a-uuid", ""])
async def test_revoking_an_unknown_id_is_not_found(api: Api, id: str) -> None:
    payload = await revoke(api, id)
    assert payload["apiKey"] is None
    assert fields_and_codes(payload["userErrors"]) == [(["input", "id"], "NOT_FOUND")]


async def test_revoking_twice_is_already_revoked_and_keeps_the_first_time(api: Api) -> None:
    created = await create_key(api)
    first = await revoke(api, created["apiKey"]["id"])
    second = await revoke(api, created["apiKey"]["id"])
    assert fields_and_codes(second["userErrors"]) == [(["input", "id"], "ALREADY_REVOKED")]
    listed = (await api.gql(LIST_API_KEYS, {}))["apiKeys"]["edges"]
    assert [e["node"]["revokedAt"] for e in listed if e["node"]["id"] == created["apiKey"]["id"]] == [
        first["apiKey"]["revokedAt"]
    ]


async def own_id(api: Api, key: str | None = None) -> str:
    return (await api.gql(VIEWER, key=key))["viewer"]["apiKey"]["id"]


async def test_the_last_active_admin_key_cannot_be_revoked_over_the_api(api: Api) -> None:
    me = await own_id(api)
    # An expired ADMIN key and a WRITE key do not keep the organization manageable.
    await issue_key(
        "Acme", CreateApiKeyInput("soon gone", [ApiKeyScope.ADMIN], datetime.now(UTC) + timedelta(seconds=1))
    )
    await create_key(api, scopes=["WRITE"])
    await ApiKey.filter(name="soon gone").update(expires_at=datetime.now(UTC) - timedelta(seconds=1))

    payload = await revoke(api, me)

    assert fields_and_codes(payload["userErrors"]) == [(["input", "id"], "LAST_ADMIN_KEY")]
    assert await status_with(api, api.key) == 200
    rest = await api.client.delete(f"/v1/api-keys/{me}", headers={"Authorization": f"Bearer {api.key}"})
    assert (rest.status_code, rest.json()["error"]) == (409, "Last active ADMIN key")


async def test_a_key_may_revoke_itself_when_another_admin_key_remains(api: Api) -> None:
    other_admin = (await create_key(api, scopes=["ADMIN"]))["secret"]
    me = await own_id(api)

    payload = await revoke(api, me)

    assert payload["userErrors"] == [] and payload["apiKey"]["id"] == me, "the revoking request gets its answer"
    assert await status_with(api, api.key) == 401
    assert await status_with(api, other_admin) == 200


async def test_revoke_over_rest(api: Api) -> None:
    created = await create_key(api)
    headers = {"Authorization": f"Bearer {api.key}"}
    ok = await api.client.delete(f"/v1/api-keys/{created['apiKey']['id']}", headers=headers)
    assert ok.status_code == 200 and ok.json()["data"]["revokedAt"] is not None
    again = await api.client.delete(f"/v1/api-keys/{created['apiKey']['id']}", headers=headers)
    assert (again.status_code, again.json()["error"]) == (409, "API key already revoked")
    assert (await api.client.delete(f"/v1/api-keys/{MISSING}", headers=headers)).status_code == 404
    assert (await api.client.delete("/v1/api-keys/nope", headers=headers)).status_code == 404


# --- expiry -------------------------------------------------------------------------


async def app_client(settings: Settings, **changes: Any) -> AsyncIterator[Api]:
    async with running_app(dataclasses.replace(settings, **changes)) as application, api_client(application) as api:
        yield api


async def test_a_key_is_refused_once_it_expires_even_while_cached(settings: Settings) -> None:
    # tests/api/test_key_cache.py pins the exact instant on a hand-moved clock; this is the same over HTTP.
    async for api in app_client(settings, api_key_cache_seconds=300):
        expires_at = datetime.now(UTC) + timedelta(seconds=0.8)
        key = (await issue_key("Acme", CreateApiKeyInput("short-lived", [ApiKeyScope.READ], expires_at))).key
        SWEEP.add_secret(key)
        assert await status_with(api, key) == 200
        await asyncio.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 0.05)
        assert await status_with(api, key) == 401


async def test_an_expired_key_is_refused(api: Api) -> None:
    key = (
        await issue_key("Acme", CreateApiKeyInput("old", [ApiKeyScope.ADMIN], datetime.now(UTC) + timedelta(days=1)))
    ).key
    SWEEP.add_secret(key)
    await ApiKey.filter(name="old").update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert await status_with(api, key) == 401
    response = await api.client.get("/v1/api-keys", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401


# --- last use -------------------------------------------------------------------------


async def last_used(key: str) -> datetime | None:
    (row,) = await ApiKey.filter(key_hash=hash_key(key)).values("last_used_at")
    return row["last_used_at"]


async def eventually_last_used(key: str) -> datetime:
    for _ in range(200):
        if (value := await last_used(key)) is not None:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError("lastUsedAt was never written")


async def test_last_use_is_written_once_for_many_requests(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        for _ in range(20):
            assert await status_with(api, api.key) == 200
        first = await eventually_last_used(api.key)
        for _ in range(20):
            assert await status_with(api, api.key) == 200
        await asyncio.sleep(0.2)  # room for any write that should not happen
    updates = [
        r
        for r in caplog.records
        if r.getMessage().lstrip().upper().startswith("UPDATE") and "api_keys" in r.getMessage()
    ]
    assert len(updates) == 1, [r.getMessage() for r in updates]
    assert await last_used(api.key) == first
    viewer = (await api.gql(VIEWER))["viewer"]["apiKey"]
    assert datetime.fromisoformat(viewer["lastUsedAt"]) == first


async def test_another_process_in_the_same_minute_does_not_write_it_again(api: Api) -> None:
    await status_with(api, api.key)
    first = await eventually_last_used(api.key)

    # Another worker: its own memory of uses, the same database.
    other = Authenticator(300)
    assert await other.authenticate(api.key) is not None
    await other.close()
    assert await last_used(api.key) == first

    a_minute_later = Authenticator(300, now=lambda: datetime.now(UTC) + LAST_USED_INTERVAL)
    assert await a_minute_later.authenticate(api.key) is not None
    await a_minute_later.close()
    assert await last_used(api.key) > first


async def test_rest_never_shows_or_revokes_another_organizations_keys(api: Api, other_key: str) -> None:
    mine = (await api.gql(VIEWER))["viewer"]["apiKey"]["id"]
    theirs = {"Authorization": f"Bearer {other_key}"}
    listed = (await api.client.get("/v1/api-keys", headers=theirs)).json()
    assert mine not in [k["id"] for k in listed["data"]] and listed["pagination"]["total"] == 1
    refused = await api.client.delete(f"/v1/api-keys/{mine}", headers=theirs)
    missing = await api.client.delete(f"/v1/api-keys/{MISSING}", headers=theirs)
    assert (
        (refused.status_code, refused.json())
        == (missing.status_code, missing.json())
        == (404, {"error": "Not found", "details": []})
    )
    assert await status_with(api, api.key) == 200


async def test_the_request_log_names_the_acting_key(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    me = (await api.gql(VIEWER))["viewer"]["apiKey"]["id"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="switchboard.request"):
        await api.post("{ __typename }")
        await api.client.get("/v1/api-keys", headers={"Authorization": f"Bearer {api.key}"})
        await api.post("{ __typename }", key="sb_live_unknown")
    assert [getattr(r, "api_key_id", "absent") for r in caplog.records if r.name == "switchboard.request"] == [
        me,
        me,
        None,
    ]


async def test_two_admin_keys_revoking_each_other_at_once_leave_one(app: Any) -> None:
    """Each request alone is allowed; together they would leave the organization without an ADMIN key."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
        for round in range(12):
            first, second = [await issue_key(f"Race {round}") for _ in range(2)]
            SWEEP.add_secret(first.key)
            SWEEP.add_secret(second.key)

            async def revoke_with(key: str, id: str) -> str:
                response = await client.post(
                    "/graphql",
                    json={"query": REVOKE_API_KEY, "variables": {"input": {"id": id}}},
                    headers={"Authorization": f"Bearer {key}"},
                )
                if response.status_code == 401:
                    return "refused: its key was revoked first"
                return ",".join(e["code"] for e in response.json()["data"]["revokeApiKey"]["userErrors"]) or "revoked"

            outcomes = await asyncio.gather(
                revoke_with(first.key, str(second.api_key.id)), revoke_with(second.key, str(first.api_key.id))
            )
            assert sorted(outcomes)[1] == "revoked", f"round {round}: {outcomes}"
            assert sorted(outcomes)[0] in {"LAST_ADMIN_KEY", "refused: its key was revoked first"}, (
                f"round {round}: {outcomes}"
            )
            remaining = await ApiKey.filter(id__in=[first.api_key.id, second.api_key.id], revoked_at=None).count()
            assert remaining == 1, f"round {round}: {outcomes}"

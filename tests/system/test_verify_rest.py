"""The REST side of provider checks: POST /v1/phone-numbers/{id}/verify, `health` on every number, and
`"verify": true` on POST and PATCH, on both databases, against Kamailio on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from resolvers.api_keys import issue_key
from switchboard.rest.openapi import openapi_document
from switchboard.settings import Settings
from tests.support.app import Api, api_client, running_app
from tests.support.database import stored_rows
from tests.support.kamailio import Kamailio
from tests.support.secret_sweep import SWEEP
from tests.support.verify import (
    NUMBER,
    PASSWORD,
    USERS,
    WRONG_PASSWORD,
    Start,
    counts,
    local_settings,
    twilio,
    without_secrets,
)

pytest_plugins = ("tests.support.provider_fixtures",)
__all__ = ["local_settings", "twilio"]  # fixtures, from tests/support/verify.py

MISSING = "00000000-0000-4000-8000-00000000dead"


@pytest.fixture
async def local(local_settings: Settings) -> AsyncIterator[Api]:
    async with running_app(local_settings) as app, api_client(app) as api:
        yield api


async def call(api: Api, method: str, path: str, body: Any = None, **headers: str) -> httpx.Response:
    return await api.client.request(method, path, json=body, headers={"Authorization": f"Bearer {api.key}", **headers})


def registration(registrar: Kamailio, **overrides: Any) -> dict[str, Any]:
    return {
        "number": NUMBER,
        "provider": "sip",
        "sipMode": "registration",
        "sipUsername": "alice",
        "sipPassword": PASSWORD,
        "sipProxy": "127.0.0.1",
        "sipPort": registrar.port,
        **overrides,
    }


async def test_verify_answers_the_health_and_numbers_carry_it(local: Api, kamailio: Start) -> None:
    registrar = kamailio(users=USERS)
    created = await call(local, "POST", "/v1/phone-numbers", registration(registrar))
    assert created.status_code == 201 and created.json()["data"]["health"] is None
    id = created.json()["data"]["id"]

    response = await call(local, "POST", f"/v1/phone-numbers/{id}/verify")

    assert response.status_code == 200, response.text
    health = response.json()["data"]
    assert set(health) == {"state", "detail", "sipStatusCode", "latencyMs", "checkedAt", "since"}
    assert (health["state"], health["sipStatusCode"]) == ("ok", 200)
    assert health["checkedAt"].endswith("Z") and health["checkedAt"] == health["since"]
    without_secrets(response.text)
    read = await call(local, "GET", f"/v1/phone-numbers/{id}")
    assert read.json()["data"]["health"] == health and read.headers["etag"] == '"1"'
    listed = await call(local, "GET", "/v1/phone-numbers")
    assert [n["health"] for n in listed.json()["data"]] == [health]


async def test_verify_of_an_unknown_or_foreign_number_is_404(local: Api) -> None:
    other_key = (await issue_key("Globex")).key
    SWEEP.add_secret(other_key)
    created = await call(local, "POST", "/v1/phone-numbers", {"number": NUMBER, "provider": "jambonz"})
    id = created.json()["data"]["id"]
    for path in (f"/v1/phone-numbers/{MISSING}/verify", "/v1/phone-numbers/nope/verify"):
        response = await call(local, "POST", path)
        assert (response.status_code, response.json()) == (404, {"error": "Not found", "details": []})
    foreign = await local.client.post(
        f"/v1/phone-numbers/{id}/verify", headers={"Authorization": f"Bearer {other_key}"}
    )
    assert (foreign.status_code, foreign.json()) == (404, {"error": "Not found", "details": []})
    assert await stored_rows("phone_number_health") == []


async def test_post_with_verify_and_a_wrong_password_saves_nothing(local: Api, kamailio: Start) -> None:
    registrar = kamailio(users=USERS)
    before = await counts()

    response = await call(
        local,
        "POST",
        "/v1/phone-numbers",
        registration(registrar, sipPassword=WRONG_PASSWORD, verify=True),
        **{"Idempotency-Key": "r-1"},
    )

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "Verification failed"
    (detail,) = body["details"]
    assert detail["field"] == "verify" and detail["message"].startswith("The provider check failed (AUTH_FAILED)")
    without_secrets(response.text)
    assert await counts() == before, "no number, no idempotency key, no health"

    again = await call(
        local, "POST", "/v1/phone-numbers", registration(registrar, verify=True), **{"Idempotency-Key": "r-1"}
    )
    assert again.status_code == 201 and again.json()["data"]["health"]["state"] == "ok"


async def test_patch_with_verify_checks_the_new_configuration(local: Api, kamailio: Start) -> None:
    registrar = kamailio(users=USERS)
    id = (await call(local, "POST", "/v1/phone-numbers", registration(registrar, verify=True))).json()["data"]["id"]
    before = await counts()

    refused = await call(local, "PATCH", f"/v1/phone-numbers/{id}", {"sipPassword": WRONG_PASSWORD, "verify": True})
    assert refused.status_code == 400 and [d["field"] for d in refused.json()["details"]] == ["verify"]
    assert await counts() == before
    assert (await call(local, "GET", f"/v1/phone-numbers/{id}")).headers["etag"] == '"1"'

    changed = await call(local, "PATCH", f"/v1/phone-numbers/{id}", {"sipAuthUser": "alice", "verify": True})
    assert changed.status_code == 200 and changed.json()["data"]["health"]["state"] == "ok"
    cleared = await call(local, "PATCH", f"/v1/phone-numbers/{id}", {"sipAuthUser": None})
    assert cleared.status_code == 200 and cleared.json()["data"]["health"] is None, (
        "health describes the current configuration"
    )


@pytest.mark.parametrize("value", ["true", 1, None])
async def test_verify_must_be_a_boolean(local: Api, value: Any) -> None:
    response = await call(
        local, "POST", "/v1/phone-numbers", {"number": NUMBER, "provider": "jambonz", "verify": value}
    )
    assert response.status_code == 400
    message = "verify can't be null" if value is None else "verify must be a boolean"
    assert response.json()["details"] == [{"field": "verify", "message": message}]


def test_openapi_documents_verify_and_health() -> None:
    document = openapi_document()
    operation = document["paths"]["/v1/phone-numbers/{id}/verify"]["post"]
    assert operation["operationId"] == "verifyPhoneNumber"
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["data"] == {
        "$ref": "#/components/schemas/PhoneNumberHealth"
    }
    schemas = document["components"]["schemas"]
    assert "health" in schemas["PhoneNumber"]["required"]
    assert schemas["PhoneNumberHealth"]["properties"]["state"]["enum"] == [
        "ok",
        "auth_failed",
        "rejected",
        "unreachable",
        "unsupported",
    ]
    assert schemas["PhoneNumberCreate"]["properties"]["verify"]["type"] == "boolean"
    assert "verify" in document["paths"]["/v1/phone-numbers"]["post"]["responses"]["400"]["description"]

"""API keys: required on every operation, checked before anything runs."""

from __future__ import annotations

import pytest

from tests.conftest import Api, stored_rows
from tests.graphql_ops import CREATE_PHONE_NUMBER, twilio

CREATE = {"input": {"number": "+14155550123", "provider": twilio()}}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        pytest.param({}, "Missing API key: send 'Authorization: Bearer <your API key>'", id="missing"),
        pytest.param({"Authorization": "Bearer "}, "Missing API key: send 'Authorization: Bearer <your API key>'", id="empty"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, "Missing API key: send 'Authorization: Bearer <your API key>'", id="not-bearer"),
        pytest.param({"Authorization": "Bearer sb_live_" + "x" * 43}, "Invalid API key", id="unknown"),
        pytest.param({"Authorization": "Bearer not-even-a-key"}, "Invalid API key", id="malformed"),
    ],
)
async def test_unauthenticated_requests_run_nothing(api: Api, headers: dict, message: str) -> None:
    response = await api.client.post("/graphql", json={"query": CREATE_PHONE_NUMBER, "variables": CREATE}, headers=headers)

    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await stored_rows("phone_numbers") == []


async def test_a_key_of_a_revoked_organization_no_longer_works(api: Api) -> None:
    # The key is only as good as its row: deleting it locks the caller out.
    from models import ApiKey

    assert (await api.post("{ __typename }")).status_code == 200
    await ApiKey.all().delete()
    assert (await api.post("{ __typename }")).status_code == 401


async def test_get_queries_need_a_key_too(api: Api) -> None:
    response = await api.client.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 401
    ok = await api.client.get("/graphql", params={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {api.key}"})
    assert ok.json() == {"data": {"__typename": "Query"}}


async def test_graphiql_page_loads_without_a_key(api: Api) -> None:
    response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_keys_are_stored_only_as_hashes(api: Api) -> None:
    (row,) = [r for r in await stored_rows("api_keys")]
    assert api.key not in str(row.values())
    assert row["display_prefix"] == api.key[:12]
    assert api.key.startswith("sb_live_") and len(api.key) >= len("sb_live_") + 43


async def test_request_id_is_echoed_or_made(api: Api) -> None:
    given = await api.client.post("/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await api.client.post("/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "bad id\n"})
    assert made.headers["x-request-id"] != "bad id\n" and len(made.headers["x-request-id"]) == 32

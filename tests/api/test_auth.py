"""API keys: required on every operation, checked before anything runs."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from models import ApiKey
from resolvers.api_keys import issue_key
from switchboard.settings import Settings
from tests.support.app import Api, running_app
from tests.support.database import stored_rows
from tests.support.graphql_ops import CREATE_PHONE_NUMBER, twilio

CREATE = {"input": {"number": "+14155550123", "provider": twilio()}}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        pytest.param({}, "Missing API key: send 'Authorization: Bearer <your API key>'", id="missing"),
        pytest.param(
            {"Authorization": "Bearer "}, "Missing API key: send 'Authorization: Bearer <your API key>'", id="empty"
        ),
        pytest.param(
            {"Authorization": "Basic dXNlcjpwYXNz"},
            "Missing API key: send 'Authorization: Bearer <your API key>'",
            id="not-bearer",
        ),
        pytest.param({"Authorization": "Bearer sb_live_" + "x" * 43}, "Invalid API key", id="unknown"),
        pytest.param({"Authorization": "Bearer not-even-a-key"}, "Invalid API key", id="malformed"),
    ],
)
async def test_unauthenticated_requests_run_nothing(api: Api, headers: dict, message: str) -> None:
    response = await api.client.post(
        "/graphql", json={"query": CREATE_PHONE_NUMBER, "variables": CREATE}, headers=headers
    )

    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await stored_rows("phone_numbers") == []


async def client_for(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(dataclasses.replace(settings, **changes)) as application:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
            yield client


async def typename(client: httpx.AsyncClient, key: str) -> int:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {key}"}
    )
    return response.status_code


async def test_a_deleted_key_stops_working_at_once_without_the_cache(settings: Settings) -> None:
    async for client in client_for(settings, api_key_cache_seconds=0):
        key = (await issue_key("Acme")).key
        assert await typename(client, key) == 200
        await ApiKey.all().delete()
        assert await typename(client, key) == 401


async def test_a_deleted_key_works_at_most_the_cache_time(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    async for client in client_for(settings, api_key_cache_seconds=0.5):
        key = (await issue_key("Acme")).key
        assert await typename(client, key) == 200
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            assert await typename(client, key) == 200
        assert not [r for r in caplog.records if "api_keys" in r.getMessage()], "a remembered key needs no lookup"
        await ApiKey.all().delete()
        assert await typename(client, key) == 200
        await asyncio.sleep(0.6)
        assert await typename(client, key) == 401


async def test_unknown_keys_are_not_remembered(settings: Settings) -> None:
    async for client in client_for(settings, api_key_cache_seconds=60):
        assert await typename(client, "sb_live_" + "x" * 43) == 401
        key = (await issue_key("Acme")).key
        assert await typename(client, key) == 200


async def test_get_queries_need_a_key_too(api: Api) -> None:
    response = await api.client.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 401
    ok = await api.client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {api.key}"}
    )
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

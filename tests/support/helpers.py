"""Small helpers for building data through the API, in-process or against a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.support.app import Api
from tests.support.graphql_ops import CREATE_AGENT, CREATE_PHONE_NUMBER, twilio
from tests.support.secret_sweep import SWEEP
from tests.support.servers import Server

# Valid numbers of one block, for tests that need many distinct ones.
def nth_number(n: int) -> str:
    return f"+1415555{n:04d}"


async def create_number(api: Api, n: int = 0, *, key: str | None = None, **fields: Any) -> dict[str, Any]:
    input = {"number": nth_number(n), "provider": twilio(), **fields}
    payload = (await api.gql(CREATE_PHONE_NUMBER, {"input": input}, key=key))["createPhoneNumber"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["phoneNumber"]


async def create_agent(api: Api, name: str = "Receptionist", *, key: str | None = None) -> dict[str, Any]:
    payload = (await api.gql(CREATE_AGENT, {"input": {"name": name}}, key=key))["createAgent"]
    assert payload["userErrors"] == []
    return payload["agent"]


@asynccontextmanager
async def client_of(server: Server, key: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose every request opens its own connection, so a server's workers share them."""
    hooks = {"request": [SWEEP.on_request], "response": [SWEEP.on_response]}
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30, limits=limits, event_hooks=hooks
    ) as client:
        yield client


async def gql(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """`data` of an operation that must not fail at the GraphQL level (no 500, no top-level error)."""
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]

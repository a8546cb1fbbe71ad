"""Small helpers for building data through the API, in-process or against a real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: the connection failed, nothing was acknowledged
    body: dict[str, Any] | None
    after_signal: bool = False

    @property
    def kind(self) -> str:
        if self.status is None:
            return "no response"
        if self.status != 200 or self.body is None or "errors" in self.body:
            return f"HTTP {self.status}"
        payload = self.body["data"]["createPhoneNumber"]
        if payload["phoneNumber"] is not None:
            return "created"
        return ",".join(e["code"] for e in payload["userErrors"])

    @property
    def created_id(self) -> str | None:
        return self.body["data"]["createPhoneNumber"]["phoneNumber"]["id"] if self.kind == "created" else None


async def burst(
    server: Server, key: str, inputs: list[dict[str, Any]], *, after: int = 0, then: Callable[[], None] | None = None
) -> list[Outcome]:
    """Send every create at once; call `then` once `after` responses have arrived."""
    answered = 0
    signalled = False

    async def create(client: httpx.AsyncClient, input: dict[str, Any]) -> Outcome:
        nonlocal answered, signalled
        try:
            response = await client.post(
                "/graphql",
                json={"query": CREATE_PHONE_NUMBER, "variables": {"input": input}},
                headers={"Authorization": f"Bearer {key}"},
            )
        except httpx.TransportError:
            return Outcome(None, None, signalled)
        outcome = Outcome(response.status_code, response.json(), signalled)
        answered += 1
        if then is not None and answered == after:
            then()
            signalled = True
        return outcome

    limits = httpx.Limits(max_connections=len(inputs), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
        return await asyncio.gather(*(create(client, input) for input in inputs))

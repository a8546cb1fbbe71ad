"""A graphql-transport-ws client for the tests, over httpx-ws: against the ASGI app or a real server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from tests.support.graphql_ops import HEALTH_CHANGED
from tests.support.secret_sweep import SWEEP

PROTOCOL = "graphql-transport-ws"


class Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed with {code}: {reason}")
        self.code, self.reason = code, reason


class Subscriber:
    def __init__(self, ws: AsyncWebSocketSession) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(message))

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        """The next message; Closed when the server closes; TimeoutError when nothing comes."""
        try:
            text = await self.ws.receive_text(timeout=timeout)
        except WebSocketDisconnect as closed:
            raise Closed(closed.code, closed.reason or "") from None
        message = json.loads(text)
        SWEEP.add_text("subscription message", "websocket", text)
        return message

    async def init(self, payload: Any) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, operation_id: str, number_id: str | None = None, query: str = HEALTH_CHANGED) -> None:
        variables = {} if number_id is None else {"id": number_id}
        await self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})

    async def next_event(self, timeout: float = 10) -> tuple[str, dict[str, Any]]:
        """(operation id, event) of the next `next` message; anything else fails the test."""
        message = await self.receive(timeout)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["id"], message["payload"]["data"]["phoneNumberHealthChanged"]

    async def nothing_within(self, seconds: float) -> None:
        try:
            message = await self.receive(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected nothing, got {message}")


@asynccontextmanager
async def connected(
    client: httpx.AsyncClient, url: str = "/graphql", protocol: str = PROTOCOL
) -> AsyncIterator[Subscriber]:
    async with aconnect_ws(url, client, subprotocols=[protocol], keepalive_ping_interval_seconds=None) as ws:
        yield Subscriber(ws)


@asynccontextmanager
async def asgi_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=ASGIWebSocketTransport(app), base_url="http://switchboard.test") as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    SWEEP.add_secret(key)
    return {"Authorization": f"Bearer {key}"}

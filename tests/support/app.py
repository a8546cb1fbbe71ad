"""The app in-process: started on a test's settings, spoken to over httpx's ASGI transport.

conftest.py's `app`, `api` and `other_key` fixtures are built from these; a
test that needs a second app, or one on changed settings, uses them directly.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from tortoise.backends.base.executor import EXECUTOR_CACHE

from resolvers.api_keys import issue_key
from switchboard.app import create_app
from switchboard.settings import MAX_RATE_LIMIT_BURST, Settings
from tests.support.database import APP_TABLES, stored_rows
from tests.support.secret_sweep import SWEEP

# How SecretBox seals a value: version, key id, base64url of nonce and ciphertext.
SEALED_TOKEN = re.compile(r"v1:[0-9a-f]{8}:[A-Za-z0-9_-]{16,}")


def unthrottled(settings: Settings) -> Settings:
    """For tests that send thousands of requests in seconds: the key's rate limit is lifted; requests are still charged."""
    return dataclasses.replace(settings, rate_limit=float(MAX_RATE_LIMIT_BURST), rate_limit_burst=MAX_RATE_LIMIT_BURST)


class Api:
    """An HTTP client for the app, speaking GraphQL with a chosen key."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.key: str | None = None

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, *, key: str | None = None
    ) -> httpx.Response:
        token = key or self.key
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, key: str | None = None
    ) -> dict[str, Any]:
        """Run an operation expected to succeed at the GraphQL level; return `data`."""
        response = await self.post(query, variables, key=key)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[Any]:
    """The app of these settings, started; one at a time, as Tortoise has one default connection."""
    # Tortoise keeps each table's INSERT and DELETE statements for the life
    # of the process, keyed by connection name but not by dialect; tests
    # switch between SQLite and PostgreSQL under the same name.
    EXECUTOR_CACHE.clear()
    application = create_app(settings)
    async with LifespanManager(application) as manager:
        yield manager.app
        # Whatever the test stored: secrets are only ever there encrypted.
        for table in APP_TABLES:
            SWEEP.add_text("stored table", f"{table} ({settings.database})", repr(await stored_rows(table)))
        # The sweep finds values the tests sent; the audit log must not hold their ciphertexts either.
        sealed = SEALED_TOKEN.findall(repr(await stored_rows("audit_events")))
        assert sealed == [], f"sealed secrets in the audit log: {sealed}"


@asynccontextmanager
async def api_client(app: Any) -> AsyncIterator[Api]:
    """An Api over the app, with a key of a new organization, Acme."""
    transport = httpx.ASGITransport(app=app)
    hooks = {"request": [SWEEP.on_request], "response": [SWEEP.on_response]}
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test", event_hooks=hooks) as client:
        api = Api(client)
        api.key = (await issue_key("Acme")).key
        SWEEP.add_secret(api.key)
        yield api

"""Before any key is looked up: one Authorization header, and a limit per client address on requests without a
valid key. X-Forwarded-For names the client only when a trusted proxy sent it.

These are the tests that need real processes; the in-process ones are in
tests/api/test_client_limits.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest

from switchboard.settings import Settings
from tests.support.graphql_ops import CREATE_PHONE_NUMBER, twilio
from tests.support.servers import Servers

LIMIT = 3
UNKNOWN_KEY = "sb_live_" + "x" * 43
CREATE = {"input": {"number": "+14155550123", "provider": twilio()}}


async def graphql(client: httpx.AsyncClient, headers: Any) -> httpx.Response:
    return await client.post("/graphql", json={"query": CREATE_PHONE_NUMBER, "variables": CREATE}, headers=headers)


def bearer(key: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {key}")


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return dataclasses.replace(settings, unauthenticated_rate_limit=LIMIT)


# --- two Authorization headers ---------------------------------------------------


# --- requests without a valid key, per client address -----------------------------


# --- X-Forwarded-For ----------------------------------------------------------------


def forwarded(client: str, key: str = UNKNOWN_KEY) -> list[tuple[str, str]]:
    return [bearer(key), ("X-Forwarded-For", client)]


async def test_a_served_app_trusts_x_forwarded_for_only_as_configured(settings: Settings, servers: Servers) -> None:
    environment = {"SWITCHBOARD_WORKERS": "1", "SWITCHBOARD_UNAUTHENTICATED_RATE_LIMIT": str(LIMIT)}
    for trusted, limited in (("", True), ("127.0.0.1", False)):
        server = servers.start(settings, SWITCHBOARD_TRUSTED_PROXIES=trusted, **environment)
        async with httpx.AsyncClient(base_url=server.url) as client:
            statuses = [(await graphql(client, forwarded(f"198.51.100.{i}"))).status_code for i in range(LIMIT + 1)]
        assert statuses == ([401] * LIMIT + [429] if limited else [401] * (LIMIT + 1))
        assert server.terminate() == 0

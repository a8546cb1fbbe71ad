"""Before any key is looked up: one Authorization header, and a limit per client address on requests without a
valid key. X-Forwarded-For names the client only when a trusted proxy sent it.

The tests that need real processes are in tests/system/test_client_limits_processes.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from resolvers.api_keys import issue_key
from switchboard.settings import Settings
from tests.support.app import running_app
from tests.support.database import stored_rows
from tests.support.graphql_ops import CREATE_PHONE_NUMBER, twilio
from tests.support.secret_sweep import SWEEP

LIMIT = 3
UNKNOWN_KEY = "sb_live_" + "x" * 43
CREATE = {"input": {"number": "+14155550123", "provider": twilio()}}
REST_CREATE = {"number": "+14155550123", "twilioAccountSid": twilio()["twilio"]["accountSid"], "twilioAuthToken": "t"}


@asynccontextmanager
async def client_from(app: Any, host: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(host, 40_000))
    hooks = {"request": [SWEEP.on_request], "response": [SWEEP.on_response]}
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test", event_hooks=hooks) as client:
        yield client


async def graphql(client: httpx.AsyncClient, headers: Any) -> httpx.Response:
    return await client.post("/graphql", json={"query": CREATE_PHONE_NUMBER, "variables": CREATE}, headers=headers)


async def rest(client: httpx.AsyncClient, headers: Any) -> httpx.Response:
    return await client.post("/v1/phone-numbers", json=REST_CREATE, headers=headers)


TRANSPORTS = [pytest.param(graphql, id="graphql"), pytest.param(rest, id="rest")]


def refused_body(transport: Any, message: str, code: str, **extensions: Any) -> dict[str, Any]:
    if transport is rest:
        return {"error": message, "details": []}
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


def bearer(key: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {key}")


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return dataclasses.replace(settings, unauthenticated_rate_limit=LIMIT)


@pytest.fixture
async def valid_key(app: Any) -> str:
    key = (await issue_key("Acme")).key
    SWEEP.add_secret(key)
    return key


# --- two Authorization headers ---------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("order", ["valid-first", "valid-last", "both-valid"])
async def test_two_authorization_headers_are_refused_and_run_nothing(
    app: Any, valid_key: str, transport: Any, order: str
) -> None:
    other = {"valid-first": UNKNOWN_KEY, "valid-last": UNKNOWN_KEY, "both-valid": valid_key}[order]
    headers = [bearer(valid_key), bearer(other)] if order != "valid-last" else [bearer(other), bearer(valid_key)]
    async with client_from(app, "203.0.113.5") as client:
        response = await transport(client, headers)
    assert response.status_code == 400
    assert response.json() == refused_body(
        transport, "Send one Authorization header; this request has 2", "BAD_REQUEST"
    )
    assert await stored_rows("phone_numbers") == []


# --- requests without a valid key, per client address -----------------------------


async def assert_limited(response: httpx.Response, transport: Any) -> None:
    assert response.status_code == 429
    seconds = int(response.headers["retry-after"])
    assert 1 <= seconds <= 120  # a window of a minute, and the next one
    message = f"Too many requests without a valid API key: retry after {seconds} seconds"
    assert response.json() == refused_body(transport, message, "RATE_LIMITED", retryAfter=seconds)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_requests_without_a_valid_key_are_limited_per_address_before_the_lookup(
    limited: Settings, transport: Any
) -> None:
    async with running_app(limited) as app:
        key = (await issue_key("Acme")).key
        SWEEP.add_secret(key)
        async with client_from(app, "203.0.113.5") as flood, client_from(app, "198.51.100.7") as bystander:
            # Wrong keys, missing ones and two at once count alike, over GraphQL and REST alike.
            assert (await graphql(flood, [bearer(UNKNOWN_KEY)])).status_code == 401
            assert (await rest(flood, [])).status_code == 401
            assert (await transport(flood, [bearer(key), bearer(key)])).status_code == 400
            await assert_limited(await transport(flood, [bearer(UNKNOWN_KEY)]), transport)
            # Refused before the key is looked up: even a valid one.
            await assert_limited(await transport(flood, [bearer(key)]), transport)
            assert (await transport(bystander, [bearer(UNKNOWN_KEY)])).status_code == 401
            assert (await transport(bystander, [bearer(key)])).status_code in (200, 201)
        assert len(await stored_rows("phone_numbers")) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_blocked_address_still_serves_keys_the_worker_remembers(limited: Settings, transport: Any) -> None:
    """Users behind one address (a NAT, an office) keep working while a neighbour floods it with bad keys."""
    async with running_app(limited) as app:
        remembered, new = (await issue_key("Acme")).key, (await issue_key("Acme")).key
        SWEEP.add_secret(remembered)
        SWEEP.add_secret(new)
        async with client_from(app, "203.0.113.5") as client:
            assert (
                await client.post("/graphql", json={"query": "{ __typename }"}, headers=[bearer(remembered)])
            ).status_code == 200
            for _ in range(LIMIT):
                assert (await graphql(client, [bearer(UNKNOWN_KEY)])).status_code == 401
            await assert_limited(await transport(client, [bearer(UNKNOWN_KEY)]), transport)
            assert (await transport(client, [bearer(remembered)])).status_code in (200, 201)
            # A key this worker has not checked yet would need a lookup: refused like any other.
            await assert_limited(await transport(client, [bearer(new)]), transport)
        assert len(await stored_rows("phone_numbers")) == 1


async def test_requests_with_a_valid_key_do_not_count_against_the_address(limited: Settings) -> None:
    async with running_app(limited) as app:
        key = (await issue_key("Acme")).key
        SWEEP.add_secret(key)
        async with client_from(app, "203.0.113.5") as client:
            for _ in range(2 * LIMIT):
                response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=[bearer(key)])
                assert response.status_code == 200
            statuses = [(await graphql(client, [bearer(UNKNOWN_KEY)])).status_code for _ in range(LIMIT + 1)]
            assert statuses == [401] * LIMIT + [429]


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        pytest.param("2001:db8::1", "2001:db8::2", True, id="one-ipv6-64"),
        pytest.param("2001:db8::1", "2001:db8:0:1::1", False, id="two-ipv6-64s"),
        pytest.param("::ffff:203.0.113.5", "203.0.113.5", True, id="ipv4-mapped"),
        pytest.param("203.0.113.5", "203.0.113.6", False, id="two-ipv4"),
    ],
)
async def test_a_client_address_is_an_ipv4_address_or_an_ipv6_64(
    limited: Settings, first: str, second: str, shared: bool
) -> None:
    async with running_app(limited) as app, client_from(app, first) as one, client_from(app, second) as other:
        for _ in range(LIMIT):
            assert (await graphql(one, [bearer(UNKNOWN_KEY)])).status_code == 401
        assert (await graphql(other, [bearer(UNKNOWN_KEY)])).status_code == (429 if shared else 401)


# --- X-Forwarded-For ----------------------------------------------------------------


def forwarded(client: str, key: str = UNKNOWN_KEY) -> list[tuple[str, str]]:
    return [bearer(key), ("X-Forwarded-For", client)]


@pytest.mark.parametrize(
    ("trusted", "peer", "honoured"),
    [
        pytest.param((), "127.0.0.1", False, id="no-trusted-proxy"),
        pytest.param(("10.0.0.0/8",), "127.0.0.1", False, id="peer-not-trusted"),
        pytest.param(("127.0.0.1/32",), "127.0.0.1", True, id="peer-trusted"),
        pytest.param(("10.0.0.0/8",), "10.20.30.40", True, id="peer-in-trusted-network"),
    ],
)
async def test_x_forwarded_for_counts_only_from_trusted_proxies(
    limited: Settings, trusted: tuple[str, ...], peer: str, honoured: bool
) -> None:
    async with (
        running_app(dataclasses.replace(limited, trusted_proxies=trusted)) as app,
        client_from(app, peer) as proxy,
    ):
        statuses = [(await graphql(proxy, forwarded(f"198.51.100.{i}"))).status_code for i in range(LIMIT + 1)]
        # Honoured, each client has its own limit; otherwise they are all the peer.
        assert statuses == ([401] * (LIMIT + 1) if honoured else [401] * LIMIT + [429])


async def test_a_client_cannot_forge_its_address_through_a_trusted_proxy(limited: Settings) -> None:
    """The proxy appends the address it saw; the last address it did not add itself is the client's."""
    settings = dataclasses.replace(limited, trusted_proxies=("10.0.0.0/8",))
    async with running_app(settings) as app, client_from(app, "10.0.0.2") as proxy:
        for i in range(LIMIT):
            assert (await graphql(proxy, forwarded(f"192.0.2.{i}, 203.0.113.9, 10.0.0.3"))).status_code == 401
        await assert_limited(await graphql(proxy, forwarded("192.0.2.99, 203.0.113.9")), graphql)

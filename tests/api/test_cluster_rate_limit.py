"""Rate limits kept in Redis (SWITCHBOARD_RATE_LIMIT_STORAGE): one budget for every worker of every server,
and requests still served, under each worker's own limits, while Redis is away.

Real `switchboard serve` processes on PostgreSQL, two workers each.
Requests go out on connections of their own, so the kernel hands them to
either worker; each worker is told apart by the `process` of its request log
lines. TEST_REDIS_URL names a Redis the tests may write to (.ci/run sets
it); each test's counters are its own, named after a new API key or a
random client address, and are deleted after it. Tests of Redis going away
start a redis-server of their own on a free port.

The tests that need real processes are in tests/system/test_cluster_rate_limit_processes.py.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
from pathlib import Path

import pytest

from schema.cost import REQUEST_COST
from switchboard.http import rate_limit
from switchboard.http.rate_limit import redis_location
from switchboard.rest.endpoint import ROW_COST
from switchboard.settings import Settings, SettingsError
from tests.support.app import Api, api_client, running_app
from tests.support.redis_counters import Counters, sliding_window_allows
from tests.support.secret_sweep import SWEEP

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()

# A REST page of three rows: REQUEST_COST at the gate, then 1 + 3 rows.
REQUEST = "/v1/phone-numbers?limit=3"
COST = REQUEST_COST + 1 + 3 * ROW_COST
PER_SECOND = 20
BURST = PER_SECOND * COST  # 1,800 units: 20 requests
# A window this long sees no unit come back while a test runs: counts are exact.
SLOW_WINDOW_SECONDS = 600
# A GraphQL page of five ids: 1 + 5 x 7; parsed once per worker, for its size.
GRAPHQL_PAGE = "{ phoneNumbers(first: 5) { edges { node { id } } } }"


# --- one budget for every worker of every server -----------------------------------------------------------


# --- the measurement -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "allowed"),
    [
        pytest.param([0.01 * i for i in range(100)], 20, id="a-burst-then-nothing-within-the-first-window"),
        pytest.param(
            [0.0] * 20 + [1.0 + 0.05 * i for i in range(20)],
            39,
            id="the-next-window-takes-one-a-twentieth-of-a-second-after-it-starts",
        ),
        pytest.param([0.0] * 21 + [2.5] * 21, 40, id="idle-for-two-windows-starts-afresh"),
        pytest.param([0.0] * 10 + [1.5] * 30, 10 + 15, id="half-the-previous-window-still-counts"),
    ],
)
def test_the_model_of_the_sliding_window(sent: list[float], allowed: int) -> None:
    assert sliding_window_allows(sent, (COST,), BURST, 1.0) == allowed


def test_a_refused_second_charge_keeps_the_first() -> None:
    """50 at the gate, then 40: with 60 units of room one request takes 50 and is refused; nothing is left."""
    assert sliding_window_allows([0.0] * 20, (50, 40), 90 + 60, 10.0) == 1


# --- Redis away ----------------------------------------------------------------------------------------------


# --- settings -------------------------------------------------------------------------------------------------

PASSWORD = "sw0rdfish-Sw0rdf1sh"


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        pytest.param(None, "memory://", id="default"),
        pytest.param(" ", "memory://", id="blank-is-the-default"),
        pytest.param("memory://", "memory://", id="memory"),
        pytest.param("redis://redis.internal", "redis://redis.internal", id="host-only"),
        pytest.param("redis://10.0.0.5:6380/3", "redis://10.0.0.5:6380/3", id="port-and-database"),
        pytest.param(
            f"rediss://:{PASSWORD}@redis.internal:6380/0",
            f"rediss://:{PASSWORD}@redis.internal:6380/0",
            id="tls-password",
        ),
        pytest.param(
            f"redis://app:{PASSWORD}@[2001:db8::5]:6379/", f"redis://app:{PASSWORD}@[2001:db8::5]:6379/", id="user-ipv6"
        ),
        pytest.param(
            "redis://:p%2Fss%40word@h:6379/0", "redis://:p%2Fss%40word@h:6379/0", id="percent-encoded-password"
        ),
    ],
)
def test_rate_limit_storage_accepted_values(value: str | None, stored: str) -> None:
    environ = {} if value is None else {"SWITCHBOARD_RATE_LIMIT_STORAGE": value}
    settings = Settings.from_env(environ)
    assert settings.rate_limit_storage == stored
    assert PASSWORD not in repr(settings)


NEITHER = (
    "SWITCHBOARD_RATE_LIMIT_STORAGE must be memory:// or a Redis URL, redis://[:password@]host[:port][/db] "
    "(rediss:// for TLS; / ? # @ in a password percent-encoded); the value set is neither (not shown: it may hold a password)"
)
EXAMPLE = "as in redis://[:password@]host[:port][/db] (rediss:// for TLS; / ? # @ in a password percent-encoded)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("memcached://cache:11211", NEITHER, id="another-store"),
        pytest.param(f"http://:{PASSWORD}@redis.internal", NEITHER, id="another-scheme"),
        pytest.param("memory", NEITHER, id="memory-without-slashes"),
        pytest.param("memory:///", NEITHER, id="memory-with-a-path"),
        pytest.param(f"{PASSWORD}:{PASSWORD}", NEITHER, id="a-password-alone"),
        pytest.param(f"redis:{PASSWORD}@h", NEITHER, id="redis-without-slashes"),
        pytest.param("redis+cluster://h:6379", NEITHER, id="cluster"),
        pytest.param(
            "redis://", f"SWITCHBOARD_RATE_LIMIT_STORAGE: a redis:// URL names a host, {EXAMPLE}", id="no-host"
        ),
        pytest.param(
            f"redis://:{PASSWORD}@",
            f"SWITCHBOARD_RATE_LIMIT_STORAGE: a redis:// URL names a host, {EXAMPLE}",
            id="password-no-host",
        ),
        pytest.param(
            f"redis://:{PASSWORD[:6]}/{PASSWORD[6:]}@h:6379/0",
            f"SWITCHBOARD_RATE_LIMIT_STORAGE: a redis:// URL names a host, {EXAMPLE}",
            id="unencoded-slash-in-password",
        ),
        *(
            pytest.param(
                f"rediss://:{PASSWORD}@h:{port}/0",
                f"SWITCHBOARD_RATE_LIMIT_STORAGE: the port of a rediss:// URL is a number from 1 to 65535, {EXAMPLE}",
                id=f"port-{port}",
            )
            for port in ("0", "65536", "six", "-1")
        ),
        pytest.param(
            f"redis://user:{PASSWORD}/x@h",
            f"SWITCHBOARD_RATE_LIMIT_STORAGE: the port of a redis:// URL is a number from 1 to 65535, {EXAMPLE}",
            id="unencoded-slash-in-password-with-user",
        ),
        *(
            pytest.param(
                f"redis://:{PASSWORD}@h:6379{path}",
                f"SWITCHBOARD_RATE_LIMIT_STORAGE: the path of a redis:// URL is a database number, {EXAMPLE}",
                id=f"database-{path}",
            )
            for path in ("/zero", "/0/1", "/-1", "/\u0661", "//")
        ),
        *(
            pytest.param(
                f"redis://:{PASSWORD}@h:6379/0{tail}",
                f"SWITCHBOARD_RATE_LIMIT_STORAGE takes no options after ? or #: Switchboard sets Redis' timeouts itself; {EXAMPLE}",
                id=f"options-{tail[:1]}",
            )
            for tail in ("?socket_timeout=30", "#x", "?")
        ),
    ],
)
def test_rate_limit_storage_refuses_what_is_not_memory_or_redis_and_never_quotes_it(value: str, message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"SWITCHBOARD_RATE_LIMIT_STORAGE": value})
    assert str(refused.value) == message
    assert PASSWORD not in str(refused.value) and PASSWORD[6:] not in str(refused.value)


def test_settings_made_in_code_are_checked_too(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SWITCHBOARD_RATE_LIMIT_STORAGE must be memory://"):
        Settings("sqlite://x", tmp_path, (), rate_limit_storage="redis:/h")


# --- in one process, on both databases ------------------------------------------------------------------------

# What one request may cost with a cost limit of 1,000, and no more: soon used up.
BUDGET = 1_000 + REQUEST_COST + 1_500


def in_redis(settings: Settings, storage: str) -> Settings:
    return dataclasses.replace(
        settings,
        rate_limit=BUDGET / SLOW_WINDOW_SECONDS,
        rate_limit_burst=BUDGET,
        max_query_cost=1_000,
        rate_limit_storage=storage,
    )


async def spend(api: Api, *, graphql: bool) -> list[int]:
    """Requests until one is refused for the key's rate limit: their statuses."""
    statuses: list[int] = []
    while 429 not in statuses:
        if graphql:
            response = await api.post(GRAPHQL_PAGE)
        else:
            response = await api.client.get(REQUEST, headers={"Authorization": f"Bearer {api.key}"})
        statuses.append(response.status_code)
        assert len(statuses) < 100
    return statuses


@pytest.mark.parametrize("transport", ["rest", "graphql"])
async def test_an_app_that_starts_after_another_finds_its_spending_in_redis(
    settings: Settings, counters: Counters, redis_url: str, transport: str
) -> None:
    """Two processes, one after the other (Tortoise has one default connection): the second refuses at once."""
    async with running_app(in_redis(settings, redis_url)) as app, api_client(app) as api:
        key = counters.of_key(api.key)
        first = await spend(api, graphql=transport == "graphql")
        assert first[-1] == 429 and set(first[:-1]) == {200}
    async with running_app(in_redis(settings, redis_url)) as app, api_client(app) as api:
        api.key = key
        assert (await api.client.get(REQUEST, headers={"Authorization": f"Bearer {key}"})).status_code == 429
        assert (await api.post(GRAPHQL_PAGE)).status_code == 429
        assert (await api.client.get("/readyz")).json() == {
            "status": "ready",
            "rateLimit": f"shared: Redis at {redis_location(redis_url)}",
        }
    async with running_app(in_redis(settings, "memory://")) as app, api_client(app) as api:
        api.key = key
        assert (await api.post(GRAPHQL_PAGE)).status_code == 200, "in memory, a new process knows nothing of the old"


class CountingListener:
    """A TCP port that counts the connections made to it and answers none: a Redis that hangs."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.accepted:
            connection.close()


async def test_a_hung_redis_is_waited_on_once_then_left_alone_until_the_probe(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Requests while Redis is known to be down do not touch it: each worker probes it in the background instead."""
    monkeypatch.setattr(rate_limit, "PROBE_SECONDS", 3600.0)
    SWEEP.add_secret(PASSWORD)
    hung = CountingListener()
    try:
        location = f"127.0.0.1:{hung.port}"
        async with running_app(in_redis(settings, f"redis://:{PASSWORD}@{location}/0")) as app, api_client(app) as api:
            # Found out at start: the ping timed out.
            tried = len(hung.accepted)
            assert tried >= 1
            statuses = [(await api.post(GRAPHQL_PAGE)).status_code for _ in range(40)]
            rest = [
                (await api.client.get(REQUEST, headers={"Authorization": f"Bearer {api.key}"})).status_code
                for _ in range(5)
            ]
            ready = await api.client.get("/readyz")
            assert len(hung.accepted) == tried, "no request connected to Redis while it was known to be down"
    finally:
        hung.close()
    assert set(statuses) == {200, 429} and set(rest) == {429}
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "rateLimit": f"per process: Redis at {location} unreachable"},
    )
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR" and r.name == "switchboard"]
    assert errors == [
        f"rate limits: Redis at {location} unreachable (TimeoutError); limiting per worker process until it is back"
    ]
    assert PASSWORD not in caplog.text

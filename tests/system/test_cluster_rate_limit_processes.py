"""Rate limits kept in Redis (SWITCHBOARD_RATE_LIMIT_STORAGE): one budget for every worker of every server,
and requests still served, under each worker's own limits, while Redis is away.

Real `switchboard serve` processes on PostgreSQL, two workers each.
Requests go out on connections of their own, so the kernel hands them to
either worker; each worker is told apart by the `process` of its request log
lines. TEST_REDIS_URL names a Redis the tests may write to (.ci/run sets
it); each test's counters are its own, named after a new API key or a
random client address, and are deleted after it. Tests of Redis going away
start a redis-server of their own on a free port.

These are the tests that need real processes; the in-process ones are in
tests/api/test_cluster_rate_limit.py.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import json
import math
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from resolvers.api_keys import issue_key
from schema.cost import REQUEST_COST
from switchboard.rest.endpoint import ROW_COST
from switchboard.settings import Settings
from tests.support import REPO
from tests.support.app import Api
from tests.support.redis_counters import Counters, sliding_window_allows
from tests.support.secret_sweep import SWEEP
from tests.support.servers import Server, Servers, free_port, server_environment, switchboard

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()
POSTGRES = pytest.mark.parametrize("settings", ["postgres"], indirect=True)

# A REST page of three rows: REQUEST_COST at the gate, then 1 + 3 rows.
REQUEST = "/v1/phone-numbers?limit=3"
COST = REQUEST_COST + 1 + 3 * ROW_COST
PER_SECOND = 20
BURST = PER_SECOND * COST  # 1,800 units: 20 requests
# The smallest burst the settings accept is what one request may cost, 1,550 + this.
MAX_QUERY_COST = "100"
# A window this long sees no unit come back while a test runs: counts are exact.
SLOW_WINDOW_SECONDS = 600
# A GraphQL page of five ids: 1 + 5 x 7; parsed once per worker, for its size.
GRAPHQL_PAGE = "{ phoneNumbers(first: 5) { edges { node { id } } } }"
GRAPHQL_COST = REQUEST_COST + 1 + 5 * 7
WORKERS = 2
_ids = itertools.count()


class OwnRedis:
    """A redis-server of the test's own on a free port, which the test may stop and start again: empty each time."""

    def __init__(self, directory: Path, password: str | None = None) -> None:
        self.directory, self.password = directory, password
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (apt-get install -y redis-server)"
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.directory)] + (["--requirepass", self.password] if self.password else [])
        with (self.directory / f"redis-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, password=self.password, socket_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert self.process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        """As when its host dies: no goodbye to the clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def limited(storage: str, *, window: float = SLOW_WINDOW_SECONDS, **extra: str) -> dict[str, str]:
    """A server's variables: BURST units a key, coming back over `window` seconds, counted in `storage`."""
    return {
        "SWITCHBOARD_RATE_LIMIT_STORAGE": storage,
        "SWITCHBOARD_RATE_LIMIT": repr(BURST / window),
        "SWITCHBOARD_RATE_LIMIT_BURST": str(BURST),
        "SWITCHBOARD_MAX_QUERY_COST": MAX_QUERY_COST,
        **extra,
    }


@dataclass(frozen=True)
class Answer:
    request_id: str
    sent: float  # seconds after the first request was sent
    status: int


def fresh_connections(server: Server) -> httpx.AsyncClient:
    """One connection a request, so the kernel hands each to either worker."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    hooks = {"request": [SWEEP.on_request], "response": [SWEEP.on_response]}
    return httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30, event_hooks=hooks)


async def ask(
    client: httpx.AsyncClient, key: str | None, label: str, *, graphql: bool = False, **headers: str
) -> tuple[str, int]:
    request_id = f"{label}-{next(_ids)}"
    headers = {"X-Request-ID": request_id, **headers}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if graphql:
        response = await client.post("/graphql", json={"query": GRAPHQL_PAGE}, headers=headers)
    else:
        response = await client.get(REQUEST, headers=headers)
    return request_id, response.status_code


async def one_by_one(servers: list[Server], key: str | None, count: int, label: str, **options: Any) -> list[int]:
    """`count` requests, each after the last was answered, taking turns over `servers`."""
    clients = [fresh_connections(s) for s in servers]
    try:
        return [(await ask(clients[i % len(clients)], key, label, **options))[1] for i in range(count)]
    finally:
        for client in clients:
            await client.aclose()


async def spread_over(servers: list[Server], key: str, count: int, seconds: float, label: str) -> list[Answer]:
    """`count` requests sent evenly over `seconds`, taking turns over `servers`, none waiting for another's answer."""
    clients = [fresh_connections(s) for s in servers]
    start = time.monotonic()

    async def send(i: int) -> Answer:
        await asyncio.sleep(max(0.0, start + i * seconds / count - time.monotonic()))
        sent = time.monotonic() - start
        request_id, status = await ask(clients[i % len(clients)], key, label)
        return Answer(request_id, sent, status)

    try:
        return list(await asyncio.gather(*(send(i) for i in range(count))))
    finally:
        for client in clients:
            await client.aclose()


def log_records(server: Server) -> list[dict[str, Any]]:
    records = []
    for line in server.log().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def workers_that_answered(server: Server, label: str) -> set[int]:
    return {
        r["process"]
        for r in log_records(server)
        if r.get("logger") == "switchboard.request" and str(r.get("request_id", "")).startswith(f"{label}-")
    }


def rate_limit_lines(server: Server, level: str, words: str) -> list[int]:
    """The worker process of each log line of `level` containing `words`."""
    return [r["process"] for r in log_records(server) if r.get("level") == level and words in r.get("message", "")]


async def readyz(server: Server) -> tuple[int, dict[str, Any]]:
    async with fresh_connections(server) as client:
        response = await client.get("/readyz")
    return response.status_code, response.json()


async def new_key(counters: Counters) -> str:
    key = (await issue_key("Acme")).key
    SWEEP.add_secret(key)
    return counters.of_key(key)


# --- one budget for every worker of every server -----------------------------------------------------------


@POSTGRES
@pytest.mark.parametrize("transport", ["rest", "graphql"])
async def test_a_keys_budget_is_one_for_every_worker_of_every_server(
    api: Api, settings: Settings, servers: Servers, counters: Counters, redis_url: str, transport: str
) -> None:
    """Two servers of two workers, one Redis: the key's 20 requests are 20 in all, whichever worker takes them."""
    graphql = transport == "graphql"
    # GraphQL's first request on each worker also pays for parsing the page: room for four such.
    burst = 20 * GRAPHQL_COST + 4 * math.ceil(len(GRAPHQL_PAGE) / 10) if graphql else BURST
    env = limited(
        redis_url, SWITCHBOARD_RATE_LIMIT_BURST=str(burst), SWITCHBOARD_RATE_LIMIT=repr(burst / SLOW_WINDOW_SECONDS)
    )
    started = [servers.start(settings, **env) for _ in range(2)]
    key = await new_key(counters)

    statuses = await one_by_one(started, key, 60, "shared", graphql=graphql)

    # Per process, each server alone would take 20.
    assert statuses == [200] * 20 + [429] * 40
    assert counters.stored(), "the counters are in Redis"


@POSTGRES
async def test_per_process_counters_let_a_key_through_once_per_worker(
    api: Api, settings: Settings, servers: Servers
) -> None:
    """The contrast: memory://, the same requests, each worker with its own budget."""
    started = [servers.start(settings, **limited("memory://")) for _ in range(2)]
    key = (await issue_key("Acme")).key
    SWEEP.add_secret(key)

    statuses = await one_by_one(started, key, 60, "apart")

    # 30 requests a server: whichever of its workers take them, it lets 20 or more through.
    assert set(statuses) <= {200, 429} and statuses.count(200) >= 2 * 20


@POSTGRES
async def test_requests_without_a_valid_key_are_limited_per_address_across_servers(
    api: Api, settings: Settings, servers: Servers, counters: Counters, redis_url: str
) -> None:
    env = limited(redis_url, SWITCHBOARD_UNAUTHENTICATED_RATE_LIMIT="10", SWITCHBOARD_TRUSTED_PROXIES="127.0.0.1")
    started = [servers.start(settings, **env) for _ in range(2)]
    # An address of this run's own: a random /64 of the documentation prefix, as the gate names it.
    network = ipaddress.IPv6Network((int(ipaddress.IPv6Address("2001:db8::")) | secrets.randbits(32) << 64, 64))
    counters.of_address(str(network))
    forwarded = str(network[7])

    statuses = await one_by_one(started, None, 30, "no-key", **{"X-Forwarded-For": forwarded})

    assert statuses == [401] * 10 + [429] * 20
    assert counters.stored()


# --- the measurement -----------------------------------------------------------------------------------------


async def warmed(servers: list[Server], key: str) -> None:
    """Every worker has the key in its cache and its database connections open; then the key's counts run out.

    Rounds of requests at once until each worker has answered; then two
    windows of rest, after which limits has forgotten them.
    """
    deadline = time.monotonic() + 60
    for server in servers:
        while len(workers_that_answered(server, "warm")) < WORKERS:
            assert time.monotonic() < deadline, "not every worker answered"
            async with fresh_connections(server) as client:
                await asyncio.gather(*(ask(client, key, "warm") for _ in range(8)))
    await asyncio.sleep(2 * BURST / (PER_SECOND * COST) + 0.1)


@POSTGRES
async def test_two_servers_sharing_redis_accept_what_the_limit_allows(
    api: Api, settings: Settings, servers: Servers, counters: Counters, redis_url: str
) -> None:
    """The issue's measurement: 20 requests a second with a burst of 20, 200 requests in 2 s over both servers."""
    window = BURST / (PER_SECOND * COST)
    started = [servers.start(settings, **limited(redis_url, window=window)) for _ in range(2)]
    key = await new_key(counters)
    await warmed(started, key)
    shared = await spread_over(started, key, 200, 2.0, "measured")

    contrast = [servers.start(settings, **limited("memory://", window=window)) for _ in range(2)]
    other = (await issue_key("Acme")).key
    SWEEP.add_secret(other)
    await warmed(contrast, other)
    apart = await spread_over(contrast, other, 200, 2.0, "apart")

    for answers in (shared, apart):
        assert {a.status for a in answers} <= {200, 429}
    accepted = sum(a.status == 200 for a in shared)
    sent = [a.sent for a in shared]
    allowed = sliding_window_allows(sent, (REQUEST_COST, COST - REQUEST_COST), BURST, window)
    per_process = sum(a.status == 200 for a in apart)
    report = {
        "servers": 2,
        "workers_each": WORKERS,
        "limit": f"{PER_SECOND * COST} units/s, burst {BURST}, {COST} units a request ({REQUEST_COST} at the gate)",
        "requests": len(shared),
        "seconds_from_first_to_last_sent": round(sent[-1] - sent[0], 3),
        "allowed_by_the_sliding_window": allowed,
        "allowed_if_refused_requests_cost_nothing": sliding_window_allows(sent, (COST,), BURST, window),
        "accepted_sharing_redis": accepted,
        "accepted_per_process_memory": per_process,
        "workers_that_answered": sum(len(workers_that_answered(s, "measured")) for s in started),
    }
    (REPO / "test-artifacts").mkdir(exist_ok=True)
    (REPO / "test-artifacts" / "cluster-rate-limit.json").write_text(json.dumps(report, indent=2))
    print("\ncluster rate limit:", json.dumps(report))
    assert report["workers_that_answered"] == 2 * WORKERS
    assert not any(rate_limit_lines(s, "ERROR", "rate limits") for s in started), "Redis answered throughout"
    assert abs(accepted - allowed) <= 0.1 * allowed
    assert per_process > 1.5 * allowed


# --- Redis away ----------------------------------------------------------------------------------------------


def outage_lines(server: Server, location: str) -> list[int]:
    return rate_limit_lines(server, "ERROR", f"rate limits: Redis at {location} unreachable (")


def back_lines(server: Server, location: str) -> list[int]:
    return rate_limit_lines(server, "INFO", f"rate limits: Redis at {location} is back")


def per_process(statuses: list[int], workers: int) -> None:
    """Served under each worker's own budget of 20: none fails, some are refused, no more than 20 a worker pass."""
    assert set(statuses) == {200, 429}, statuses
    assert 20 <= statuses.count(200) <= 20 * workers, statuses


@POSTGRES
async def test_redis_going_away_leaves_requests_served_per_process_and_its_return_shares_them_again(
    api: Api, settings: Settings, servers: Servers, tmp_path: Path
) -> None:
    own = OwnRedis(tmp_path, password=secrets.token_urlsafe(18))
    SWEEP.add_secret(own.password)
    own.start()
    location = f"127.0.0.1:{own.port}"
    shared = (200, {"status": "ready", "rateLimit": f"shared: Redis at {location}"})
    try:
        started = [servers.start(settings, **limited(own.url)) for _ in range(2)]
        key = (await issue_key("Acme")).key
        SWEEP.add_secret(key)
        assert [await readyz(s) for s in started] == [shared] * 2
        assert await one_by_one(started, key, 30, "before") == [200] * 20 + [429] * 10

        own.stop()
        away = await one_by_one(started, key, 100, "away")
        answered = {w for s in started for w in workers_that_answered(s, "away")}
        # Each worker's own 20: more than the 20 of them all, and refusals still.
        assert set(away) == {200, 429} and 20 < away.count(200) <= 20 * len(answered), away
        unreachable = (200, {"status": "ready", "rateLimit": f"per process: Redis at {location} unreachable"})
        assert [await readyz(s) for s in started] == [unreachable] * 2
        # One line a worker for the whole outage, however many requests it served meanwhile.
        noticed = [w for s in started for w in outage_lines(s, location)]
        assert len(noticed) == len(set(noticed)) and answered <= set(noticed)

        own.start()  # empty: whatever was counted before is gone
        deadline = time.monotonic() + 30
        while sorted(w for s in started for w in back_lines(s, location)) != sorted(noticed):
            assert time.monotonic() < deadline, [s.log()[-3000:] for s in started]
            await asyncio.sleep(0.1)
        assert [await readyz(s) for s in started] == [shared] * 2
        assert await one_by_one(started, key, 30, "back") == [200] * 20 + [429] * 10
    finally:
        own.stop()
    assert sorted(w for s in started for w in outage_lines(s, location)) == sorted(noticed), (
        "no second line for one outage"
    )
    assert all(own.password not in s.log() for s in started)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections and never answers, like a Redis that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(100)
        yield listener.getsockname()[1]


@POSTGRES
@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("nothing-listens", "ConnectionError"),
        ("never-answers", "TimeoutError"),
        ("wrong-password", "AuthenticationError"),
    ],
)
async def test_redis_unreachable_at_start(
    api: Api,
    settings: Settings,
    servers: Servers,
    tmp_path: Path,
    case: str,
    error: str,
    request: pytest.FixtureRequest,
) -> None:
    password = secrets.token_urlsafe(18)
    SWEEP.add_secret(password)
    if case == "wrong-password":
        own = OwnRedis(tmp_path, password=secrets.token_urlsafe(18))
        SWEEP.add_secret(own.password)
        own.start()
        request.addfinalizer(own.stop)
        port = own.port
    else:
        port = request.getfixturevalue("silent_port") if case == "never-answers" else free_port()
    location = f"127.0.0.1:{port}"
    server = servers.start(settings, **limited(f"redis://:{password}@{location}/0"))
    key = (await issue_key("Acme")).key
    SWEEP.add_secret(key)
    # Each worker finds out as it starts (the server answers once one has).
    deadline = time.monotonic() + 30
    while len(outage_lines(server, location)) < WORKERS:
        assert time.monotonic() < deadline, server.log()[-3000:]
        await asyncio.sleep(0.1)

    assert await readyz(server) == (
        200,
        {"status": "ready", "rateLimit": f"per process: Redis at {location} unreachable"},
    )
    per_process(await one_by_one([server], key, 60, "rest"), WORKERS)
    graphql = await one_by_one([server], key, 10, "graphql", graphql=True)

    assert set(graphql) <= {200, 429}
    # Once a worker, however many requests followed.
    assert sorted(outage_lines(server, location)) == sorted(
        rate_limit_lines(server, "INFO", f"kept in Redis at {location}")
    )
    assert len(outage_lines(server, location)) == WORKERS
    assert f"unreachable ({error})" in server.log()
    assert password not in server.log()


# --- settings -------------------------------------------------------------------------------------------------

PASSWORD = "sw0rdfish-Sw0rdf1sh"


def test_serve_stops_at_a_bad_storage_url_and_does_not_print_it(tmp_path: Path) -> None:
    settings = Settings(f"sqlite://{tmp_path / 'db.sqlite3'}", tmp_path, ())
    env = server_environment(settings, SWITCHBOARD_RATE_LIMIT_STORAGE=f"redis://:{PASSWORD}@h:6379/zero")
    result = switchboard("serve", "--port", str(free_port()), env=env)
    assert result.returncode == 2
    assert "SWITCHBOARD_RATE_LIMIT_STORAGE: the path of a redis:// URL is a database number" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr


# --- in one process, on both databases ------------------------------------------------------------------------

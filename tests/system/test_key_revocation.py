"""Revocation across real processes: every worker of every server refuses a revoked key within about a second.

Servers run with a 300-second key cache, so only a notification (or, where
none can come, the one-second fallback) can explain a worker refusing a key
it has cached. Connections are spread over a server's workers by the
kernel, not by the test: each round sends many requests at once, and each
worker is told apart by the `process` of its request log lines, with the
request ids the test sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest

from models import ApiKeyScope
from resolvers.api_keys import CreateApiKeyInput, issue_key
from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.database import execute
from tests.support.secret_sweep import SWEEP
from tests.support.servers import Server, Servers, server_environment, switchboard

CACHE = {
    "SWITCHBOARD_API_KEY_CACHE_SECONDS": "300",
    # The revoked key's requests count against its address's limit of unauthenticated requests;
    # on a loaded machine polling until refused sends enough of them to meet it (429, not 401).
    "SWITCHBOARD_UNAUTHENTICATED_RATE_LIMIT": "100000",
}
ROUND = 24  # requests at once, per server
DEADLINE_SECONDS = 5.0
_ids = itertools.count()


@dataclass
class Round:
    statuses: dict[str, int] = field(default_factory=dict)  # request id -> status

    def all(self, status: int) -> bool:
        return set(self.statuses.values()) == {status}


async def one_round(server: Server, key: str, label: str, size: int = ROUND) -> Round:
    """`size` requests at once, each on a connection of its own, so the kernel hands them to different workers."""
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:

        async def ask(request_id: str) -> tuple[str, int]:
            headers = {"Authorization": f"Bearer {key}", "X-Request-ID": request_id}
            response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
            return request_id, response.status_code

        ids = [f"{label}-{next(_ids)}" for _ in range(size)]
        return Round(dict(await asyncio.gather(*(ask(i) for i in ids))))


def json_lines(server: Server) -> list[dict[str, Any]]:
    lines = []
    for line in server.log().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            lines.append(record)
    return lines


def request_lines(server: Server) -> list[dict[str, Any]]:
    return [r for r in json_lines(server) if r.get("logger") == "switchboard.request"]


def workers_that_answered(server: Server, label: str, status: int) -> set[int]:
    return {
        r["process"]
        for r in request_lines(server)
        if str(r.get("request_id", "")).startswith(f"{label}-") and r["status"] == status
    }


async def warm(servers: Iterable[Server], key: str, workers: int, label: str = "warm") -> dict[int, set[int]]:
    """Send rounds until every worker of every server has answered (and so cached) the key."""
    seen: dict[int, set[int]] = {}
    deadline = time.monotonic() + 60
    for server in servers:
        while len(seen.setdefault(server.port, set())) < workers:
            assert time.monotonic() < deadline, f"not every worker answered: {seen}"
            assert (await one_round(server, key, label)).all(200)
            seen[server.port] = workers_that_answered(server, label, 200)
    return seen


async def poll_until_refused(servers: list[Server], key: str, label: str, started: float) -> dict[int, float]:
    """Rounds on every server until a whole round is 401; the seconds after `started` each got there."""
    refused_at: dict[int, float] = {}
    while len(refused_at) < len(servers) and time.monotonic() - started < DEADLINE_SECONDS:
        rounds = await asyncio.gather(*(one_round(s, key, label) for s in servers if s.port not in refused_at))
        now = time.monotonic() - started
        for server, answered in zip([s for s in servers if s.port not in refused_at], rounds, strict=True):
            if answered.all(401):
                refused_at[server.port] = now
    return refused_at


async def confirm_every_worker_refuses(server: Server, key: str, workers: set[int], label: str) -> None:
    """Rounds until each worker has refused the key at least once; none may accept it any more."""
    deadline = time.monotonic() + 60
    while workers_that_answered(server, label, 401) != workers:
        assert time.monotonic() < deadline, (
            f"not every worker answered: {workers_that_answered(server, label, 401)} of {workers}"
        )
        answered = await one_round(server, key, label)
        assert answered.all(401), f"accepted again after being refused: {answered.statuses}"


def last_accepted_after(servers: list[Server], label: str) -> list[str]:
    return [
        r["time"]
        for s in servers
        for r in request_lines(s)
        if str(r.get("request_id", "")).startswith(f"{label}-") and r["status"] == 200
    ]


async def victim_key() -> tuple[str, str]:
    issued = await issue_key("Acme", CreateApiKeyInput("victim", [ApiKeyScope.READ]))
    SWEEP.add_secret(issued.key)
    return issued.key, str(issued.api_key.id)


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_revocation_reaches_every_worker_of_every_server(api: Api, settings: Settings, servers: Servers) -> None:
    """Two `serve` processes of two workers each, on one PostgreSQL database."""
    key, key_id = await victim_key()
    started = [servers.start(settings, **CACHE) for _ in range(2)]
    warmed = await warm(started, key, workers=2)

    # Revoked behind the servers' backs, no notification: for longer than the
    # fallback's second every worker still accepts the key from its cache.
    await execute(settings.database_url, f"UPDATE api_keys SET revoked_at = now() WHERE id = '{key_id}'")
    await asyncio.sleep(1.5)
    for server in started:
        assert (await one_round(server, key, "unnotified")).all(200), "the caches are trusted beyond the fallback"
    await execute(settings.database_url, f"UPDATE api_keys SET revoked_at = NULL WHERE id = '{key_id}'")

    async with httpx.AsyncClient(base_url=started[0].url) as client:
        revoked = await client.delete(f"/v1/api-keys/{key_id}", headers={"Authorization": f"Bearer {api.key}"})
    returned = time.monotonic()
    assert revoked.status_code == 200, revoked.text

    refused_at = await poll_until_refused(started, key, "after", returned)

    assert set(refused_at) == {s.port for s in started}, (
        f"still accepted {DEADLINE_SECONDS} s after the revocation: {refused_at}"
    )
    for server in started:
        await confirm_every_worker_refuses(server, key, warmed[server.port], "confirm")
    told = told_after_revocation(started, key_id)
    assert len(told) == 4, "each of the four workers was told by a notification"
    late = last_accepted_after(started, "after")
    print(
        f"\nrevocation propagation, 2 servers x 2 workers: each worker told "
        f"{', '.join(f'{t * 1000:.1f}' for t in sorted(told))} ms after the revoking request was logged; "
        f"a whole round of {ROUND} requests refused on every server {max(refused_at.values()) * 1000:.0f} ms "
        f"after the revocation returned; requests accepted after it returned: {len(late)}"
    )


def told_after_revocation(servers: list[Server], key_id: str) -> list[float]:
    """Seconds from the revoking request's log line to each worker's line saying it was told."""
    lines = [line for server in servers for line in request_lines(server) + told_lines(server)]
    (revoked,) = [line for line in lines if line.get("operation") == "revokeApiKey"]
    revoked_at = datetime.fromisoformat(revoked["time"])
    return [
        (datetime.fromisoformat(line["time"]) - revoked_at).total_seconds()
        for line in lines
        if line.get("api_key_id") == key_id and "no longer accepts it" in line.get("message", "")
    ]


def told_lines(server: Server) -> list[dict[str, Any]]:
    return [r for r in json_lines(server) if r.get("logger") == "switchboard"]


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_a_lost_notification_connection_is_reopened_and_revocations_still_arrive(
    api: Api, settings: Settings, servers: Servers
) -> None:
    key, key_id = await victim_key()
    server = servers.start(settings, **CACHE)
    await warm([server], key, workers=2)

    # The database drops every listener (a failover, an idle timeout, an operator).
    await execute(
        settings.database_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'switchboard key changes' AND datname = current_database()",
    )
    deadline = time.monotonic() + 30
    while server.log().count("notification connection to the database is back") < 2:
        assert time.monotonic() < deadline, server.log()[-3000:]
        await asyncio.sleep(0.1)
    # One line a worker, whether the loss showed in a heartbeat or as the connection closing.
    assert server.log().count("no notification connection to the database (") == 2, server.log()[-3000:]
    # Reconnected, each worker forgot every key (it may have missed revocations): cache the key again.
    warmed = await warm([server], key, workers=2, label="rewarm")

    # Revoked by the operator, from another process: that takes longer than the fallback's second.
    env = server_environment(settings)
    result = switchboard("revoke-api-key", key_id, env=env)
    assert result.returncode == 0, result.stderr
    returned = time.monotonic()

    refused_at = await poll_until_refused([server], key, "after-reconnect", returned)
    assert server.port in refused_at, f"still accepted {DEADLINE_SECONDS} s after the revocation"
    await confirm_every_worker_refuses(server, key, warmed[server.port], "confirm")


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_on_sqlite_a_revocation_from_the_command_line_reaches_the_server(
    api: Api, settings: Settings, servers: Servers
) -> None:
    """One worker, no notifications between processes: the server trusts a cached key for a second at most."""
    key, key_id = await victim_key()
    server = servers.start(settings, **CACHE)
    await warm([server], key, workers=1)

    result = switchboard("revoke-api-key", key_id, env=server_environment(settings))
    assert result.returncode == 0, result.stderr
    returned = time.monotonic()

    refused_at = await poll_until_refused([server], key, "after", returned)
    assert server.port in refused_at
    print(
        f"\nrevocation from the command line on SQLite: refused {refused_at[server.port] * 1000:.0f} ms after it returned"
    )

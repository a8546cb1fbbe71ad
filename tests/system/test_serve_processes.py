"""Real `switchboard serve` processes: duplicate races, SIGTERM, kill -9, logs.

On PostgreSQL the server runs two workers, on SQLite one (see
tests/support/servers.py), so races cross processes where the database allows it.
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from models.secrets import SecretBox
from resolvers.phone_numbers import secret_context
from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.database import ENCRYPTION_KEY, stored_rows
from tests.support.graphql_ops import (
    CREATE_PHONE_NUMBER,
    PHONE_NUMBER,
    SIP_PASSWORD,
    TWILIO_SID,
    TWILIO_TOKEN,
    sip_registration,
    twilio,
)
from tests.support.helpers import burst
from tests.support.servers import Servers

BURST = 40


def distinct_numbers(count: int) -> list[dict[str, Any]]:
    return [{"number": f"+1415555{i:04d}", "provider": twilio()} for i in range(count)]


def assert_complete(row: dict[str, Any]) -> None:
    """A row as a whole create writes it: every Twilio column, the token sealed for this row."""
    assert (row["provider"], row["twilio_account_sid"]) == ("twilio", TWILIO_SID)
    context = secret_context(row["id"], "twilio_auth_token_encrypted")
    assert SecretBox([ENCRYPTION_KEY]).decrypt(row["twilio_auth_token_encrypted"], context) == TWILIO_TOKEN


# --- duplicate races ------------------------------------------------------------


@dataclass(frozen=True)
class Race:
    """Many identical creates at once, and what exactly must come of them."""

    inputs: Callable[[], list[dict[str, Any]]]
    outcomes: Counter[str]
    rows: int
    distinct_ids: int = 1  # among the successes


RACES = [
    pytest.param(
        Race(
            inputs=lambda: [{"number": "+1 415 555 0123", "provider": twilio()}] * 50,
            outcomes=Counter({"created": 1, "TAKEN": 49}),
            rows=1,
        ),
        id="same-number",
    ),
    pytest.param(
        Race(
            inputs=lambda: [{"number": "+1 415 555 0123", "provider": twilio(), "idempotencyKey": "retry-7"}] * 50,
            # every retry is answered with the one number the key created
            outcomes=Counter({"created": 50}),
            rows=1,
        ),
        id="same-idempotency-key",
    ),
]


@pytest.mark.parametrize("race", RACES)
async def test_concurrent_duplicates_give_one_row_and_taken_errors(
    api: Api, settings: Settings, servers: Servers, race: Race
) -> None:
    server = servers.start(settings)

    outcomes = await burst(server, api.key, race.inputs())

    assert Counter(o.kind for o in outcomes) == race.outcomes
    assert len({o.created_id for o in outcomes if o.created_id}) == race.distinct_ids
    assert len(await stored_rows("phone_numbers")) == race.rows


# --- stopping and crashing ------------------------------------------------------


async def test_sigterm_lets_requests_in_flight_finish(api: Api, settings: Settings, servers: Servers) -> None:
    server = servers.start(settings, SWITCHBOARD_SHUTDOWN_TIMEOUT="10")

    outcomes = await burst(server, api.key, distinct_numbers(BURST), after=3, then=server.process.terminate)

    assert server.process.wait(timeout=30) == 0, server.log()
    kinds = Counter(o.kind for o in outcomes)
    assert set(kinds) <= {"created", "no response"}, kinds
    # Requests the server was already handling when told to stop got their answer.
    assert any(o.kind == "created" for o in outcomes if o.after_signal), kinds
    rows = await stored_rows("phone_numbers")
    # Every acknowledged create is stored, and nothing that was not acknowledged.
    assert {str(r["id"]) for r in rows} == {o.created_id for o in outcomes if o.created_id}
    for row in rows:
        assert_complete(row)


async def test_kill_9_loses_no_acknowledged_create(api: Api, settings: Settings, servers: Servers) -> None:
    server = servers.start(settings)

    outcomes = await burst(server, api.key, distinct_numbers(BURST), after=3, then=server.kill)

    acknowledged = {o.created_id for o in outcomes if o.created_id}
    assert len(acknowledged) >= 3
    restarted = servers.start(settings)
    async with httpx.AsyncClient(base_url=restarted.url, headers={"Authorization": f"Bearer {api.key}"}) as client:
        for phone_id in acknowledged:
            response = await client.post("/graphql", json={"query": PHONE_NUMBER, "variables": {"id": phone_id}})
            assert response.json()["data"]["phoneNumber"]["id"] == phone_id
    rows = await stored_rows("phone_numbers")
    assert acknowledged <= {str(r["id"]) for r in rows}
    # Creates cut off before their answer are either absent or whole.
    for row in rows:
        assert_complete(row)


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_shutdown_timeout_bounds_how_long_a_stuck_request_holds_the_server(
    api: Api, settings: Settings, servers: Servers
) -> None:
    server = servers.start(settings, SWITCHBOARD_SHUTDOWN_TIMEOUT="1")
    with socket.create_connection(("127.0.0.1", server.port)) as stuck:
        # An authenticated request whose body never finishes arriving keeps its handler waiting.
        stuck.sendall(
            f"POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {api.key}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{".encode()
        )
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/healthz").status_code == 200

        # Without the bound the server would wait for that body forever.
        assert server.terminate(timeout=15) == 0
    assert "timeout graceful shutdown exceeded" in server.log()


# --- logs -------------------------------------------------------------------------


async def test_one_json_line_per_request_and_no_secret_in_any_line(
    api: Api, settings: Settings, servers: Servers
) -> None:
    server = servers.start(settings)
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {api.key}"}) as client:
        twilio_create = {
            "query": CREATE_PHONE_NUMBER,
            "variables": {"input": {"number": "+14155550123", "provider": twilio()}},
        }
        first = await client.post("/graphql", json=twilio_create, headers={"X-Request-ID": "req-twilio"})
        sip_create = {
            "query": CREATE_PHONE_NUMBER,
            "variables": {"input": {"number": "+442079460958", "provider": sip_registration()}},
        }
        second = await client.post("/graphql", json=sip_create, headers={"X-Request-ID": "req-sip"})
        # A secret in the wrong place, and a duplicate: errors must not quote it either.
        wrong_shape = {
            "query": CREATE_PHONE_NUMBER,
            "variables": {"input": {"number": "+14155550123", "provider": sip_registration(port=SIP_PASSWORD)}},
        }
        third = await client.post("/graphql", json=wrong_shape, headers={"X-Request-ID": "req-wrong"})
        duplicate = await client.post("/graphql", json=twilio_create, headers={"X-Request-ID": "req-duplicate"})
        unauthenticated = await client.post(
            "/graphql", json=twilio_create, headers={"Authorization": "Bearer sb_live_wrong"}
        )
        ready = await client.get("/readyz", headers={"X-Request-ID": "req-ready"})
    assert [r.status_code for r in (first, second, third, duplicate, unauthenticated, ready)] == [
        200,
        200,
        200,
        200,
        401,
        200,
    ]
    assert [r.headers["x-request-id"] for r in (first, second, third, duplicate, ready)] == [
        "req-twilio",
        "req-sip",
        "req-wrong",
        "req-duplicate",
        "req-ready",
    ]
    assert server.terminate() == 0

    output = server.log()
    lines = [json.loads(line) for line in output.splitlines()]  # every line is JSON
    request_lines = [line for line in lines if line["logger"] == "switchboard.request"]
    requests = {line["request_id"]: line for line in request_lines}
    # One line per request: ours, and the readiness polls of servers.start.
    assert len(requests) == len(request_lines)
    assert {r.headers["x-request-id"] for r in (first, second, third, duplicate, unauthenticated, ready)} <= set(
        requests
    )
    organization_id = str((await stored_rows("organizations"))[0]["id"])
    assert {k: requests["req-twilio"][k] for k in ("organization_id", "operation", "method", "path", "status")} == {
        "organization_id": organization_id,
        "operation": "Create",
        "method": "POST",
        "path": "/graphql",
        "status": 200,
    }
    assert (requests["req-duplicate"]["operation"], requests["req-duplicate"]["status"]) == ("Create", 200)
    assert (
        requests["req-ready"]["organization_id"],
        requests["req-ready"]["operation"],
        requests["req-ready"]["path"],
    ) == (None, None, "/readyz")
    unauthenticated_line = requests[unauthenticated.headers["x-request-id"]]
    assert (unauthenticated_line["status"], unauthenticated_line["organization_id"]) == (401, None)
    for line in requests.values():
        assert isinstance(line["time"], str) and line["duration_ms"] >= 0
    for secret in (api.key, TWILIO_TOKEN, SIP_PASSWORD, ENCRYPTION_KEY):
        assert secret not in output

"""The audit log against real `switchboard serve` processes: bursts of concurrent changes, kill -9, restart.

Afterwards every committed change has exactly one event and every event its
change: each number's events count its versions one by one (so an update
that lost the compare-and-set race wrote none), and replaying each target's
events from its creation gives exactly the row the database holds; a deleted
target has its deletion event and no row, a row has none.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx

from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.audit_helpers import all_rest_events
from tests.support.database import stored_rows
from tests.support.graphql_ops import (
    CREATE_AGENT,
    CREATE_API_KEY,
    CREATE_PHONE_NUMBER,
    DELETE_AGENT,
    DELETE_PHONE_NUMBER,
    REVOKE_API_KEY,
    UPDATE_AGENT,
    UPDATE_PHONE_NUMBER,
    sip_ip_allowlist,
    twilio,
)
from tests.support.helpers import create_agent, create_number, nth_number
from tests.support.servers import Server, Servers

# Responses to wait for before the kill; the rest of the burst is in flight or not yet sent.
KILL_AFTER = 25
ROUNDS = 2

Request = tuple[str, str, dict[str, Any]]  # ("graphql", document, variables) or (method, path, body)


def graphql(document: str, input: dict[str, Any]) -> Request:
    return ("graphql", document, {"input": input})


async def prepare(api: Api, round: int) -> dict[str, Any]:
    """What the burst changes: numbers (some tied to an agent), agents, READ keys to revoke."""
    base = 100 * round
    doomed_agent = await create_agent(api, f"doomed-{round}")
    agent = await create_agent(api, f"kept-{round}")
    numbers = [await create_number(api, base + n, agentId=doomed_agent["id"] if n < 4 else None) for n in range(10)]
    keys = [
        (await api.gql(CREATE_API_KEY, {"input": {"name": f"r{round}-{n}", "scopes": ["READ"]}}))["createApiKey"][
            "apiKey"
        ]
        for n in range(3)
    ]
    return {"base": base, "doomed": doomed_agent, "agent": agent, "numbers": numbers, "keys": keys}


def burst_requests(p: dict[str, Any]) -> list[Request]:
    numbers, base = p["numbers"], p["base"]
    requests: list[Request] = []
    for n in range(20):
        input: dict[str, Any] = {
            "number": nth_number(base + 50 + n),
            "provider": twilio() if n % 2 else sip_ip_allowlist(),
        }
        if n % 3 == 0:
            input["idempotencyKey"] = f"burst-{base}-{n}"
        if n % 4 == 0:
            input["agentId"] = p["agent"]["id"]
        requests.append(graphql(CREATE_PHONE_NUMBER, input))
    for n, number in enumerate(numbers):
        # Several changes of one number at once: most lose the compare-and-set race at least once.
        for k in range(4):
            requests.append(graphql(UPDATE_PHONE_NUMBER, {"id": number["id"], "name": f"n{n}-{k}"}))
        requests.append(
            graphql(
                UPDATE_PHONE_NUMBER,
                {"id": number["id"], "provider": {"twilio": {"authToken": f"burst-token-{base}-{n}"}}},
            )
        )
        requests.append(("PATCH", f"/v1/phone-numbers/{number['id']}", {"metadata": {"k": n}}))
    for number in numbers[7:]:
        requests.append(graphql(DELETE_PHONE_NUMBER, {"id": number["id"]}))
    requests.append(graphql(DELETE_AGENT, {"id": p["doomed"]["id"]}))
    for n in range(3):
        requests.append(graphql(UPDATE_PHONE_NUMBER, {"id": numbers[n]["id"], "agentId": p["agent"]["id"]}))
        requests.append(graphql(UPDATE_AGENT, {"id": p["agent"]["id"], "name": f"agent-{n}"}))
        requests.append(graphql(CREATE_AGENT, {"name": f"new-{base}-{n}"}))
        requests.append(graphql(CREATE_API_KEY, {"name": f"burst-{base}-{n}", "scopes": ["READ"]}))
        requests.append(graphql(REVOKE_API_KEY, {"id": p["keys"][n]["id"]}))
    random.Random(base).shuffle(requests)
    return requests


async def burst(server: Server, key: str, requests: list[Request], then: Callable[[], None]) -> int:
    """Send everything at once; call `then` once KILL_AFTER answers arrived. Returns how many arrived in all."""
    answered = 0

    async def send(client: httpx.AsyncClient, request: Request) -> None:
        nonlocal answered
        kind, target, payload = request
        try:
            if kind == "graphql":
                response = await client.post("/graphql", json={"query": target, "variables": payload})
            else:
                response = await client.request(kind, target, json=payload)
        except httpx.TransportError:
            return
        assert response.status_code < 500, response.text
        answered += 1
        if answered == KILL_AFTER:
            then()

    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60, limits=limits) as client:
        await asyncio.gather(*(send(client, request) for request in requests))
    return answered


# --- what the database holds, and what its events say ---------------------------------------


def changes_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    changes = row["changes"]
    return json.loads(changes) if isinstance(changes, str) else changes


def replay(events: list[dict[str, Any]]) -> dict[str, Any]:
    """A target's fields as its events leave them, secrets left out (their values are never recorded)."""
    fields: dict[str, Any] = {}
    for event in events:
        for change in changes_of(event):
            if change["secretChanged"]:
                continue
            assert fields.get(change["field"]) == change["before"], (change, fields)
            fields[change["field"]] = change["after"]
    return {name: value for name, value in fields.items() if value is not None}


NUMBER_COLUMNS = {
    "number": "number",
    "name": "name",
    "agentId": "agent_id",
    "metadata": "metadata",
    "provider": "provider",
    "sipMode": "sip_mode",
    "accountSid": "twilio_account_sid",
    "ip": "sip_ip",
    "port": "sip_port",
    "protocol": "sip_transport",
    "version": "version",
}


def number_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A stored number in the events' terms (the burst makes Twilio and IP-allowlist numbers only)."""
    fields: dict[str, Any] = {}
    for name, column in NUMBER_COLUMNS.items():
        value = row[column]
        if isinstance(value, str) and column == "metadata":
            value = json.loads(value)
        if value is None:
            continue
        if column in ("provider", "sip_mode", "sip_transport"):
            value = value.upper()
        fields[name] = str(value) if column == "agent_id" else value
    return fields


def by_target(events: list[dict[str, Any]], order: Callable[[dict[str, Any]], Any]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in sorted(events, key=order):
        grouped[str(event["target_id"])].append(event)
    return grouped


def version_before(event: dict[str, Any]) -> int:
    """A number's events in the order of its versions: created (0), each update, deleted (the last version)."""
    (before,) = [c["before"] for c in changes_of(event) if c["field"] == "version"]
    return before or 0


def made_at(event: dict[str, Any]) -> str:
    return str(event["created_at"])


def version_chain(history: list[dict[str, Any]]) -> list[tuple[int | None, int | None]]:
    """What the events of a number must say of its versions: 1, then one more each, then deleted."""
    deleted = history[-1]["action"] == "phone_number_deleted"
    last = len(history) - 1 if deleted else len(history)
    return [(None, 1), *((v, v + 1) for v in range(1, last)), *([(last, None)] if deleted else [])]


def assert_numbers_match_their_events(rows: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    grouped = by_target([e for e in events if e["target_type"] == "phone_number"], version_before)
    stored = {str(row["id"]): row for row in rows}
    for target, history in grouped.items():
        actions = [e["action"] for e in history]
        assert actions[0] == "phone_number_created" and actions.count("phone_number_created") == 1, actions
        versions = [next((c["before"], c["after"]) for c in changes_of(e) if c["field"] == "version") for e in history]
        # One event per version, in order: no committed version without its event, none twice.
        assert versions == version_chain(history), (target, versions)
        if actions[-1] == "phone_number_deleted":
            assert target not in stored, target
            assert actions.count("phone_number_deleted") == 1
        else:
            assert target in stored, f"{target}: events of a number that was never committed"
            assert replay(history) == number_fields(stored[target]), target
    assert set(stored) <= set(grouped), "a stored number without its events"


def assert_agents_match_their_events(rows: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    grouped = by_target([e for e in events if e["target_type"] == "agent"], made_at)
    stored = {str(row["id"]): row for row in rows}
    assert set(stored) <= set(grouped)
    for target, history in grouped.items():
        actions = [e["action"] for e in history]
        assert actions[0] == "agent_created" and actions.count("agent_created") == 1, actions
        if "agent_deleted" in actions:
            assert actions[-1] == "agent_deleted" and actions.count("agent_deleted") == 1 and target not in stored
        else:
            assert replay(history) == {"name": stored[target]["name"]}


def assert_keys_match_their_events(rows: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    grouped = by_target([e for e in events if e["target_type"] == "api_key"], made_at)
    for row in rows:
        actions = [e["action"] for e in grouped.pop(str(row["id"]))]
        assert actions == (["api_key_created", "api_key_revoked"] if row["revoked_at"] else ["api_key_created"]), (
            actions
        )
    assert grouped == {}, "events of keys that were never committed"


async def test_every_committed_change_has_exactly_one_event_through_kill_9(
    api: Api, settings: Settings, servers: Servers
) -> None:
    server = servers.start(settings)
    for round in range(ROUNDS):
        requests = burst_requests(await prepare(api, round))
        answered = await burst(server, api.key or "", requests, then=server.kill)
        # Killed mid-burst: some requests were answered, others cut off or never sent.
        assert server.process.poll() is not None and KILL_AFTER <= answered < len(requests), (answered, len(requests))
        server = servers.start(settings)

    rows = {table: await stored_rows(table) for table in ("phone_numbers", "agents", "api_keys", "audit_events")}
    events = rows["audit_events"]
    assert_numbers_match_their_events(rows["phone_numbers"], events)
    assert_agents_match_their_events(rows["agents"], events)
    assert_keys_match_their_events(rows["api_keys"], events)
    # The restarted server lists them all, as they are stored.
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert len(await all_rest_events(client, api.key or "")) == len(events)

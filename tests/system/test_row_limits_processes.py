"""Rows per organization: SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION and SWITCHBOARD_MAX_AGENTS_PER_ORGANIZATION.

These are the tests that need real processes; the in-process ones are in
tests/api/test_row_limits.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from typing import Any

import pytest

from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.database import organization_counts, stored_rows
from tests.support.graphql_ops import (
    CREATE_AGENT,
    CREATE_PHONE_NUMBER,
    DELETE_AGENT,
    DELETE_PHONE_NUMBER,
    twilio,
)
from tests.support.helpers import client_of, create_number, gql, nth_number
from tests.support.rule_cases import body
from tests.support.servers import Servers

MAX_NUMBERS = 3
MAX_AGENTS = 2


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The same databases, with small limits."""
    return dataclasses.replace(
        settings, max_phone_numbers_per_organization=MAX_NUMBERS, max_agents_per_organization=MAX_AGENTS
    )


# --- phone numbers ---------------------------------------------------------------------


# --- agents -------------------------------------------------------------------------------


# --- concurrent creates at the limit, on real servers -----------------------------------------


ROUNDS = 3
# Races that went wrong in most trials before their fix; twelve catch each with near certainty.
TRIALS = 12


@pytest.mark.parametrize("keyed", [False, True], ids=["distinct-numbers", "one-idempotency-key"])
async def test_a_burst_of_creates_never_passes_the_limit(
    api: Api, settings: Settings, servers: Servers, keyed: bool
) -> None:
    # Keyed: the retries race for the last place, and must all replay the one create.
    limit, existing, burst = 6, 5 if keyed else 2, 24
    server = servers.start(settings, SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION=str(limit))
    async with client_of(server, api.key) as client:
        for n in range(existing):
            await gql(client, CREATE_PHONE_NUMBER, {"input": {"number": nth_number(n), "provider": twilio()}})
        for round in range(ROUNDS):
            if keyed:
                inputs = [
                    {"number": nth_number(100), "provider": twilio(), "idempotencyKey": f"retried-{round}"}
                ] * burst
            else:
                inputs = [{"number": nth_number(100 + n), "provider": {"voximplant": {}}} for n in range(burst)]

            answers = await asyncio.gather(*(gql(client, CREATE_PHONE_NUMBER, {"input": i}) for i in inputs))

            payloads = [a["createPhoneNumber"] for a in answers]
            outcomes = Counter(
                "created" if p["phoneNumber"] else ",".join(e["code"] for e in p["userErrors"]) for p in payloads
            )
            created = {p["phoneNumber"]["id"] for p in payloads if p["phoneNumber"]}
            if keyed:
                # One number made, every retry answered with it.
                assert (outcomes, len(created)) == (Counter({"created": burst}), 1)
            else:
                assert outcomes == Counter({"created": limit - existing, "LIMIT_REACHED": burst - (limit - existing)})
            assert len(await stored_rows("phone_numbers")) == existing + len(created)
            counted, stored = await organization_counts()
            assert counted == stored
            for id in created:  # room again for the next round
                await gql(client, DELETE_PHONE_NUMBER, {"input": {"id": id}})


async def test_a_burst_of_agents_never_passes_the_limit(api: Api, settings: Settings, servers: Servers) -> None:
    limit, burst = 4, 16
    server = servers.start(settings, SWITCHBOARD_MAX_AGENTS_PER_ORGANIZATION=str(limit))
    async with client_of(server, api.key) as client:
        for _ in range(ROUNDS):
            answers = await asyncio.gather(
                *(gql(client, CREATE_AGENT, {"input": {"name": f"Agent {n}"}}) for n in range(burst))
            )

            agents = [a["createAgent"]["agent"] for a in answers if a["createAgent"]["agent"]]
            outcomes = Counter(
                "created" if a["createAgent"]["agent"] else a["createAgent"]["userErrors"][0]["code"] for a in answers
            )
            assert outcomes == Counter({"created": limit, "LIMIT_REACHED": burst - limit})
            assert len(await stored_rows("agents")) == limit
            counted, stored = await organization_counts()
            assert counted == stored
            for agent in agents:
                await gql(client, DELETE_AGENT, {"input": {"id": agent["id"]}})


async def test_creates_and_deletes_at_once_keep_the_counts_equal_to_the_rows(
    api: Api, settings: Settings, servers: Servers
) -> None:
    """Creates and deletes of numbers and agents in flight together, over both APIs: the counts end equal to the rows."""
    limit = 8
    server = servers.start(settings, SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION=str(limit))
    async with client_of(server, api.key) as client:

        async def create(number: str, agent_id: str | None = None) -> bool:
            input = {"number": number, "provider": twilio(), "agentId": agent_id}
            payload = (await gql(client, CREATE_PHONE_NUMBER, {"input": input}))["createPhoneNumber"]
            # An agent deleted meanwhile is not found.
            codes = [e["code"] for e in payload["userErrors"]]
            assert payload["phoneNumber"] or codes in (["LIMIT_REACHED"], ["NOT_FOUND"]), payload
            return payload["phoneNumber"] is not None

        async def create_over_rest(number: str) -> bool:
            response = await client.post("/v1/phone-numbers", json=body(number=number))
            assert response.status_code in (201, 409), response.text
            return response.status_code == 201

        async def delete(id: str) -> None:
            payload = (await gql(client, DELETE_PHONE_NUMBER, {"input": {"id": id}}))["deletePhoneNumber"]
            assert payload == {"deletedId": id, "userErrors": []}

        async def delete_over_rest(id: str) -> None:
            assert (await client.delete(f"/v1/phone-numbers/{id}")).status_code == 204

        async def create_agent(name: str) -> None:
            payload = (await gql(client, CREATE_AGENT, {"input": {"name": name}}))["createAgent"]
            assert payload["agent"] or [e["code"] for e in payload["userErrors"]] == ["LIMIT_REACHED"], payload

        async def delete_agent(id: str) -> None:
            assert (await gql(client, DELETE_AGENT, {"input": {"id": id}}))["deleteAgent"]["deletedId"] == id

        for n in range(MAX_AGENTS):
            await create_agent(f"Agent {n}")
        agents = [str(row["id"]) for row in await stored_rows("agents")]
        for n in range(limit):
            assert await create(nth_number(n), agents[n % MAX_AGENTS])
        made = 0
        for round in range(ROUNDS):
            ids = [str(row["id"]) for row in await stored_rows("phone_numbers")]
            agents = [str(row["id"]) for row in await stored_rows("agents")]
            first = 100 * (round + 1)

            outcomes = await asyncio.gather(
                *(create(nth_number(first + n), agents[0] if n % 2 and agents else None) for n in range(limit)),
                *(create_over_rest(nth_number(first + 50 + n)) for n in range(limit // 2)),
                *(delete(id) for id in ids[::2]),
                *(delete_over_rest(id) for id in ids[1::2]),
                *(delete_agent(id) for id in agents[-1:]),
                create_agent(f"Agent {round + MAX_AGENTS}"),
            )

            made += sum(outcome is True for outcome in outcomes)
            counted, stored = await organization_counts()
            assert counted == stored
            # How many creates find room depends on how the requests interleave; never more than the limit.
            assert len(await stored_rows("phone_numbers")) <= limit
        assert made > 0, "no create found room in any round: the race was never run"


async def test_a_limit_lowered_below_the_count_refuses_creates_until_rows_are_deleted(
    api: Api, settings: Settings, servers: Servers
) -> None:
    ids = [(await create_number(api, n))["id"] for n in range(MAX_NUMBERS)]
    server = servers.start(settings, SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION="2")
    async with client_of(server, api.key) as client:

        async def create() -> list[dict[str, Any]]:
            input = {"number": nth_number(10), "provider": twilio()}
            return (await gql(client, CREATE_PHONE_NUMBER, {"input": input}))["createPhoneNumber"]["userErrors"]

        full = "This organization has reached its limit of 2 phone numbers: delete one before creating another"
        assert await create() == [{"field": ["input"], "code": "LIMIT_REACHED", "message": full}]
        await gql(client, DELETE_PHONE_NUMBER, {"input": {"id": ids[0]}})
        assert [e["code"] for e in await create()] == ["LIMIT_REACHED"]
        await gql(client, DELETE_PHONE_NUMBER, {"input": {"id": ids[1]}})
        assert await create() == []
    assert len(await stored_rows("phone_numbers")) == 2


async def test_a_number_created_again_while_it_is_deleted_is_taken_or_created(
    api: Api, settings: Settings, servers: Servers
) -> None:
    """Taken (the create came first) or created (the delete did), never an error, and counted either way."""
    server = servers.start(settings)
    async with client_of(server, api.key) as client:
        for trial in range(TRIALS):
            input = {"number": nth_number(trial), "provider": twilio()}
            first = (await gql(client, CREATE_PHONE_NUMBER, {"input": input}))["createPhoneNumber"]["phoneNumber"]

            create, delete = await asyncio.gather(
                gql(client, CREATE_PHONE_NUMBER, {"input": input}),
                gql(client, DELETE_PHONE_NUMBER, {"input": {"id": first["id"]}}),
            )

            assert delete["deletePhoneNumber"] == {"deletedId": first["id"], "userErrors": []}
            payload = create["createPhoneNumber"]
            numbers = [r for r in await stored_rows("phone_numbers") if r["number"] == nth_number(trial)]
            if payload["phoneNumber"] is None:
                assert [e["code"] for e in payload["userErrors"]] == ["TAKEN"]
                assert numbers == []
            else:
                assert [str(r["id"]) for r in numbers] == [payload["phoneNumber"]["id"]]
            counted, stored = await organization_counts()
            assert counted == stored


# --- settings ---------------------------------------------------------------------------------

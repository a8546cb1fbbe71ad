"""Rows per organization: SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION and SWITCHBOARD_MAX_AGENTS_PER_ORGANIZATION.

These are the tests that need real processes; the in-process ones are in
tests/api/test_row_limits.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

import pytest

from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import (
    CREATE_AGENT,
    CREATE_PHONE_NUMBER,
    DELETE_AGENT,
    DELETE_PHONE_NUMBER,
    twilio,
)
from tests.support.helpers import client_of, gql, nth_number
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
            for agent in agents:
                await gql(client, DELETE_AGENT, {"input": {"id": agent["id"]}})


# --- settings ---------------------------------------------------------------------------------

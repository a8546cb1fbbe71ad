"""Cursors of phoneNumbers, agents, Agent.phoneNumbers and apiKeys: signed, opaque, bounded; any other `after` is
a BAD_USER_INPUT error naming it, never a 500.

An attacker holds a valid key and sends whatever `after` it likes: the
payloads below are what it can build knowing how cursors used to look
(base64 of a JSON array of list, organization id, time and row id).

These are the tests that need real processes; the in-process ones are in tests/api/test_cursors.py.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from models import Organization
from models.secrets import generate_key
from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.database import ENCRYPTION_KEY
from tests.support.graphql_ops import LIST_AGENTS, LIST_PHONE_NUMBERS
from tests.support.helpers import create_agent, create_number
from tests.support.servers import Servers

NOT_A_CURSOR = "after is not a cursor returned by this API"

API_KEYS = """
query ApiKeys($after: String) { apiKeys(first: 1, after: $after) { pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }
"""

AGENT_NUMBERS = """
query AgentNumbers($id: ID!, $after: String) {
  agent(id: $id) { phoneNumbers(first: 1, after: $after) { pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }
}
"""


@dataclass
class Lists:
    """The caller's organization, one agent with two numbers, and a real cursor of each list."""

    organization: uuid.UUID
    agent: str
    numbers: list[str]  # newest first
    cursors: dict[str, str]


@pytest.fixture
async def lists(api: Api) -> Lists:
    agent = await create_agent(api, "A")
    await create_agent(api, "B")
    numbers = [(await create_number(api, n, agentId=agent["id"]))["id"] for n in range(3)][::-1]
    organization = (await Organization.get(name="Acme")).id
    cursors = {
        "phoneNumbers": (await api.gql(LIST_PHONE_NUMBERS, {"first": 1}))["phoneNumbers"]["pageInfo"]["endCursor"],
        "agents": (await api.gql(LIST_AGENTS, {"first": 1}))["agents"]["pageInfo"]["endCursor"],
        "agentPhoneNumbers": (await api.gql(AGENT_NUMBERS, {"id": agent["id"]}))["agent"]["phoneNumbers"]["pageInfo"][
            "endCursor"
        ],
        "apiKeys": (await api.gql(API_KEYS))["apiKeys"]["pageInfo"]["endCursor"],
    }
    return Lists(organization, agent["id"], numbers, cursors)


async def read(
    api: Api, lists: Lists, list_name: str, after: Any, *, client: httpx.AsyncClient | None = None
) -> httpx.Response:
    """One page of the named list, after `after`."""
    query, variables = {
        "phoneNumbers": (LIST_PHONE_NUMBERS, {"first": 1, "after": after}),
        "agents": (LIST_AGENTS, {"first": 1, "after": after}),
        "agentPhoneNumbers": (AGENT_NUMBERS, {"id": lists.agent, "after": after}),
        "apiKeys": (API_KEYS, {"after": after}),
    }[list_name]
    if client is None:
        return await api.post(query, variables)
    return await client.post("/graphql", json={"query": query, "variables": variables})


async def test_cursors_hold_across_servers_and_key_rotation(
    api: Api, lists: Lists, settings: Settings, servers: Servers
) -> None:
    """Every server with the same keys reads the others' cursors; after a new key is put first, cursors made
    under the old one still read on; once the old key is gone they are refused as any unknown cursor."""
    new_key = generate_key()
    old_only = servers.start(settings)
    rotating = servers.start(dataclasses.replace(settings, encryption_keys=(new_key, ENCRYPTION_KEY)))
    new_only = servers.start(dataclasses.replace(settings, encryption_keys=(new_key,)))
    headers = {"Authorization": f"Bearer {api.key}"}

    async def next_ids(server_url: str, after: str) -> Any:
        async with httpx.AsyncClient(base_url=server_url, headers=headers) as client:
            body = (await read(api, lists, "phoneNumbers", after, client=client)).json()
        if "errors" in body:
            return body["errors"][0]["message"], body["errors"][0]["extensions"]
        return [e["node"]["id"] for e in body["data"]["phoneNumbers"]["edges"]]

    async with httpx.AsyncClient(base_url=old_only.url, headers=headers) as client:
        old_cursor = (await read(api, lists, "phoneNumbers", None, client=client)).json()["data"]["phoneNumbers"][
            "pageInfo"
        ]["endCursor"]
    async with httpx.AsyncClient(base_url=rotating.url, headers=headers) as client:
        new_cursor = (await read(api, lists, "phoneNumbers", None, client=client)).json()["data"]["phoneNumbers"][
            "pageInfo"
        ]["endCursor"]

    assert await next_ids(old_only.url, old_cursor) == [lists.numbers[1]]
    assert await next_ids(rotating.url, old_cursor) == [lists.numbers[1]]
    assert await next_ids(new_only.url, new_cursor) == [lists.numbers[1]]
    assert await next_ids(new_only.url, old_cursor) == (NOT_A_CURSOR, {"code": "BAD_USER_INPUT", "argument": "after"})
    assert await next_ids(old_only.url, new_cursor) == (NOT_A_CURSOR, {"code": "BAD_USER_INPUT", "argument": "after"})

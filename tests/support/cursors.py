"""The lists whose cursors the cursor tests read, in process and across servers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from models import Organization
from tests.support.app import Api
from tests.support.graphql_ops import LIST_AGENTS, LIST_PHONE_NUMBERS
from tests.support.helpers import create_agent, create_number

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


async def make_lists(api: Api) -> Lists:
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

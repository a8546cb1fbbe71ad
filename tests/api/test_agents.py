"""createAgent and agent(id)."""

from __future__ import annotations

import uuid

import pytest

from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import AGENT, CREATE_AGENT


async def test_create_and_read_agent(api: Api) -> None:
    payload = (await api.gql(CREATE_AGENT, {"input": {"name": "  Receptionist  "}}))["createAgent"]
    assert payload["userErrors"] == []
    agent = payload["agent"]
    assert agent["name"] == "Receptionist"
    assert (await api.gql(AGENT, {"id": agent["id"]}))["agent"] == agent


@pytest.mark.parametrize(
    ("name", "code"),
    [
        pytest.param("", "BLANK", id="empty"),
        pytest.param("   ", "BLANK", id="blank"),
        pytest.param("a" * 101, "TOO_LONG", id="101"),
    ],
)
async def test_agent_name_rules(api: Api, name: str, code: str) -> None:
    payload = (await api.gql(CREATE_AGENT, {"input": {"name": name}}))["createAgent"]
    assert payload["agent"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "name"], code)]
    assert await stored_rows("agents") == []


async def test_agent_name_of_100_characters_after_trimming_is_accepted(api: Api) -> None:
    payload = (await api.gql(CREATE_AGENT, {"input": {"name": " " + "a" * 100 + " "}}))["createAgent"]
    assert payload["userErrors"] == [] and payload["agent"]["name"] == "a" * 100


async def test_agent_of_another_organization_reads_as_null(api: Api, other_key: str) -> None:
    agent = (await api.gql(CREATE_AGENT, {"input": {"name": "Mine"}}))["createAgent"]["agent"]
    assert (await api.gql(AGENT, {"id": agent["id"]}, key=other_key)) == {"agent": None}
    assert (await api.gql(AGENT, {"id": str(uuid.uuid4())})) == {"agent": None}

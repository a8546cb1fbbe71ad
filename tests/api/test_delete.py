"""deletePhoneNumber, updateAgent, deleteAgent."""

from __future__ import annotations

import uuid

from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import AGENT, DELETE_AGENT, DELETE_PHONE_NUMBER, PHONE_NUMBER, UPDATE_AGENT
from tests.support.helpers import create_agent, create_number


async def test_delete_then_read(api: Api) -> None:
    created = await create_number(api, 1)
    kept = await create_number(api, 2)
    payload = (await api.gql(DELETE_PHONE_NUMBER, {"input": {"id": created["id"]}}))["deletePhoneNumber"]
    assert payload == {"deletedId": created["id"], "userErrors": []}
    assert (await api.gql(PHONE_NUMBER, {"id": created["id"]})) == {"phoneNumber": None}
    assert [str(r["id"]) for r in await stored_rows("phone_numbers")] == [kept["id"]]

    again = (await api.gql(DELETE_PHONE_NUMBER, {"input": {"id": created["id"]}}))["deletePhoneNumber"]
    assert again == {
        "deletedId": None,
        "userErrors": [
            {"field": ["input", "id"], "code": "NOT_FOUND", "message": f"Phone number {created['id']} does not exist"}
        ],
    }


async def test_number_can_be_registered_again_after_delete(api: Api) -> None:
    created = await create_number(api, 1)
    await api.gql(DELETE_PHONE_NUMBER, {"input": {"id": created["id"]}})
    assert (await create_number(api, 1))["number"] == created["number"]


async def test_update_agent(api: Api) -> None:
    agent = await create_agent(api, "Old")
    payload = (await api.gql(UPDATE_AGENT, {"input": {"id": agent["id"], "name": "  New  "}}))["updateAgent"]
    assert payload == {"agent": {**agent, "name": "New"}, "userErrors": []}
    bad = (await api.gql(UPDATE_AGENT, {"input": {"id": agent["id"], "name": " "}}))["updateAgent"]
    assert [(e["field"], e["code"]) for e in bad["userErrors"]] == [(["input", "name"], "BLANK")]
    assert (await api.gql(AGENT, {"id": agent["id"]}))["agent"]["name"] == "New"
    missing = str(uuid.uuid4())
    unknown = (await api.gql(UPDATE_AGENT, {"input": {"id": missing, "name": "X"}}))["updateAgent"]
    assert unknown["userErrors"] == [
        {"field": ["input", "id"], "code": "NOT_FOUND", "message": f"Agent {missing} does not exist"}
    ]


async def test_deleting_an_agent_leaves_its_numbers_untied(api: Api) -> None:
    agent = await create_agent(api)
    number = await create_number(api, 1, agentId=agent["id"])
    payload = (await api.gql(DELETE_AGENT, {"input": {"id": agent["id"]}}))["deleteAgent"]
    assert payload == {"deletedId": agent["id"], "userErrors": []}
    assert (await api.gql(AGENT, {"id": agent["id"]})) == {"agent": None}
    read = (await api.gql(PHONE_NUMBER, {"id": number["id"]}))["phoneNumber"]
    assert read["agentId"] is None and read["agent"] is None
    (row,) = await stored_rows("phone_numbers")
    assert row["agent_id"] is None


async def test_deleting_an_unknown_agent_is_not_found(api: Api) -> None:
    payload = (await api.gql(DELETE_AGENT, {"input": {"id": "nope"}}))["deleteAgent"]
    assert payload == {
        "deletedId": None,
        "userErrors": [{"field": ["input", "id"], "code": "NOT_FOUND", "message": "Agent nope does not exist"}],
    }

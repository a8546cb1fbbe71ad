"""Small helpers for building data through the API."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.graphql_ops import CREATE_AGENT, CREATE_PHONE_NUMBER, twilio

# Valid numbers of one block, for tests that need many distinct ones.
def nth_number(n: int) -> str:
    return f"+1415555{n:04d}"


async def create_number(api: Api, n: int = 0, *, key: str | None = None, **fields: Any) -> dict[str, Any]:
    input = {"number": nth_number(n), "provider": twilio(), **fields}
    payload = (await api.gql(CREATE_PHONE_NUMBER, {"input": input}, key=key))["createPhoneNumber"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["phoneNumber"]


async def create_agent(api: Api, name: str = "Receptionist", *, key: str | None = None) -> dict[str, Any]:
    payload = (await api.gql(CREATE_AGENT, {"input": {"name": name}}, key=key))["createAgent"]
    assert payload["userErrors"] == []
    return payload["agent"]

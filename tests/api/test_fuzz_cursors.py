"""Hostile `after` values for every list, through HTTP into the app.

hypothesis sends arbitrary text, base64 of arbitrary bytes and of hostile
JSON, and real cursors with bytes changed, cut or added. Whatever comes in:
no 5xx, no masked internal error; the real cursor reads on, anything else is
a BAD_USER_INPUT error naming `after` (or, for text JSON cannot carry, the
request is refused as a whole). Derandomized, so CI runs the same examples.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from switchboard.http.limits import MAX_BODY_BYTES
from switchboard.settings import Settings
from tests.support.app import Api, unthrottled
from tests.support.graphql_ops import LIST_AGENTS, LIST_PHONE_NUMBERS
from tests.support.helpers import create_agent, create_number
from tests.support.strategies import any_json, hostile_text, to_json

# Examples per database: the Hypothesis profile's (conftest.py), 1,000 under "ci", 100 under "dev".
FUZZ = hypothesis_settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return unthrottled(settings)


AGENT_NUMBERS = "query ($id: ID!, $after: String) { agent(id: $id) { phoneNumbers(first: 1, after: $after) { edges { node { id } } } } }"
REFUSALS = {
    "after is not a cursor returned by this API",
    "after must be at most 256 characters",
    "after is a cursor of another list, not of phone_numbers",
    "after is a cursor of another list, not of agents",
    "after is a cursor of another list, not of agent_phone_numbers",
}
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Mutation:
    """Changes to a real cursor's bytes: XOR one byte, then keep `keep` bytes and add `extra`."""

    index: int
    mask: int
    keep: int
    extra: bytes

    def apply(self, raw: bytes) -> bytes:
        index = self.index % len(raw)
        changed = raw[:index] + bytes([raw[index] ^ self.mask]) + raw[index + 1 :]
        return changed[: self.keep] + self.extra


@dataclass(frozen=True)
class RealCursor:
    """The real cursor of one of the lists, perhaps another than the one read."""

    list_name: str


mutations = st.builds(Mutation, st.integers(0, 200), st.integers(0, 255), st.integers(0, 200), st.binary(max_size=8))
afters = st.one_of(
    hostile_text,
    st.binary(max_size=300).map(b64),
    any_json.map(lambda value: b64(to_json(value).encode("utf-8", "surrogatepass"))),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=", max_size=300),
    mutations,
    st.builds(RealCursor, st.sampled_from(["phoneNumbers", "agents", "agentPhoneNumbers"])),
)
lists = st.sampled_from(["phoneNumbers", "agents", "agentPhoneNumbers"])


@dataclass
class Catalogue:
    agent: str
    cursors: dict[str, str]


@pytest.fixture
async def catalogue(api: Api) -> Catalogue:
    agent = (await create_agent(api, "A"))["id"]
    await create_agent(api, "B")
    for n in range(3):
        await create_number(api, n, agentId=agent)
    cursors = {}
    for name, query, variables in (
        ("phoneNumbers", LIST_PHONE_NUMBERS, {"first": 1}),
        ("agents", LIST_AGENTS, {"first": 1}),
        ("agentPhoneNumbers", AGENT_NUMBERS.replace("edges {", "pageInfo { endCursor } edges {"), {"id": agent}),
    ):
        data = await api.gql(query, variables)
        connection = data["agent"]["phoneNumbers"] if name == "agentPhoneNumbers" else data[name]
        cursors[name] = connection["pageInfo"]["endCursor"]
    return Catalogue(agent, cursors)


@FUZZ
@given(list_name=lists, after=afters)
async def test_any_after_is_read_on_or_refused_naming_it(
    api: Api, catalogue: Catalogue, list_name: str, after: Any
) -> None:
    if isinstance(after, Mutation):
        after = b64(after.apply(unb64(catalogue.cursors[list_name])))
    if isinstance(after, RealCursor):
        after = catalogue.cursors[after.list_name]
    query, variables = {
        "phoneNumbers": (LIST_PHONE_NUMBERS, {"first": 1, "after": after}),
        "agents": (LIST_AGENTS, {"first": 1, "after": after}),
        "agentPhoneNumbers": (AGENT_NUMBERS, {"id": catalogue.agent, "after": after}),
    }[list_name]
    content = to_json({"query": query, "variables": variables}).encode()
    response = await api.client.post(
        "/graphql", content=content, headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.text
    body = response.json()
    if len(content) > MAX_BODY_BYTES:
        assert response.status_code == 413, body
        event("body over the limit: refused as a request")
        return
    if after == catalogue.cursors[list_name]:
        assert "errors" not in body, body
        event("a real cursor")
        return
    if any(0xD800 <= ord(c) <= 0xDFFF for c in after):
        assert response.status_code == 400 and body["errors"], body
        event("not Unicode text: refused as a request")
        return
    assert response.status_code == 200, body
    (error,) = body["errors"]
    assert error["message"] in REFUSALS, body
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}, body
    event(error["message"])

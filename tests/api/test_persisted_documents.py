"""Documents sent by their SHA-256, as Apollo's persisted-queries link sends them (switchboard/http/persisted.py)."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from tests.support.app import Api

CREATE_AGENT = (
    "mutation Persisted($name: String!) { createAgent(input: {name: $name}) { agent { name } userErrors { code } } }"
)
AGENTS = "query PersistedAgents { agents(first: 10) { edges { node { name } } } }"
GRAPHQL_JSON = "application/graphql-response+json"


def digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted(sha256: str, version: Any = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256}}


async def send(api: Api, body: dict[str, Any], accept: str = "application/json") -> httpx.Response:
    return await api.client.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {api.key}", "Accept": accept}
    )


async def agent_names(api: Api) -> list[str]:
    data = await api.gql(AGENTS)
    return [edge["node"]["name"] for edge in data["agents"]["edges"]]


@pytest.mark.parametrize(("accept", "status"), [("application/json", 200), (GRAPHQL_JSON, 400)])
async def test_an_unknown_hash_is_answered_not_found_and_nothing_runs(api: Api, accept: str, status: int) -> None:
    query = CREATE_AGENT.replace("Persisted", f"Persisted{status}")
    response = await send(api, {"extensions": persisted(digest(query)), "variables": {"name": "Ada"}}, accept)
    assert response.status_code == status
    assert response.headers["content-type"] == accept
    assert response.json() == {
        "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    }
    assert await agent_names(api) == []


async def test_a_document_sent_once_with_its_hash_runs_by_its_hash_afterwards(api: Api) -> None:
    query = CREATE_AGENT.replace("Persisted", "PersistedTwice")
    first = await send(api, {"query": query, "variables": {"name": "Ada"}, "extensions": persisted(digest(query))})
    assert first.json() == {"data": {"createAgent": {"agent": {"name": "Ada"}, "userErrors": []}}}
    for name in ("Bo", "Cy"):
        again = await send(api, {"variables": {"name": name}, "extensions": persisted(digest(query))})
        assert again.status_code == 200
        assert again.json() == {"data": {"createAgent": {"agent": {"name": name}, "userErrors": []}}}
    assert sorted(await agent_names(api)) == ["Ada", "Bo", "Cy"]


async def test_a_hash_that_is_not_the_documents_is_refused_and_nothing_runs(api: Api) -> None:
    query = CREATE_AGENT.replace("Persisted", "PersistedWrong")
    response = await send(
        api, {"query": query, "variables": {"name": "Ada"}, "extensions": persisted(digest(AGENTS))}, GRAPHQL_JSON
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    assert "sha256Hash" in response.json()["errors"][0]["message"]
    assert await agent_names(api) == []
    # Nor was the wrong hash registered for it.
    by_hash = await send(api, {"extensions": persisted(digest(AGENTS))})
    assert by_hash.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "extension",
    [persisted("a" * 64, version=2), persisted("A" * 64), persisted("a" * 63), {"persistedQuery": "a" * 64}],
    ids=["version 2", "upper case", "short", "not an object"],
)
async def test_a_malformed_persisted_query_extension_is_refused(api: Api, extension: dict[str, Any]) -> None:
    response = await send(api, {"extensions": extension}, GRAPHQL_JSON)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "persistedQuery must be {version: 1, sha256Hash: <64 lowercase hex digits>}",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }

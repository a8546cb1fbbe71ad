"""A manifest of persisted documents known from start-up, and servers that run only those.

SWITCHBOARD_PERSISTED_DOCUMENTS and SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY
(switchboard/http/persisted.py); the manifest is GraphQL Code Generator's
persisted-documents.json. The documents sent by hash without a manifest are
in test_persisted_documents.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from schema.cost import REQUEST_COST
from schema.limits import largest_charge, text_size
from switchboard.settings import Settings, SettingsError
from tests.support.app import Api, api_client, running_app
from tests.support.graphql_ops import HEALTH_CHANGED
from tests.support.subscriptions import asgi_client, bearer, connected

CREATE_AGENT = "mutation TrustedCreate($name: String!) { createAgent(input: {name: $name}) { agent { name } } }"
AGENTS = "query TrustedAgents { agents(first: 10) { edges { node { name } } } }"
AD_HOC_AGENTS = "query AdHoc { agents(first: 10) { edges { node { name } } } }"
AD_HOC_CREATE = 'mutation AdHocCreate { createAgent(input: {name: "Eve"}) { agent { name } } }'
GRAPHQL_JSON = "application/graphql-response+json"
TRUSTED_ONLY = "This server runs only the documents of its manifest (trusted documents); "


def digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest(query)}}


def write_manifest(path: Path, *documents: str) -> Path:
    """A manifest as GraphQL Code Generator's client preset writes it: sha256:<hash> to text."""
    path.write_text(json.dumps({f"sha256:{digest(document)}": document for document in documents}))
    return path


def with_manifest(settings: Settings, manifest: Path, *, trusted_only: bool = False) -> Settings:
    return dataclasses.replace(settings, persisted_documents=manifest, trusted_documents_only=trusted_only)


@pytest.fixture(params=[False, True], ids=["manifest", "trusted-only"])
async def manifest_api(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> AsyncIterator[Api]:
    manifest = write_manifest(tmp_path / "persisted-documents.json", CREATE_AGENT, AGENTS)
    async with (
        running_app(with_manifest(settings, manifest, trusted_only=request.param)) as app,
        api_client(app) as api,
    ):
        yield api


@pytest.fixture
async def trusted_api(settings: Settings, tmp_path: Path) -> AsyncIterator[Api]:
    manifest = write_manifest(tmp_path / "persisted-documents.json", CREATE_AGENT, AGENTS)
    async with running_app(with_manifest(settings, manifest, trusted_only=True)) as app, api_client(app) as api:
        yield api


async def send(api: Api, body: dict[str, Any], accept: str = "application/json") -> httpx.Response:
    return await api.client.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {api.key}", "Accept": accept}
    )


async def get(api: Api, params: dict[str, Any], accept: str = "application/json") -> httpx.Response:
    encoded = {name: value if isinstance(value, str) else json.dumps(value) for name, value in params.items()}
    return await api.client.get(
        f"/graphql?{urlencode(encoded)}", headers={"Authorization": f"Bearer {api.key}", "Accept": accept}
    )


async def agent_names(api: Api) -> list[str]:
    # A manifest's document, sent as its text, runs in every mode.
    response = await send(api, {"query": AGENTS})
    assert response.status_code == 200, response.text
    return sorted(edge["node"]["name"] for edge in response.json()["data"]["agents"]["edges"])


# --- A manifest's documents are known from start-up --------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    [
        {"extensions": persisted(CREATE_AGENT)},
        {"documentId": f"sha256:{digest(CREATE_AGENT)}"},
        {"documentId": digest(CREATE_AGENT)},
    ],
    ids=["apollo persistedQuery", "documentId sha256:", "documentId hex"],
)
async def test_a_manifest_document_runs_by_its_hash_over_post(manifest_api: Api, reference: dict[str, Any]) -> None:
    response = await send(manifest_api, {**reference, "variables": {"name": "Ada"}})
    assert response.status_code == 200
    assert response.json() == {"data": {"createAgent": {"agent": {"name": "Ada"}}}}
    assert await agent_names(manifest_api) == ["Ada"]


@pytest.mark.parametrize(
    "reference",
    [{"extensions": persisted(AGENTS)}, {"documentId": f"sha256:{digest(AGENTS)}"}],
    ids=["apollo persistedQuery", "documentId"],
)
async def test_a_manifest_query_runs_by_its_hash_over_get(manifest_api: Api, reference: dict[str, Any]) -> None:
    await send(manifest_api, {"documentId": digest(CREATE_AGENT), "variables": {"name": "Ada"}})
    response = await get(manifest_api, {**reference, "operationName": "TrustedAgents"}, GRAPHQL_JSON)
    assert response.status_code == 200
    assert response.json() == {"data": {"agents": {"edges": [{"node": {"name": "Ada"}}]}}}


async def test_a_manifest_mutation_by_its_hash_over_get_is_refused_405_and_creates_nothing(manifest_api: Api) -> None:
    response = await get(manifest_api, {"documentId": digest(CREATE_AGENT), "variables": {"name": "Ada"}}, GRAPHQL_JSON)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"] == {"code": "METHOD_NOT_ALLOWED"}
    assert await agent_names(manifest_api) == []


async def test_a_manifest_document_is_never_forgotten_for_registered_ones(settings: Settings, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "persisted-documents.json", AGENTS)
    async with running_app(with_manifest(settings, manifest)) as app, api_client(app) as api:
        # More registered documents than each worker holds (256): the first of them is forgotten.
        registered = [f"query Registered{n} {{ __typename }}" for n in range(260)]
        for query in registered:
            response = await send(api, {"query": query, "extensions": persisted(query)})
            assert response.json() == {"data": {"__typename": "Query"}}
        forgotten = await send(api, {"extensions": persisted(registered[0])})
        assert forgotten.json()["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
        assert (await send(api, {"extensions": persisted(AGENTS)})).json() == {"data": {"agents": {"edges": []}}}


# Near the longest document taken: parsing it the first time would cost 1,400 units.
PADDED = "query Padded { __typename }\n# " + "x" * 13_970
PADDED_COST = 1  # __typename


@pytest.mark.parametrize("introspection", [True, False], ids=["introspection", "no introspection"])
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_manifest_documents_plan_is_made_at_start_up(
    settings: Settings, tmp_path: Path, introspection: bool, method: str
) -> None:
    """Its first run is not charged parsing and validating it: only the request and its cost, every time.

    POST runs it on the direct path (switchboard/http/execution.py), GET through Strawberry's: the plan made
    at start-up must be the one each finds, under the validation rules its operations run with.
    """
    manifest = write_manifest(tmp_path / "persisted-documents.json", PADDED)
    budget = largest_charge(1_000)
    limited = dataclasses.replace(
        with_manifest(settings, manifest),
        introspection=introspection,
        rate_limit=0.001,
        rate_limit_burst=budget,
        max_query_cost=1_000,
    )
    async with running_app(limited) as app, api_client(app) as api:
        runs = 0
        reference = {"documentId": digest(PADDED)}
        while (response := await (send if method == "POST" else get)(api, reference)).status_code == 200:
            assert response.json() == {"data": {"__typename": "Query"}}
            runs += 1
        assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert runs == budget // (REQUEST_COST + PADDED_COST) == 50
    # Were its plan made on its first run, that run would cost 1,400 units more: 22 runs in all.
    assert 1 + (budget - REQUEST_COST - text_size(PADDED) - PADDED_COST) // (REQUEST_COST + PADDED_COST) == 22


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ({"documentId": "sha256:" + "A" * 64}, "documentId must be sha256:<64 lowercase hex digits>"),
        ({"documentId": "md5:" + "a" * 32}, "documentId must be sha256:<64 lowercase hex digits>"),
        ({"documentId": 7}, "documentId must be sha256:<64 lowercase hex digits>"),
        (
            {"documentId": digest(AGENTS), "query": AGENTS},
            "documentId stands for the document: send it without query or extensions.persistedQuery",
        ),
    ],
    ids=["upper case", "another algorithm", "not a string", "with a query"],
)
async def test_a_malformed_document_id_is_refused(manifest_api: Api, reference: dict[str, Any], message: str) -> None:
    response = await send(manifest_api, reference, GRAPHQL_JSON)
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}


async def test_a_null_document_id_is_no_document_id(api: Api) -> None:
    response = await send(api, {"query": AGENTS, "documentId": None})
    assert (response.status_code, response.json()) == (200, {"data": {"agents": {"edges": []}}})


async def test_an_unknown_document_id_is_not_found_without_trusted_only(api: Api) -> None:
    response = await send(api, {"documentId": f"sha256:{digest(AD_HOC_CREATE)}"}, GRAPHQL_JSON)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    }
    assert await agent_names(api) == []


async def test_a_document_registered_over_post_runs_by_its_hash_over_get(api: Api) -> None:
    registered = await send(api, {"query": AGENTS, "extensions": persisted(AGENTS)})
    assert registered.json() == {"data": {"agents": {"edges": []}}}
    response = await get(api, {"extensions": persisted(AGENTS)})
    assert (response.status_code, response.json()) == (200, {"data": {"agents": {"edges": []}}})


# --- Trusted documents only ---------------------------------------------------------------------------------


def refusal(what: str) -> dict[str, Any]:
    return {"errors": [{"message": TRUSTED_ONLY + what, "extensions": {"code": "TRUSTED_DOCUMENTS_ONLY"}}]}


NOT_ONE = "this document is not one of them"
NO_HASH = "no document of it has this hash"


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ({"query": AD_HOC_CREATE}, NOT_ONE),
        ({"query": AD_HOC_CREATE, "extensions": persisted(AD_HOC_CREATE)}, NOT_ONE),
        ({"extensions": persisted(AD_HOC_CREATE)}, NO_HASH),
        ({"documentId": f"sha256:{digest(AD_HOC_CREATE)}"}, NO_HASH),
        ({"query": "{ __schema { types { name } } }"}, NOT_ONE),
        ({"query": "{ not a document"}, NOT_ONE),
    ],
    ids=["text", "text with its hash", "unknown hash", "unknown documentId", "introspection", "not even GraphQL"],
)
@pytest.mark.parametrize(("accept", "status"), [(GRAPHQL_JSON, 400), ("application/json", 200)])
async def test_trusted_only_refuses_any_other_document_and_runs_nothing(
    trusted_api: Api, body: dict[str, Any], what: str, accept: str, status: int
) -> None:
    response = await send(trusted_api, body, accept)
    assert (response.status_code, response.headers["content-type"]) == (status, accept)
    assert response.json() == refusal(what)
    assert await agent_names(trusted_api) == []


async def test_trusted_only_registers_nothing(trusted_api: Api) -> None:
    await send(trusted_api, {"query": AD_HOC_AGENTS, "extensions": persisted(AD_HOC_AGENTS)})
    again = await send(trusted_api, {"extensions": persisted(AD_HOC_AGENTS)})
    assert again.json() == refusal(NO_HASH)


async def test_trusted_only_runs_a_manifest_document_sent_as_text(trusted_api: Api) -> None:
    response = await send(trusted_api, {"query": CREATE_AGENT, "variables": {"name": "Ada"}})
    assert response.json() == {"data": {"createAgent": {"agent": {"name": "Ada"}}}}
    assert await agent_names(trusted_api) == ["Ada"]


@pytest.mark.parametrize(
    ("params", "what"),
    [({"query": AD_HOC_AGENTS}, NOT_ONE), ({"documentId": digest(AD_HOC_AGENTS)}, NO_HASH)],
    ids=["text", "unknown hash"],
)
async def test_trusted_only_refuses_other_documents_over_get(
    trusted_api: Api, params: dict[str, Any], what: str
) -> None:
    response = await get(trusted_api, params, GRAPHQL_JSON)
    assert response.status_code == 400
    assert response.json() == refusal(what)


async def test_trusted_only_serves_no_graphiql_page(settings: Settings, tmp_path: Path) -> None:
    """GraphiQL's own introspection query is not in the manifest: the page could do nothing."""
    manifest = write_manifest(tmp_path / "persisted-documents.json", AGENTS)
    for trusted_only, status in ((False, 200), (True, 404)):
        trusted = with_manifest(settings, manifest, trusted_only=trusted_only)
        async with running_app(trusted) as app, api_client(app) as api:
            response = await api.client.get("/graphql", headers={"Accept": "text/html"})
            assert response.status_code == status
            assert ("<title>Switchboard GraphiQL" in response.text) is (not trusted_only)


async def test_trusted_only_refuses_other_subscriptions_over_websocket(settings: Settings, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "persisted-documents.json", AGENTS, HEALTH_CHANGED)
    trusted = with_manifest(settings, manifest, trusted_only=True)
    async with running_app(trusted) as app, api_client(app) as api, asgi_client(app) as client, connected(client) as ws:
        assert (await ws.init(bearer(api.key)))["type"] == "connection_ack"
        await ws.subscribe("other", query=HEALTH_CHANGED.strip())
        message = await ws.receive()
        assert message == {"id": "other", "type": "error", "payload": refusal(NOT_ONE)["errors"]}
        await ws.subscribe("trusted", query=HEALTH_CHANGED)
        await ws.nothing_within(0.3)


# --- Start-up ----------------------------------------------------------------------------------------------


def configured(tmp_path: Path, **environ: str) -> Settings:
    return Settings.from_env({"SWITCHBOARD_DATA_DIR": str(tmp_path), **environ})


def test_the_manifest_is_read_from_the_environment(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "persisted-documents.json", AGENTS)
    settings = configured(
        tmp_path, SWITCHBOARD_PERSISTED_DOCUMENTS=str(manifest), SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY="true"
    )
    assert (settings.persisted_documents, settings.trusted_documents_only) == (manifest, True)
    assert settings.manifest == {digest(AGENTS): AGENTS}
    assert configured(tmp_path).trusted_documents_only is False


def test_trusted_only_without_a_manifest_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        configured(tmp_path, SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY="true")
    assert str(refused.value) == (
        "SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY is true, but SWITCHBOARD_PERSISTED_DOCUMENTS is not set: "
        "set it to the manifest of the documents to run (persisted-documents.json)"
    )


def test_trusted_only_takes_true_or_false(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY must be 'true' or 'false', got 'yes'"):
        configured(tmp_path, SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY="yes")


FORMAT = (
    "a JSON object mapping each document's SHA-256 (sha256:<64 lowercase hex digits>, or the digits alone) "
    "to its text, as GraphQL Code Generator's client preset writes persisted-documents.json"
)


INVALID = "query Invalid { agents(first: 1) { nope } }"
UNPARSED = "query Unparsed { agents(first: 1) "
SHA1 = hashlib.sha1(AGENTS.encode()).hexdigest()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            json.dumps({f"sha256:{digest(AGENTS)}": AGENTS, f"sha256:{digest(AGENTS)[::-1]}": AD_HOC_AGENTS}),
            f"PATH: the entry sha256:{digest(AGENTS)[::-1]} is not its document's SHA-256, "
            f"which is sha256:{digest(AD_HOC_AGENTS)}",
        ),
        (json.dumps({SHA1: AGENTS}), f"PATH: the key {SHA1!r} is not a SHA-256; it must be {FORMAT}"),
        (
            json.dumps({digest(AGENTS): 7}),
            f"PATH: the entry {digest(AGENTS)} is not a document's text; it must be {FORMAT}",
        ),
        (json.dumps([AGENTS]), f"PATH holds no documents; it must be {FORMAT}"),
        ("{}", f"PATH holds no documents; it must be {FORMAT}"),
        (
            "{'a': 1}",
            "PATH is not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1)); "
            f"it must be {FORMAT}",
        ),
        (
            json.dumps({digest(AD_HOC_CREATE): AD_HOC_CREATE, digest(INVALID): INVALID}),
            f"PATH: the document sha256:{digest(INVALID)} cannot run on this server: "
            "Cannot query field 'nope' on type 'AgentConnection'.",
        ),
        (
            json.dumps({digest(UNPARSED): UNPARSED}),
            f"PATH: the document sha256:{digest(UNPARSED)} cannot run on this server: Syntax Error: Expected Name, found <EOF>.",
        ),
    ],
    ids=[
        "hash mismatch",
        "sha1",
        "not text",
        "not an object",
        "empty",
        "not JSON",
        "does not validate",
        "does not parse",
    ],
)
def test_a_manifest_that_cannot_be_used_refuses_to_start(tmp_path: Path, content: str, message: str) -> None:
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(content)
    with pytest.raises(SettingsError) as refused:
        configured(tmp_path, SWITCHBOARD_PERSISTED_DOCUMENTS=str(manifest))
    assert str(refused.value) == "SWITCHBOARD_PERSISTED_DOCUMENTS: " + message.replace("PATH", str(manifest))


def test_an_unreadable_manifest_refuses_to_start(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(SettingsError) as refused:
        configured(tmp_path, SWITCHBOARD_PERSISTED_DOCUMENTS=str(missing))
    assert str(refused.value) == f"SWITCHBOARD_PERSISTED_DOCUMENTS: cannot read {missing}: No such file or directory"

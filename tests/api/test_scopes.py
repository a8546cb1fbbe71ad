"""API key scopes: each scope against every operation, over GraphQL and REST, on both databases.

The operations come from the schema and the OpenAPI document: a new root
field or REST operation without a declared scope, or without a case here,
fails the declaration tests. The scopes expected below are the issue's
words, written out independently of schema/scopes.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from models import ApiKeyScope
from resolvers.api_keys import CreateApiKeyInput, issue_key
from schema import schema
from schema.scopes import ROOT_FIELD_SCOPES, needed_scope
from switchboard.rest.openapi import openapi_document
from switchboard.rest.scopes import REST_OPERATIONS
from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import (
    AGENT,
    AUDIT_EVENTS,
    CREATE_AGENT,
    CREATE_API_KEY,
    CREATE_PHONE_NUMBER,
    DELETE_AGENT,
    DELETE_PHONE_NUMBER,
    LIST_AGENTS,
    LIST_API_KEYS,
    LIST_PHONE_NUMBERS,
    NODE,
    NODES,
    PHONE_NUMBER,
    REVOKE_API_KEY,
    UPDATE_AGENT,
    UPDATE_PHONE_NUMBER,
    VERIFY_PHONE_NUMBER,
    VIEWER,
    twilio,
)
from tests.support.subscriptions import asgi_client, bearer, connected

READ, WRITE, ADMIN = ApiKeyScope.READ, ApiKeyScope.WRITE, ApiKeyScope.ADMIN
MISSING = "00000000-0000-4000-8000-00000000dead"
TABLES = ("phone_numbers", "agents", "api_keys", "audit_events")


@dataclass(frozen=True)
class GraphQLCase:
    needs: ApiKeyScope
    document: str
    variables: dict[str, Any]


GRAPHQL_CASES: dict[str, GraphQLCase] = {
    "Query.phoneNumber": GraphQLCase(READ, PHONE_NUMBER, {"id": MISSING}),
    "Query.phoneNumbers": GraphQLCase(READ, LIST_PHONE_NUMBERS, {}),
    "Query.agent": GraphQLCase(READ, AGENT, {"id": MISSING}),
    "Query.agents": GraphQLCase(READ, LIST_AGENTS, {}),
    "Query.viewer": GraphQLCase(READ, VIEWER, {}),
    "Query.node": GraphQLCase(READ, NODE, {"id": MISSING}),
    "Query.nodes": GraphQLCase(READ, NODES, {"ids": [MISSING]}),
    "Query.apiKeys": GraphQLCase(ADMIN, LIST_API_KEYS, {}),
    "Query.auditEvents": GraphQLCase(ADMIN, AUDIT_EVENTS, {}),
    "Mutation.createPhoneNumber": GraphQLCase(
        WRITE, CREATE_PHONE_NUMBER, {"input": {"number": "+14155550123", "provider": twilio()}}
    ),
    "Mutation.updatePhoneNumber": GraphQLCase(WRITE, UPDATE_PHONE_NUMBER, {"input": {"id": MISSING, "name": "x"}}),
    "Mutation.deletePhoneNumber": GraphQLCase(WRITE, DELETE_PHONE_NUMBER, {"input": {"id": MISSING}}),
    "Mutation.verifyPhoneNumber": GraphQLCase(WRITE, VERIFY_PHONE_NUMBER, {"input": {"id": MISSING}}),
    "Mutation.createAgent": GraphQLCase(WRITE, CREATE_AGENT, {"input": {"name": "Receptionist"}}),
    "Mutation.updateAgent": GraphQLCase(WRITE, UPDATE_AGENT, {"input": {"id": MISSING, "name": "x"}}),
    "Mutation.deleteAgent": GraphQLCase(WRITE, DELETE_AGENT, {"input": {"id": MISSING}}),
    "Mutation.createApiKey": GraphQLCase(ADMIN, CREATE_API_KEY, {"input": {"name": "ci", "scopes": ["READ"]}}),
    "Mutation.revokeApiKey": GraphQLCase(ADMIN, REVOKE_API_KEY, {"input": {"id": MISSING}}),
}


@dataclass(frozen=True)
class RestCase:
    needs: ApiKeyScope
    method: str
    path: str
    body: dict[str, Any] | None = None


REST_CASES: dict[str, RestCase] = {
    "listPhoneNumbers": RestCase(READ, "GET", "/v1/phone-numbers"),
    "getPhoneNumber": RestCase(READ, "GET", f"/v1/phone-numbers/{MISSING}"),
    "createPhoneNumber": RestCase(
        WRITE, "POST", "/v1/phone-numbers", {"number": "+14155550123", "provider": "voximplant"}
    ),
    "updatePhoneNumber": RestCase(WRITE, "PATCH", f"/v1/phone-numbers/{MISSING}", {"name": "x"}),
    "deletePhoneNumber": RestCase(WRITE, "DELETE", f"/v1/phone-numbers/{MISSING}"),
    "verifyPhoneNumber": RestCase(WRITE, "POST", f"/v1/phone-numbers/{MISSING}/verify"),
    "listApiKeys": RestCase(ADMIN, "GET", "/v1/api-keys"),
    "createApiKey": RestCase(ADMIN, "POST", "/v1/api-keys", {"name": "ci", "scopes": ["read"]}),
    "revokeApiKey": RestCase(ADMIN, "DELETE", f"/v1/api-keys/{MISSING}"),
    "listAuditEvents": RestCase(ADMIN, "GET", "/v1/audit-events"),
}

# What each scope may do, in the issue's words: READ queries; WRITE also
# changes numbers and agents; ADMIN everything.
GRANTS = {READ: {READ}, WRITE: {READ, WRITE}, ADMIN: {READ, WRITE, ADMIN}}


def schema_root_fields() -> set[str]:
    graphql_schema = schema._schema
    roots = [graphql_schema.query_type, graphql_schema.mutation_type, graphql_schema.subscription_type]
    return {f"{root.name}.{name}" for root in roots if root is not None for name in root.fields}


def openapi_operations() -> set[str]:
    return {
        operation["operationId"]
        for path in openapi_document()["paths"].values()
        for method, operation in path.items()
        if method != "parameters"
    }


# --- one declaration, complete ------------------------------------------------------


def test_every_root_field_declares_a_scope() -> None:
    assert set(ROOT_FIELD_SCOPES) == schema_root_fields(), "declare each root field's scope in schema/scopes.py"


# Subscriptions run over WebSocket, not HTTP: their cases are below.
SUBSCRIPTION_CASES: dict[str, ApiKeyScope] = {"Subscription.phoneNumberHealthChanged": READ}


def test_every_root_field_has_a_case_here() -> None:
    assert set(GRAPHQL_CASES) | set(SUBSCRIPTION_CASES) == schema_root_fields(), "add a case for each new root field"


@pytest.mark.parametrize("operation", sorted(SUBSCRIPTION_CASES))
async def test_each_scope_against_each_subscription(app: Any, api: Api, operation: str) -> None:
    needs = SUBSCRIPTION_CASES[operation]
    keys = await keys_by_scope()
    async with asgi_client(app) as client:
        for scope, key in keys.items():
            async with connected(client) as ws:
                assert (await ws.init(bearer(key)))["type"] == "connection_ack"
                await ws.subscribe("s")
                if needs in GRANTS[scope]:
                    await ws.nothing_within(0.3)  # open, and waiting for changes
                else:
                    message = await ws.receive()
                    assert message["type"] in ("next", "error") and "FORBIDDEN" in str(message), (scope, message)


def test_every_rest_operation_declares_a_scope_and_has_a_case() -> None:
    assert set(REST_OPERATIONS) == openapi_operations(), (
        "map each REST operation to its GraphQL field in switchboard/rest/scopes.py"
    )
    assert set(REST_CASES) == openapi_operations(), "add a case for each new REST operation"
    assert set(REST_OPERATIONS.values()) <= set(ROOT_FIELD_SCOPES)


def test_a_field_nobody_declared_needs_admin() -> None:
    assert needed_scope("Mutation.somethingNew") is ADMIN


# --- each scope against every operation ---------------------------------------------


async def keys_by_scope() -> dict[ApiKeyScope, str]:
    """A key of each scope, all of Acme (the `api` fixture's organization)."""
    return {
        scope: (await issue_key("Acme", CreateApiKeyInput(scope.name.lower(), [scope]))).key for scope in ApiKeyScope
    }


async def snapshot() -> dict[str, int]:
    return {table: len(await stored_rows(table)) for table in TABLES}


@pytest.mark.parametrize("operation", sorted(GRAPHQL_CASES))
async def test_each_scope_against_each_graphql_operation(api: Api, operation: str) -> None:
    case = GRAPHQL_CASES[operation]
    field = operation.split(".")[1]
    keys = await keys_by_scope()
    for scope, key in keys.items():
        before = await snapshot()
        response = await api.post(case.document, case.variables, key=key)
        body = response.json()
        if case.needs in GRANTS[scope]:
            assert response.status_code == 200, (scope, body)
            assert "errors" not in body and field in body["data"], (scope, body)
        else:
            assert response.status_code == 403, (scope, body)
            assert "data" not in body, "nothing ran"
            (error,) = body["errors"]
            assert error["extensions"] == {"code": "FORBIDDEN", "requiredScope": case.needs.name, "field": field}
            assert error["message"] == f"This API key lacks the {case.needs.name} scope, which {field} needs"
            assert await snapshot() == before, "a refused operation changes nothing"


@pytest.mark.parametrize("operation", sorted(REST_CASES))
async def test_each_scope_against_each_rest_operation(api: Api, operation: str) -> None:
    case = REST_CASES[operation]
    keys = await keys_by_scope()
    for scope, key in keys.items():
        before = await snapshot()
        response = await api.client.request(
            case.method, case.path, json=case.body, headers={"Authorization": f"Bearer {key}"}
        )
        if case.needs in GRANTS[scope]:
            assert response.status_code not in (401, 403), (scope, response.text)
        else:
            assert response.status_code == 403, (scope, response.text)
            assert response.json() == {
                "error": f"This API key lacks the {case.needs.name} scope, which {operation} needs",
                "details": [],
            }
            assert await snapshot() == before, "a refused request changes nothing"


# --- the whole operation is checked before any of it runs --------------------------


MIXED = """
mutation Mixed {
  createAgent(input: {name: "Allowed for WRITE"}) { agent { id } userErrors { code } }
  createApiKey(input: {name: "not for WRITE", scopes: [ADMIN]}) { secret userErrors { code } }
}
"""


async def test_an_operation_with_one_forbidden_field_runs_none_of_its_fields(api: Api) -> None:
    keys = await keys_by_scope()
    before = await snapshot()

    response = await api.post(MIXED, key=keys[WRITE])

    assert response.status_code == 403
    assert [e["extensions"]["field"] for e in response.json()["errors"]] == ["createApiKey"]
    assert await snapshot() == before, "not even the allowed createAgent ran"


@pytest.mark.parametrize(
    "document",
    [
        pytest.param("query { ...Keys } fragment Keys on Query { apiKeys { totalCount } }", id="fragment-spread"),
        pytest.param("query { ... on Query { apiKeys { totalCount } } }", id="inline-fragment"),
        pytest.param("query { agents { totalCount } k: apiKeys { totalCount } }", id="alias-beside-an-allowed-field"),
        pytest.param("query { apiKeys @skip(if: true) { totalCount } }", id="skipped-field"),
        pytest.param("query A { agents { totalCount } } query B { apiKeys { totalCount } }", id="operation-by-name"),
    ],
)
async def test_fields_hidden_in_fragments_aliases_and_directives_are_checked(api: Api, document: str) -> None:
    keys = await keys_by_scope()
    payload = {"query": document, "operationName": "B"} if "query B" in document else {"query": document}

    response = await api.client.post("/graphql", json=payload, headers={"Authorization": f"Bearer {keys[READ]}"})

    assert response.status_code == 403, response.text
    assert {e["extensions"]["requiredScope"] for e in response.json()["errors"]} == {"ADMIN"}


async def test_the_allowed_operation_of_a_document_runs(api: Api) -> None:
    keys = await keys_by_scope()
    document = "query A { agents { totalCount } } query B { apiKeys { totalCount } }"
    response = await api.client.post(
        "/graphql", json={"query": document, "operationName": "A"}, headers={"Authorization": f"Bearer {keys[READ]}"}
    )
    assert response.json() == {"data": {"agents": {"totalCount": 0}}}


async def test_every_key_may_ask_for_typename_and_introspect(api: Api) -> None:
    keys = await keys_by_scope()
    response = await api.post("{ __typename __schema { queryType { name } } }", key=keys[READ])
    assert response.json() == {"data": {"__typename": "Query", "__schema": {"queryType": {"name": "Query"}}}}


async def test_forbidden_under_graphql_response_json_is_403_without_data(api: Api) -> None:
    keys = await keys_by_scope()
    response = await api.client.post(
        "/graphql",
        json={"query": "{ apiKeys { totalCount } }"},
        headers={"Authorization": f"Bearer {keys[WRITE]}", "Accept": "application/graphql-response+json"},
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert "data" not in response.json()

"""Where Switchboard meets Strawberry's internals, and what fails when Strawberry changes underneath.

The view (switchboard/http.py) overrides members of Strawberry's ASGI view
and runs known documents on graphql-core itself (switchboard/http/execution.py)
with pieces of Strawberry's schema. Each such member must still exist with
the parameters the override or the call relies on, and the direct path must
answer exactly what Strawberry's path answers: every kind of request below
goes through both and is compared byte for byte.
"""

from __future__ import annotations

import dataclasses
import inspect
import uuid
from typing import Any

import httpx
import pytest
import strawberry
from strawberry.asgi import GraphQL
from strawberry.schema.base import BaseSchema

from models import ApiKeyScope
from resolvers.api_keys import CreateApiKeyInput, issue_key
from switchboard.http import execution
from tests.support.app import Api
from tests.support.secret_sweep import SWEEP

# What each member of Strawberry's view that the view overrides (or, the last, calls) takes.
VIEW_MEMBERS = {
    "__call__": ["self", "scope", "receive", "send"],
    "run": ["self", "request", "context", "root_value"],
    "get_context": ["self", "request", "response"],
    "get_sub_response": ["self", "request"],
    "parse_http_body": ["self", "request"],
    "process_result": ["self", "request", "result"],
    "create_response": ["self", "response_data", "sub_response"],
    "encode_json": ["self", "data"],
    "parse_json": ["self", "data"],
    "should_render_graphql_ide": ["self", "request"],
}


@pytest.mark.parametrize(("member", "parameters"), VIEW_MEMBERS.items())
def test_each_view_member_the_view_overrides_is_still_strawberrys_with_the_same_parameters(
    member: str, parameters: list[str]
) -> None:
    theirs = next(vars(base)[member] for base in GraphQL.__mro__ if member in vars(base))
    assert list(inspect.signature(theirs).parameters) == parameters


def test_the_pieces_of_strawberrys_schema_the_direct_path_uses_are_there() -> None:
    from graphql import GraphQLSchema
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    from schema import create_schema

    schema = create_schema()
    assert isinstance(schema._schema, GraphQLSchema)
    # Its executor takes `operation_extensions` as a keyword, which graphql-core's execute passes on.
    assert schema.execution_context_class is StrawberryGraphQLCoreExecutionContext
    assert "operation_extensions" in inspect.getsource(StrawberryGraphQLCoreExecutionContext.__init__)
    assert list(inspect.signature(BaseSchema.process_errors).parameters) == ["self", "errors", "execution_context"]
    assert list(inspect.signature(BaseSchema.remove_field_suggestion).parameters) == ["error"]
    assert isinstance(schema.config.disable_field_suggestions, bool)
    # The validation rules the plans are made with are the ones an operation runs with.
    assert "validation_rules" in {f.name for f in dataclasses.fields(strawberry.types.ExecutionContext)}


def test_the_websocket_handler_the_view_extends_is_still_strawberrys() -> None:
    """TransportWSHandler refuses a subscribe message outside the manifest, or hands it to Strawberry's handler."""
    from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

    from switchboard.http.view import GraphQLView, TransportWSHandler

    assert GraphQLView.graphql_transport_ws_handler_class is TransportWSHandler
    assert list(inspect.signature(BaseGraphQLTransportWSHandler.handle_subscribe).parameters) == ["self", "message"]
    init = inspect.getsource(BaseGraphQLTransportWSHandler.__init__)
    assert "self.view = view" in init and "self.connection_acknowledged = False" in init


def test_the_rules_manifest_plans_are_made_with_are_strawberrys() -> None:
    """A manifest's plans are made before any operation runs, with the rules an operation will run with."""
    from graphql import specified_rules
    from graphql.validation import NoSchemaIntrospectionCustomRule
    from strawberry.extensions import DisableIntrospection

    assert strawberry.types.ExecutionContext(query="", schema=None, allowed_operations=()).validation_rules == tuple(  # type: ignore[arg-type]
        specified_rules
    )
    assert DisableIntrospection().validation_rules == [NoSchemaIntrospectionCustomRule]


PAGE = (
    "query Page($first: Int!) { phoneNumbers(first: $first) { pageInfo { hasNextPage } edges { node { number name provider "
    "config { __typename ... on TwilioConfig { accountSid authTokenSet } } agent { name } } } } }"
)
CREATE = (
    "mutation Create($input: CreatePhoneNumberInput!) { createPhoneNumber(input: $input) "
    "{ phoneNumber { number name } userErrors { field code message } } }"
)
TWILIO = {"twilio": {"accountSid": "AC" + "0123456789abcdef" * 2, "authToken": "seam-auth-token-0123456789abcdef"}}
TOO_COSTLY = "{ agents(first: 100) { edges { node { phoneNumbers(first: 100) { edges { node { number } } } } } } }"
TWO_OPERATIONS = "query A { viewer { organization { name } } } query B { __typename }"

# (body, headers): each kind of request the direct path answers, or hands to Strawberry.
CASES: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "a page with configurations and agents": ({"query": PAGE, "variables": {"first": 10}}, {}),
    "the same under graphql-response+json": (
        {"query": PAGE, "variables": {"first": 10}},
        {"Accept": "application/graphql-response+json"},
    ),
    "a variable that does not coerce": (
        {"query": PAGE, "variables": {"first": "ten"}},
        {"Accept": "application/graphql-response+json"},
    ),
    "a variable left out, legacy JSON": ({"query": PAGE}, {"Accept": "application/json"}),
    "a document over the cost limit": ({"query": TOO_COSTLY}, {"Accept": "application/graphql-response+json"}),
    "one of two operations, by name": ({"query": TWO_OPERATIONS, "operationName": "A"}, {}),
    "two operations and no name": ({"query": TWO_OPERATIONS}, {}),
    "an unknown operation name": ({"query": TWO_OPERATIONS, "operationName": "C"}, {}),
    "request extensions": ({"query": TWO_OPERATIONS, "operationName": "B", "extensions": {"x": 1}}, {}),
    "variables that are not an object": ({"query": PAGE, "variables": [1]}, {}),
    "a mutation refused with user errors": (
        {"query": CREATE, "variables": {"input": {"number": "+1 not a number", "provider": TWILIO}}},
        {},
    ),
    "a dry run": (
        {"query": CREATE, "variables": {"input": {"number": "+14155550199", "provider": TWILIO, "dryRun": True}}},
        {"Accept": "*/*"},
    ),
}


async def answers(
    api: Api, monkeypatch: pytest.MonkeyPatch, body: dict[str, Any], headers: dict[str, str], *, direct: bool, key: str
) -> httpx.Response:
    """The answer of the direct path, or of Strawberry's when the direct path takes no request."""
    with monkeypatch.context() as patch:
        if not direct:
            patch.setattr(execution, "known_operation", lambda *args: None)
        return await api.client.post(
            "/graphql", json=body, headers={"Authorization": f"Bearer {key}", "X-Request-ID": "seam-1", **headers}
        )


def same(strawberrys: httpx.Response, direct: httpx.Response) -> None:
    assert direct.status_code == strawberrys.status_code
    assert direct.content == strawberrys.content
    for header in ("content-type", "content-length", "retry-after"):
        assert direct.headers.get(header) == strawberrys.headers.get(header), header


async def seed(api: Api) -> None:
    agent = await api.gql('mutation { createAgent(input: {name: "Ada"}) { agent { id } } }')
    agent_id = agent["createAgent"]["agent"]["id"]
    for n, agent_of in enumerate([agent_id, None, agent_id]):
        variables = {
            "input": {"number": f"+1415555010{n}", "provider": TWILIO, **({"agentId": agent_of} if agent_of else {})}
        }
        data = await api.gql(CREATE, variables)
        assert data["createPhoneNumber"]["userErrors"] == []


@pytest.mark.parametrize("case", CASES)
async def test_a_known_document_answers_the_same_run_directly_as_through_strawberry(
    api: Api, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    await seed(api)
    body, headers = CASES[case]
    first = await answers(
        api, monkeypatch, body, headers, direct=True, key=api.key
    )  # made the plan, through Strawberry
    strawberrys = await answers(api, monkeypatch, body, headers, direct=False, key=api.key)
    direct = await answers(api, monkeypatch, body, headers, direct=True, key=api.key)
    same(strawberrys, direct)
    same(first, direct)


async def test_a_scope_refusal_answers_the_same_run_directly(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = (await issue_key("Acme", CreateApiKeyInput("reader", [ApiKeyScope.READ]))).key
    SWEEP.add_secret(reader)
    body = {"query": 'mutation { createAgent(input: {name: "Bo"}) { agent { name } } }'}
    await answers(api, monkeypatch, body, {}, direct=True, key=reader)
    strawberrys = await answers(api, monkeypatch, body, {}, direct=False, key=reader)
    direct = await answers(api, monkeypatch, body, {}, direct=True, key=reader)
    assert direct.status_code == 403
    same(strawberrys, direct)


async def test_a_resolver_failure_is_masked_the_same_run_directly(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    import schema.phone_numbers.types

    await seed(api)

    def fail(row: Any) -> Any:
        raise RuntimeError("SELECT secret FROM somewhere")

    monkeypatch.setattr(schema.phone_numbers.types, "_config", fail)
    body = {"query": PAGE, "variables": {"first": 2}}
    await answers(api, monkeypatch, body, {}, direct=True, key=api.key)
    strawberrys = await answers(api, monkeypatch, body, {}, direct=False, key=api.key)
    direct = await answers(api, monkeypatch, body, {}, direct=True, key=api.key)
    assert b"SELECT secret" not in direct.content and b"INTERNAL_SERVER_ERROR" in direct.content
    same(strawberrys, direct)


async def test_known_documents_skip_strawberrys_execute_and_new_ones_go_through_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    execute = strawberry.Schema.execute

    async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(args[0] if args else kwargs.get("query"))
        return await execute(self, *args, **kwargs)

    monkeypatch.setattr(strawberry.Schema, "execute", counted)
    # A document of its own: the schema, and its plans, outlive one app.
    query = f"query Seam{uuid.uuid4().hex} {{ viewer {{ organization {{ name }} }} }}"
    for _ in range(3):
        assert (await api.gql(query))["viewer"]["organization"]["name"] == "Acme"
    assert calls == [query]

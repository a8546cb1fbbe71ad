"""GraphQL over HTTP: media types, status codes, GET, and what the endpoint refuses.

tests/system/test_graphql_over_http_audit.py runs the reference audit against a live
server; these cases pin each rule exactly, through the ASGI app.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import CREATE_PHONE_NUMBER, twilio

JSON = "application/json"
GRAPHQL_JSON = "application/graphql-response+json"
CREATE = {"input": {"number": "+14155550123", "provider": twilio()}}


async def post(api: Api, body: Any, *, accept: str | None = None, content_type: str = JSON) -> Any:
    headers = {"Authorization": f"Bearer {api.key}", "Content-Type": content_type}
    if accept is not None:
        headers["Accept"] = accept
    content = body if isinstance(body, (str, bytes)) else None
    return await api.client.post(
        "/graphql", headers=headers, content=content, json=None if content is not None else body
    )


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        pytest.param(None, JSON, id="no-accept"),
        pytest.param("*/*", JSON, id="anything"),
        pytest.param("application/*", JSON, id="any-application"),
        pytest.param(JSON, JSON, id="json"),
        pytest.param(GRAPHQL_JSON, GRAPHQL_JSON, id="graphql-response-json"),
        pytest.param(f"{GRAPHQL_JSON}, {JSON};q=0.9", GRAPHQL_JSON, id="preferred-by-weight"),
        pytest.param(f"{JSON}, {GRAPHQL_JSON};q=0.5", JSON, id="json-preferred-by-weight"),
        pytest.param("text/plain", JSON, id="neither"),
        pytest.param("not a media type", JSON, id="malformed"),
    ],
)
async def test_the_response_media_type_follows_accept(api: Api, accept: str | None, media_type: str) -> None:
    response = await post(api, {"query": "{ __typename }"}, accept=accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.json() == {"data": {"__typename": "Query"}}


REQUEST_ERRORS = [
    pytest.param({"query": "{"}, "Syntax Error: Expected Name, found <EOF>.", id="parse"),
    pytest.param({"query": "{ missing }"}, "Cannot query field 'missing' on type 'Query'.", id="validation"),
    pytest.param(
        {"query": "query($id: ID!) { phoneNumber(id: $id) { id } }", "variables": {"id": None}},
        "Variable '$id' has invalid value: Expected value of non-null type 'ID!' not to be None.",
        id="variable-coercion",
    ),
]


@pytest.mark.parametrize(("body", "message"), REQUEST_ERRORS)
@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_JSON, 400)])
async def test_request_errors_have_no_data_and_a_status_by_media_type(
    api: Api, body: dict[str, Any], message: str, accept: str, status: int
) -> None:
    response = await post(api, body, accept=accept)
    assert (response.status_code, response.headers["content-type"]) == (status, accept)
    payload = response.json()
    assert "data" not in payload
    assert [error["message"] for error in payload["errors"]] == [message]


async def test_field_errors_keep_data_and_200_under_graphql_response_json(api: Api) -> None:
    # A failing resolver is a field error: the operation ran, so data is there.
    from tortoise import connections

    created = await api.gql(CREATE_PHONE_NUMBER, CREATE)
    await connections.get("default").execute_query("UPDATE phone_numbers SET provider = 'fax'")
    phone_id = created["createPhoneNumber"]["phoneNumber"]["id"]
    response = await post(api, {"query": f'{{ phoneNumber(id: "{phone_id}") {{ id provider }} }}'}, accept=GRAPHQL_JSON)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"phoneNumber": None}
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"


async def test_queries_run_over_get(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={
            "query": "query($id: ID!) { phoneNumber(id: $id) { id } }",
            "variables": '{"id": "00000000-0000-4000-8000-000000000000"}',
        },
        headers={"Authorization": f"Bearer {api.key}", "Accept": GRAPHQL_JSON},
    )
    assert (response.status_code, response.headers["content-type"]) == (200, GRAPHQL_JSON)
    assert response.json() == {"data": {"phoneNumber": None}}


async def test_mutations_over_get_are_405_and_run_nothing(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": 'mutation { createAgent(input: {name: "By GET"}) { agent { id } } }'},
        headers={"Authorization": f"Bearer {api.key}", "Accept": JSON},
    )
    assert (response.status_code, response.headers["allow"]) == (405, "POST")
    assert response.json() == {
        "errors": [
            {"message": "mutations are not allowed when using GET", "extensions": {"code": "METHOD_NOT_ALLOWED"}}
        ]
    }
    assert await stored_rows("agents") == []


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_methods_are_405(api: Api, method: str) -> None:
    response = await api.client.request(
        method, "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {api.key}"}
    )
    assert (response.status_code, response.headers["allow"]) == (405, "GET, POST")
    assert response.json()["errors"][0]["extensions"] == {"code": "METHOD_NOT_ALLOWED"}


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        pytest.param('{"query": "{ __typename', JSON, 400, "Unable to parse request body as JSON", id="broken-json"),
        pytest.param({"variables": {}}, JSON, 400, "No GraphQL query found in the request", id="no-query"),
        pytest.param(
            [{"query": "{ __typename }"}, {"query": "{ __typename }"}], JSON, 400, "Batching is not enabled", id="batch"
        ),
        pytest.param(
            '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query": "{ __typename }"}\r\n--x--\r\n',
            "multipart/form-data; boundary=x",
            415,
            "Unsupported media type: send the body as application/json",
            id="multipart",
        ),
        pytest.param(
            "query { __typename }",
            "application/graphql",
            415,
            "Unsupported media type: send the body as application/json",
            id="graphql-body",
        ),
        pytest.param(
            '{"query": "{ __typename }"}',
            "",
            415,
            "Unsupported media type: send the body as application/json",
            id="no-content-type",
        ),
        # Python parses both, but no layer below can hold them: half a surrogate pair is not
        # Unicode text, and nesting this deep is past Python's recursion limit.
        pytest.param(
            '{"query": "{ __typename }", "variables": {"x": "\\ud800"}}',
            JSON,
            400,
            "Unable to parse request body as JSON",
            id="lone-surrogate",
        ),
        pytest.param(
            '{"query": "{ __typename }", "variables": {"x": ' + "[" * 5000 + "]" * 5000 + "}}",
            JSON,
            400,
            "Unable to parse request body as JSON",
            id="deep-json",
        ),
    ],
)
@pytest.mark.parametrize("accept", [JSON, GRAPHQL_JSON])
async def test_malformed_requests_are_refused_as_graphql_errors(
    api: Api, body: Any, content_type: str, status: int, message: str, accept: str
) -> None:
    response = await post(api, body, accept=accept, content_type=content_type)
    assert (response.status_code, response.headers["content-type"]) == (status, accept)
    code = {400: "BAD_REQUEST", 415: "UNSUPPORTED_MEDIA_TYPE"}[status]
    assert response.json() == {"errors": [{"message": message, "extensions": {"code": code}}]}


async def test_a_refused_batch_runs_nothing(api: Api) -> None:
    response = await post(api, [{"query": CREATE_PHONE_NUMBER, "variables": CREATE}] * 2)
    assert response.status_code == 400
    assert await stored_rows("phone_numbers") == []


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_JSON, 500)])
async def test_a_failure_before_execution_is_masked_and_500_under_graphql_response_json(
    api: Api, monkeypatch: pytest.MonkeyPatch, accept: str, status: int
) -> None:
    import schema.cost

    def fail(*args: object) -> int:
        raise RuntimeError("SELECT secret FROM somewhere")

    monkeypatch.setattr(schema.cost.DocumentCost, "of", fail)
    response = await api.client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Authorization": f"Bearer {api.key}", "Accept": accept, "X-Request-ID": "req-7"},
    )
    assert response.status_code == status
    assert response.json() == {
        "errors": [
            {
                "message": "Internal server error (request id req-7)",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-7"},
            }
        ]
    }

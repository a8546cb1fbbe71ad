"""SWITCHBOARD_ENV=production: no GraphiQL, no "Did you mean" hints; introspection as configured. And CORS."""

from __future__ import annotations

import dataclasses

import pytest

from switchboard.settings import Settings
from tests.support.app import Api, api_client, running_app

SUGGESTING = [
    pytest.param(
        '{ phoneNumbr(id: "x") { id } }',
        "Cannot query field 'phoneNumbr' on type 'Query'.",
        "Did you mean 'phoneNumber'",
        id="field",
    ),
    pytest.param(
        "{ agents(frist: 1) { totalCount } }",
        "Unknown argument 'frist' on field 'Query.agents'.",
        "Did you mean 'first'",
        id="argument",
    ),
    pytest.param(
        "query($f: PhoneNumberFiltr) { phoneNumbers(filter: $f) { totalCount } }",
        "Unknown type 'PhoneNumberFiltr'.",
        "Did you mean 'PhoneNumberFilter'",
        id="type",
    ),
    pytest.param(
        "{ phoneNumbers(filter: {provider: TWILLIO}) { totalCount } }",
        "Value does not exist in 'Provider' enum.",
        "Did you mean the enum value 'TWILIO'",
        id="enum-value",
    ),
]


async def messages(api: Api, query: str) -> list[str]:
    response = await api.client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {api.key}"})
    return [e["message"] for e in response.json()["errors"]]


@pytest.mark.parametrize(("query", "message", "hint"), SUGGESTING)
async def test_development_suggests_names(api: Api, query: str, message: str, hint: str) -> None:
    (said,) = await messages(api, query)
    assert said.startswith(message) and hint in said


@pytest.mark.parametrize(("query", "message", "hint"), SUGGESTING)
async def test_production_names_nothing_the_caller_did_not(
    settings: Settings, query: str, message: str, hint: str
) -> None:
    async with running_app(dataclasses.replace(settings, environment="production")) as app, api_client(app) as api:
        assert await messages(api, query) == [message]


async def test_production_serves_no_graphiql(settings: Settings) -> None:
    async with running_app(dataclasses.replace(settings, environment="production")) as app, api_client(app) as api:
        response = await api.client.get("/graphql", headers={"Accept": "text/html"})
        assert (response.status_code, response.json()) == (
            404,
            {"errors": [{"message": "Not Found", "extensions": {"code": "NOT_FOUND"}}]},
        )


INTROSPECTION = "{ __schema { queryType { name } } }"


@pytest.mark.parametrize("environment", ["development", "production"])
async def test_introspection_is_on_by_default(settings: Settings, environment: str) -> None:
    async with running_app(dataclasses.replace(settings, environment=environment)) as app, api_client(app) as api:
        assert await api.gql(INTROSPECTION) == {"__schema": {"queryType": {"name": "Query"}}}


async def test_introspection_can_be_turned_off(settings: Settings) -> None:
    off = dataclasses.replace(settings, environment="production", introspection=False)
    async with running_app(off) as app, api_client(app) as api:
        assert await messages(api, INTROSPECTION) == [
            f"GraphQL introspection has been disabled, but the requested query contained the field '{name}'."
            for name in ("__schema", "queryType")
        ]
        assert await api.gql("{ __typename }") == {"__typename": "Query"}


# --- CORS -------------------------------------------------------------------------

APP_ORIGIN = "https://app.example.com"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}


async def test_no_origin_is_allowed_by_default(api: Api) -> None:
    preflight = await api.client.options("/graphql", headers={"Origin": APP_ORIGIN, **PREFLIGHT})
    assert preflight.status_code == 400 and "access-control-allow-origin" not in preflight.headers
    response = await api.client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Origin": APP_ORIGIN, "Authorization": f"Bearer {api.key}"},
    )
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("path", ["/graphql", "/v1/phone-numbers"])
async def test_configured_origins_may_call_from_a_browser(settings: Settings, path: str) -> None:
    allowed = dataclasses.replace(settings, cors_origins=(APP_ORIGIN,))
    async with running_app(allowed) as app, api_client(app) as api:
        preflight = await api.client.options(path, headers={"Origin": APP_ORIGIN, **PREFLIGHT})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
        assert preflight.headers["access-control-allow-headers"] == (
            "Accept, Accept-Language, Authorization, Content-Language, Content-Type, Idempotency-Key, X-Request-ID"
        )

        params = {"query": "{ __typename }"} if path == "/graphql" else None
        response = await api.client.get(
            path, params=params, headers={"Origin": APP_ORIGIN, "Authorization": f"Bearer {api.key}"}
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == APP_ORIGIN
        assert response.headers["access-control-expose-headers"] == "X-Request-ID, Retry-After, Location"

        other = await api.client.options(path, headers={"Origin": "https://evil.example.net", **PREFLIGHT})
        assert other.status_code == 400 and "access-control-allow-origin" not in other.headers

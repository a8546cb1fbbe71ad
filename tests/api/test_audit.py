"""The audit log: every change appends exactly its event, with its exact diff; nothing else does.

The mutations come from the schema and the OpenAPI document: a new mutation
or changing REST operation without a case here fails
`test_every_mutation_has_an_audit_case` (or its REST twin).

The tests that need real processes are in tests/system/test_audit_command_line.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from schema import schema
from switchboard.rest.openapi import openapi_document
from tests.support.app import Api
from tests.support.audit_helpers import (
    SECRET,
    Event,
    all_events,
    all_rest_events,
    change,
    created,
    deleted,
    key_actor,
    secret,
    stored_event_count,
)
from tests.support.database import stored_rows
from tests.support.graphql_ops import (
    CREATE_AGENT,
    CREATE_API_KEY,
    CREATE_PHONE_NUMBER,
    DELETE_AGENT,
    DELETE_PHONE_NUMBER,
    REVOKE_API_KEY,
    SIP_PASSWORD,
    TWILIO_SID,
    TWILIO_TOKEN,
    UPDATE_AGENT,
    UPDATE_PHONE_NUMBER,
    VERIFY_PHONE_NUMBER,
    sip_ip_allowlist,
    sip_registration,
    twilio,
)
from tests.support.helpers import create_agent, create_number, nth_number
from tests.support.secret_sweep import SWEEP

MISSING = "00000000-0000-4000-8000-00000000dead"
OTHER_TOKEN = "another-twilio-token-5555"


def z(value: str | None) -> str | None:
    """A time as events spell it: UTC, with Z."""
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(UTC).isoformat().replace("+00:00", "Z")


class Run:
    """One case: set up through the API, then the one call whose events are checked."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.request_id = f"audit-{uuid.uuid4().hex[:12]}"
        self.seen: set[str] | None = None
        self.started: datetime | None = None

    async def _mark(self) -> None:
        assert self.seen is None, "one checked call per case"
        self.seen = {event["id"] for event in await all_events(self.api)}
        self.started = datetime.now(UTC)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api.key}", "X-Request-ID": self.request_id}

    async def mutate(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        await self._mark()
        response = await self.api.client.post(
            "/graphql", json={"query": document, "variables": variables}, headers=self._headers()
        )
        assert response.status_code == 200, response.text
        (payload,) = response.json()["data"].values()
        assert payload["userErrors"] == [], payload
        return payload

    async def rest(self, method: str, path: str, body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
        await self._mark()
        response = await self.api.client.request(method, path, json=body, headers={**self._headers(), **headers})
        assert response.status_code < 300, response.text
        return response

    async def new_events(self) -> list[Event]:
        assert self.seen is not None, "the case made no checked call"
        return [event for event in await all_events(self.api) if event["id"] not in self.seen]


@dataclass(frozen=True)
class Expected:
    action: str
    target_id: str
    changes: list[dict[str, Any]]

    @property
    def target_type(self) -> str:
        return next(kind for kind in ("PHONE_NUMBER", "AGENT", "API_KEY") if self.action.startswith(kind))


Case = Callable[[Run], Awaitable[list[Expected]]]


# --- phone numbers ------------------------------------------------------------------


async def create_twilio(run: Run) -> list[Expected]:
    input = {"number": "+1 415 555 0001", "name": "Front desk", "provider": twilio()}
    number = (await run.mutate(CREATE_PHONE_NUMBER, {"input": input}))["phoneNumber"]
    fields = [
        ("number", "+14155550001"),
        ("name", "Front desk"),
        ("provider", "TWILIO"),
        ("accountSid", TWILIO_SID),
        ("authToken", SECRET),
        ("version", 1),
    ]
    return [Expected("PHONE_NUMBER_CREATED", number["id"], created(fields))]


async def create_sip_with_agent_and_metadata(run: Run) -> list[Expected]:
    agent = await create_agent(run.api)
    input = {
        "number": nth_number(2),
        "agentId": agent["id"],
        "metadata": {"team": "support", "floor": 3},
        "provider": sip_registration(),
    }
    number = (await run.mutate(CREATE_PHONE_NUMBER, {"input": input}))["phoneNumber"]
    fields = [
        ("number", nth_number(2)),
        ("agentId", agent["id"]),
        ("metadata", {"team": "support", "floor": 3}),
        ("provider", "SIP"),
        ("sipMode", "REGISTRATION"),
        ("username", "agent-1"),
        ("password", SECRET),
        ("proxy", "pbx.example.com"),
        ("port", 5060),
        ("registerTransport", "UDP"),
        ("version", 1),
    ]
    return [Expected("PHONE_NUMBER_CREATED", number["id"], created(fields))]


async def create_with_idempotency_key(run: Run) -> list[Expected]:
    input = {
        "number": nth_number(3),
        "provider": {"voximplant": {"applicationId": "app-1"}},
        "idempotencyKey": "order-1",
    }
    number = (await run.mutate(CREATE_PHONE_NUMBER, {"input": input}))["phoneNumber"]
    fields = [("number", nth_number(3)), ("provider", "VOXIMPLANT"), ("applicationId", "app-1"), ("version", 1)]
    return [Expected("PHONE_NUMBER_CREATED", number["id"], created(fields))]


async def update(run: Run, target: dict[str, Any], **input: Any) -> dict[str, Any]:
    return (await run.mutate(UPDATE_PHONE_NUMBER, {"input": {"id": target["id"], **input}}))["phoneNumber"]


async def rename(run: Run) -> list[Expected]:
    number = await create_number(run.api, 1)
    await update(run, number, name="Sales")
    return [Expected("PHONE_NUMBER_UPDATED", number["id"], [change("name", None, "Sales"), change("version", 1, 2)])]


async def rotate_auth_token(run: Run) -> list[Expected]:
    number = await create_number(run.api, 1)
    await update(run, number, provider={"twilio": {"authToken": OTHER_TOKEN}})
    return [Expected("PHONE_NUMBER_UPDATED", number["id"], [secret("authToken"), change("version", 1, 2)])]


async def same_auth_token_again(run: Run) -> list[Expected]:
    # Values are never compared, so the log cannot confirm a guess of the stored token.
    number = await create_number(run.api, 1)
    await update(run, number, provider={"twilio": {"authToken": TWILIO_TOKEN}})
    return [Expected("PHONE_NUMBER_UPDATED", number["id"], [secret("authToken"), change("version", 1, 2)])]


async def switch_twilio_to_ip_allowlist(run: Run) -> list[Expected]:
    number = await create_number(run.api, 1)
    await update(run, number, provider=sip_ip_allowlist())
    changes = [
        change("provider", "TWILIO", "SIP"),
        change("sipMode", None, "IP_ALLOWLIST"),
        change("accountSid", TWILIO_SID, None),
        secret("authToken"),
        change("ip", None, "203.0.113.10"),
        change("port", None, 5060),
        change("protocol", None, "UDP"),
        change("version", 1, 2),
    ]
    return [Expected("PHONE_NUMBER_UPDATED", number["id"], changes)]


async def switch_registration_to_ip_allowlist(run: Run) -> list[Expected]:
    # The same transport column is registerTransport in one mode and protocol in the other: the API's names.
    number = await create_number(run.api, 1, provider=sip_registration(outboundProxy="proxy.example.com"))
    await update(run, number, provider={"sip": {"ipAllowlist": {"ip": "203.0.113.10"}}})
    changes = [
        change("sipMode", "REGISTRATION", "IP_ALLOWLIST"),
        change("username", "agent-1", None),
        secret("password"),
        change("proxy", "pbx.example.com", None),
        change("outboundProxy", "proxy.example.com", None),
        change("registerTransport", "UDP", None),
        change("ip", None, "203.0.113.10"),
        change("protocol", None, "UDP"),
        change("version", 1, 2),
    ]
    return [Expected("PHONE_NUMBER_UPDATED", number["id"], changes)]


async def patch_sip_fields(run: Run) -> list[Expected]:
    number = await create_number(run.api, 1, provider=sip_registration())
    await update(
        run,
        number,
        provider={"sip": {"registration": {"port": 5080, "registerTransport": "TLS", "password": "rotated-pw-77"}}},
    )
    changes = [
        secret("password"),
        change("port", 5060, 5080),
        change("registerTransport", "UDP", "TLS"),
        change("version", 1, 2),
    ]
    return [Expected("PHONE_NUMBER_UPDATED", number["id"], changes)]


async def tie_to_agent_and_set_metadata(run: Run) -> list[Expected]:
    number = await create_number(run.api, 1)
    agent = await create_agent(run.api)
    await update(run, number, agentId=agent["id"], metadata={"crm": {"id": 42}})
    changes = [
        change("agentId", None, agent["id"]),
        change("metadata", None, {"crm": {"id": 42}}),
        change("version", 1, 2),
    ]
    return [Expected("PHONE_NUMBER_UPDATED", number["id"], changes)]


async def clear_name_and_metadata(run: Run) -> list[Expected]:
    number = await create_number(run.api, 1, name="Old", metadata={"a": 1})
    await update(run, number, name=None, metadata=None, number="+1 (415) 555-0009")
    changes = [
        change("number", nth_number(1), nth_number(9)),
        change("name", "Old", None),
        change("metadata", {"a": 1}, None),
        change("version", 1, 2),
    ]
    return [Expected("PHONE_NUMBER_UPDATED", number["id"], changes)]


async def metadata_number_to_boolean(run: Run) -> list[Expected]:
    # 1 and true compare equal in Python; they are different JSON.
    number = await create_number(run.api, 1, metadata={"on": 1})
    await update(run, number, metadata={"on": True})
    return [
        Expected(
            "PHONE_NUMBER_UPDATED", number["id"], [change("metadata", {"on": 1}, {"on": True}), change("version", 1, 2)]
        )
    ]


async def same_values_again(run: Run) -> list[Expected]:
    # A write that changes no value still makes a version: the event says so.
    number = await create_number(run.api, 1, name="Same")
    await update(run, number, name="Same", expectedVersion=1)
    return [Expected("PHONE_NUMBER_UPDATED", number["id"], [change("version", 1, 2)])]


async def delete_number(run: Run) -> list[Expected]:
    number = await create_number(run.api, 1, name="Gone")
    await run.mutate(DELETE_PHONE_NUMBER, {"input": {"id": number["id"]}})
    fields = [
        ("number", nth_number(1)),
        ("name", "Gone"),
        ("provider", "TWILIO"),
        ("accountSid", TWILIO_SID),
        ("authToken", SECRET),
        ("version", 1),
    ]
    return [Expected("PHONE_NUMBER_DELETED", number["id"], deleted(fields))]


async def delete_number_at_expected_version(run: Run) -> list[Expected]:
    agent = await create_agent(run.api)
    number = await create_number(run.api, 1, provider={"jambonz": {}})
    await run.api.gql(UPDATE_PHONE_NUMBER, {"input": {"id": number["id"], "agentId": agent["id"]}})
    await run.mutate(DELETE_PHONE_NUMBER, {"input": {"id": number["id"], "expectedVersion": 2}})
    fields = [("number", nth_number(1)), ("agentId", agent["id"]), ("provider", "JAMBONZ"), ("version", 2)]
    return [Expected("PHONE_NUMBER_DELETED", number["id"], deleted(fields))]


async def verify_first_time(run: Run) -> list[Expected]:
    # Voximplant can't be checked from outside: UNSUPPORTED, with no network in the test.
    number = await create_number(run.api, 1, provider={"voximplant": {}})
    await run.mutate(VERIFY_PHONE_NUMBER, {"input": {"id": number["id"]}})
    return [Expected("PHONE_NUMBER_VERIFIED", number["id"], [change("health", None, "UNSUPPORTED")])]


async def verify_again_same_state(run: Run) -> list[Expected]:
    # Only a change of state is recorded: a second identical result is not a change.
    number = await create_number(run.api, 1, provider={"jambonz": {}})
    await run.api.gql(VERIFY_PHONE_NUMBER, {"input": {"id": number["id"]}})
    await run.mutate(VERIFY_PHONE_NUMBER, {"input": {"id": number["id"]}})
    return []


# --- agents -------------------------------------------------------------------------


async def create_an_agent(run: Run) -> list[Expected]:
    agent = (await run.mutate(CREATE_AGENT, {"input": {"name": "  Receptionist "}}))["agent"]
    return [Expected("AGENT_CREATED", agent["id"], [change("name", None, "Receptionist")])]


async def rename_an_agent(run: Run) -> list[Expected]:
    agent = await create_agent(run.api, "Receptionist")
    await run.mutate(UPDATE_AGENT, {"input": {"id": agent["id"], "name": "Front desk"}})
    return [Expected("AGENT_UPDATED", agent["id"], [change("name", "Receptionist", "Front desk")])]


async def delete_an_agent(run: Run) -> list[Expected]:
    agent = await create_agent(run.api, "Receptionist")
    await run.mutate(DELETE_AGENT, {"input": {"id": agent["id"]}})
    return [Expected("AGENT_DELETED", agent["id"], [change("name", "Receptionist", None)])]


async def delete_an_agent_with_numbers(run: Run) -> list[Expected]:
    # Each number it unties changes too: agentId, at its next version, each its own.
    agent = await create_agent(run.api, "Receptionist")
    first = await create_number(run.api, 1, agentId=agent["id"])
    second = await create_number(run.api, 2, agentId=agent["id"])
    untouched = await create_number(run.api, 3)
    await run.api.gql(UPDATE_PHONE_NUMBER, {"input": {"id": second["id"], "name": "v2"}})
    await run.mutate(DELETE_AGENT, {"input": {"id": agent["id"]}})
    assert untouched["id"] not in (first["id"], second["id"])
    return [
        Expected("AGENT_DELETED", agent["id"], [change("name", "Receptionist", None)]),
        Expected("PHONE_NUMBER_UPDATED", first["id"], [change("agentId", agent["id"], None), change("version", 1, 2)]),
        Expected("PHONE_NUMBER_UPDATED", second["id"], [change("agentId", agent["id"], None), change("version", 2, 3)]),
    ]


# --- API keys -----------------------------------------------------------------------


async def create_a_key(run: Run) -> list[Expected]:
    expires_at = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    input = {"name": "dashboard", "scopes": ["WRITE", "READ"], "expiresAt": expires_at}
    key = (await run.mutate(CREATE_API_KEY, {"input": input}))["apiKey"]
    fields = [
        ("name", "dashboard"),
        ("prefix", key["prefix"]),
        ("scopes", ["READ", "WRITE"]),
        ("expiresAt", z(key["expiresAt"])),
    ]
    return [Expected("API_KEY_CREATED", key["id"], created(fields))]


async def create_a_key_without_expiry(run: Run) -> list[Expected]:
    key = (await run.mutate(CREATE_API_KEY, {"input": {"name": "ci", "scopes": ["ADMIN"]}}))["apiKey"]
    return [
        Expected(
            "API_KEY_CREATED", key["id"], created([("name", "ci"), ("prefix", key["prefix"]), ("scopes", ["ADMIN"])])
        )
    ]


async def revoke_a_key(run: Run) -> list[Expected]:
    key = (await run.api.gql(CREATE_API_KEY, {"input": {"name": "ci", "scopes": ["READ"]}}))["createApiKey"]["apiKey"]
    revoked = (await run.mutate(REVOKE_API_KEY, {"input": {"id": key["id"]}}))["apiKey"]
    return [Expected("API_KEY_REVOKED", key["id"], [change("revokedAt", None, z(revoked["revokedAt"]))])]


async def revoke_the_calling_key(run: Run) -> list[Expected]:
    # Another ADMIN key exists, so the calling key may revoke itself; the event names it as it was.
    spare = (await run.api.gql(CREATE_API_KEY, {"input": {"name": "spare", "scopes": ["ADMIN"]}}))["createApiKey"][
        "secret"
    ]
    me = await key_actor(run.api)
    revoked = (await run.mutate(REVOKE_API_KEY, {"input": {"id": me["apiKeyId"]}}))["apiKey"]
    run.api.key = spare  # the log is read on with the key that remains
    return [Expected("API_KEY_REVOKED", me["apiKeyId"], [change("revokedAt", None, z(revoked["revokedAt"]))])]


GRAPHQL_CASES: dict[str, list[Case]] = {
    "Mutation.createPhoneNumber": [create_twilio, create_sip_with_agent_and_metadata, create_with_idempotency_key],
    "Mutation.updatePhoneNumber": [
        rename,
        rotate_auth_token,
        same_auth_token_again,
        switch_twilio_to_ip_allowlist,
        switch_registration_to_ip_allowlist,
        patch_sip_fields,
        tie_to_agent_and_set_metadata,
        clear_name_and_metadata,
        metadata_number_to_boolean,
        same_values_again,
    ],
    "Mutation.deletePhoneNumber": [delete_number, delete_number_at_expected_version],
    "Mutation.verifyPhoneNumber": [verify_first_time, verify_again_same_state],
    "Mutation.createAgent": [create_an_agent],
    "Mutation.updateAgent": [rename_an_agent],
    "Mutation.deleteAgent": [delete_an_agent, delete_an_agent_with_numbers],
    "Mutation.createApiKey": [create_a_key, create_a_key_without_expiry],
    "Mutation.revokeApiKey": [revoke_a_key, revoke_the_calling_key],
}


def schema_mutations() -> set[str]:
    mutation = schema._schema.mutation_type
    assert mutation is not None
    return {f"Mutation.{name}" for name in mutation.fields}


def test_every_mutation_has_an_audit_case() -> None:
    assert set(GRAPHQL_CASES) == schema_mutations(), "add an audit case for each new mutation"


def expected_events(run: Run, actor: dict[str, Any], expected: list[Expected]) -> list[Event]:
    return [
        {
            "action": e.action,
            "targetType": e.target_type,
            "targetId": e.target_id,
            "requestId": run.request_id,
            "actor": actor,
            "changes": e.changes,
        }
        for e in expected
    ]


def without_ids_and_times(events: list[Event]) -> list[Event]:
    return sorted(
        ({k: v for k, v in event.items() if k not in ("id", "at")} for event in events),
        key=lambda event: (event["action"], event["targetId"]),
    )


def assert_made_during(run: Run, events: list[Event], *, finished: datetime) -> None:
    assert run.started is not None
    for event in events:
        assert run.started <= datetime.fromisoformat(event["at"]) <= finished


@pytest.mark.parametrize(
    ("mutation", "case"),
    [
        pytest.param(mutation, case, id=f"{mutation.split('.')[1]}-{case.__name__}")
        for mutation, cases in GRAPHQL_CASES.items()
        for case in cases
    ],
)
async def test_each_mutation_records_exactly_its_events(api: Api, mutation: str, case: Case) -> None:
    actor = await key_actor(api)
    run = Run(api)

    expected = await case(run)

    finished = datetime.now(UTC)
    events = await run.new_events()
    assert without_ids_and_times(events) == without_ids_and_times(expected_events(run, actor, expected))
    assert_made_during(run, events, finished=finished)


# --- the same over REST ---------------------------------------------------------------


REST_BODY = {
    "number": nth_number(1),
    "provider": "twilio",
    "twilioAccountSid": TWILIO_SID,
    "twilioAuthToken": TWILIO_TOKEN,
}
TWILIO_FIELDS = [
    ("number", nth_number(1)),
    ("provider", "TWILIO"),
    ("accountSid", TWILIO_SID),
    ("authToken", SECRET),
    ("version", 1),
]


async def rest_create_number(run: Run) -> list[Expected]:
    response = await run.rest("POST", "/v1/phone-numbers", REST_BODY, **{"Idempotency-Key": "rest-1"})
    return [Expected("PHONE_NUMBER_CREATED", response.json()["data"]["id"], created(TWILIO_FIELDS))]


async def rest_update_number(run: Run) -> list[Expected]:
    id = (
        await run.api.client.post(
            "/v1/phone-numbers", json=REST_BODY, headers={"Authorization": f"Bearer {run.api.key}"}
        )
    ).json()["data"]["id"]
    await run.rest(
        "PATCH", f"/v1/phone-numbers/{id}", {"name": "Sales", "twilioAuthToken": OTHER_TOKEN}, **{"If-Match": '"1"'}
    )
    return [
        Expected(
            "PHONE_NUMBER_UPDATED", id, [change("name", None, "Sales"), secret("authToken"), change("version", 1, 2)]
        )
    ]


async def rest_delete_number(run: Run) -> list[Expected]:
    id = (
        await run.api.client.post(
            "/v1/phone-numbers", json=REST_BODY, headers={"Authorization": f"Bearer {run.api.key}"}
        )
    ).json()["data"]["id"]
    await run.rest("DELETE", f"/v1/phone-numbers/{id}")
    return [Expected("PHONE_NUMBER_DELETED", id, deleted(TWILIO_FIELDS))]


async def rest_verify_number(run: Run) -> list[Expected]:
    body = {"number": nth_number(1), "provider": "jambonz"}
    id = (
        await run.api.client.post("/v1/phone-numbers", json=body, headers={"Authorization": f"Bearer {run.api.key}"})
    ).json()["data"]["id"]
    await run.rest("POST", f"/v1/phone-numbers/{id}/verify")
    return [Expected("PHONE_NUMBER_VERIFIED", id, [change("health", None, "UNSUPPORTED")])]


async def rest_create_key(run: Run) -> list[Expected]:
    data = (await run.rest("POST", "/v1/api-keys", {"name": "deploy", "scopes": ["write"]})).json()["data"]
    return [
        Expected(
            "API_KEY_CREATED",
            data["id"],
            created([("name", "deploy"), ("prefix", data["prefix"]), ("scopes", ["WRITE"])]),
        )
    ]


async def rest_revoke_key(run: Run) -> list[Expected]:
    key = (await run.api.gql(CREATE_API_KEY, {"input": {"name": "ci", "scopes": ["READ"]}}))["createApiKey"]["apiKey"]
    data = (await run.rest("DELETE", f"/v1/api-keys/{key['id']}")).json()["data"]
    return [Expected("API_KEY_REVOKED", key["id"], [change("revokedAt", None, data["revokedAt"])])]


REST_CASES: dict[str, list[Case]] = {
    "createPhoneNumber": [rest_create_number],
    "updatePhoneNumber": [rest_update_number],
    "deletePhoneNumber": [rest_delete_number],
    "verifyPhoneNumber": [rest_verify_number],
    "createApiKey": [rest_create_key],
    "revokeApiKey": [rest_revoke_key],
}
CHANGING_METHODS = {"post", "put", "patch", "delete"}


def test_every_changing_rest_operation_has_an_audit_case() -> None:
    operations = {
        operation["operationId"]
        for path in openapi_document()["paths"].values()
        for method, operation in path.items()
        if method in CHANGING_METHODS
    }
    assert set(REST_CASES) == operations, "add an audit case for each new REST operation that changes something"


def as_rest(event: Event) -> Event:
    """A GraphQL-shaped expected event, as REST spells its enums."""
    actor = {**event["actor"], "type": event["actor"]["type"].lower()}
    return {**event, "action": event["action"].lower(), "targetType": event["targetType"].lower(), "actor": actor}


@pytest.mark.parametrize(
    ("operation", "case"),
    [pytest.param(operation, case, id=case.__name__) for operation, cases in REST_CASES.items() for case in cases],
)
async def test_each_rest_operation_records_exactly_its_events(api: Api, operation: str, case: Case) -> None:
    actor = await key_actor(api)
    run = Run(api)

    expected = await case(run)

    assert run.seen is not None
    listed = [e for e in await all_rest_events(api.client, api.key or "") if e["id"] not in run.seen]
    assert without_ids_and_times(listed) == without_ids_and_times(
        [as_rest(e) for e in expected_events(run, actor, expected)]
    )
    # GraphQL reads the same events.
    assert without_ids_and_times(await run.new_events()) == without_ids_and_times(expected_events(run, actor, expected))


# --- the command line -----------------------------------------------------------------


# --- nothing else writes an event -------------------------------------------------------


@dataclass
class Setup:
    api: Api
    number: dict[str, Any]
    agent: dict[str, Any]
    reader: str  # a READ key
    writer: str  # a WRITE key
    revoked_key_id: str


async def setup(api: Api) -> Setup:
    agent = await create_agent(api)
    number = await create_number(api, 1, agentId=agent["id"])
    reader = (await api.gql(CREATE_API_KEY, {"input": {"name": "r", "scopes": ["READ"]}}))["createApiKey"]["secret"]
    writer = (await api.gql(CREATE_API_KEY, {"input": {"name": "w", "scopes": ["WRITE"]}}))["createApiKey"]["secret"]
    revoked = (await api.gql(CREATE_API_KEY, {"input": {"name": "x", "scopes": ["READ"]}}))["createApiKey"]["apiKey"]
    await api.gql(REVOKE_API_KEY, {"input": {"id": revoked["id"]}})
    return Setup(api, number, agent, reader, writer, revoked["id"])


def user_errors(body: dict[str, Any]) -> list[str]:
    (payload,) = body["data"].values()
    assert all(value is None for key, value in payload.items() if key != "userErrors"), payload
    return [error["code"] for error in payload["userErrors"]]


async def gql_errors(s: Setup, document: str, input: dict[str, Any], *, key: str | None = None) -> list[str]:
    response = await s.api.post(document, {"input": input}, key=key)
    assert response.status_code == 200, response.text
    return user_errors(response.json())


async def rest_status(
    s: Setup, method: str, path: str, body: Any = None, *, key: str | None = None, **headers: str
) -> int:
    headers = {"Authorization": f"Bearer {key or s.api.key}", **headers}
    return (await s.api.client.request(method, path, json=body, headers=headers)).status_code


def number_input(s: Setup, **fields: Any) -> dict[str, Any]:
    return {"number": nth_number(7), "provider": twilio(), **fields}


async def dry_run_create(s: Setup) -> None:
    response = await s.api.post(CREATE_PHONE_NUMBER, {"input": number_input(s, dryRun=True)})
    assert response.json()["data"]["createPhoneNumber"]["phoneNumber"]["number"] == nth_number(7)


async def dry_run_update(s: Setup) -> None:
    input = {"id": s.number["id"], "name": "dry", "provider": {"twilio": {"authToken": OTHER_TOKEN}}, "dryRun": True}
    response = await s.api.post(UPDATE_PHONE_NUMBER, {"input": input})
    assert response.json()["data"]["updatePhoneNumber"]["phoneNumber"]["name"] == "dry"


async def idempotent_replay(s: Setup) -> None:
    # The first use is a change (its event is part of the setup); the replay is not.
    input = number_input(s, idempotencyKey="replayed")
    first = await s.api.gql(CREATE_PHONE_NUMBER, {"input": input})
    before = await stored_event_count()
    again = await s.api.gql(CREATE_PHONE_NUMBER, {"input": {**input, "provider": twilio(authToken=OTHER_TOKEN)}})
    assert again == first
    assert await stored_event_count() == before


async def rest_idempotent_replay(s: Setup) -> None:
    body = {"number": nth_number(8), "provider": "voximplant"}
    assert await rest_status(s, "POST", "/v1/phone-numbers", body, **{"Idempotency-Key": "rest-replay"}) == 201
    before = await stored_event_count()
    assert await rest_status(s, "POST", "/v1/phone-numbers", body, **{"Idempotency-Key": "rest-replay"}) == 201
    assert await stored_event_count() == before


REFUSALS: dict[str, Callable[[Setup], Awaitable[Any]]] = {
    "dry-run-create": dry_run_create,
    "dry-run-update": dry_run_update,
    "idempotent-replay": idempotent_replay,
    "rest-idempotent-replay": rest_idempotent_replay,
    "create-invalid": lambda s: _expect(gql_errors(s, CREATE_PHONE_NUMBER, number_input(s, number="12")), ["INVALID"]),
    "create-taken": lambda s: _expect(
        gql_errors(s, CREATE_PHONE_NUMBER, number_input(s, number=nth_number(1))), ["TAKEN"]
    ),
    "create-unknown-agent": lambda s: _expect(
        gql_errors(s, CREATE_PHONE_NUMBER, number_input(s, agentId=MISSING)), ["NOT_FOUND"]
    ),
    "create-idempotency-key-reused": lambda s: _reused_key(s),
    "update-unknown": lambda s: _expect(
        gql_errors(s, UPDATE_PHONE_NUMBER, {"id": MISSING, "name": "x"}), ["NOT_FOUND"]
    ),
    "update-invalid": lambda s: _expect(
        gql_errors(s, UPDATE_PHONE_NUMBER, {"id": s.number["id"], "provider": {"twilio": {"accountSid": "nope"}}}),
        ["INVALID"],
    ),
    "update-stale-version": lambda s: _expect(
        gql_errors(s, UPDATE_PHONE_NUMBER, {"id": s.number["id"], "name": "x", "expectedVersion": 7}), ["CONFLICT"]
    ),
    "update-unknown-agent": lambda s: _expect(
        gql_errors(s, UPDATE_PHONE_NUMBER, {"id": s.number["id"], "agentId": MISSING}), ["NOT_FOUND"]
    ),
    "delete-unknown": lambda s: _expect(gql_errors(s, DELETE_PHONE_NUMBER, {"id": MISSING}), ["NOT_FOUND"]),
    "delete-stale-version": lambda s: _expect(
        gql_errors(s, DELETE_PHONE_NUMBER, {"id": s.number["id"], "expectedVersion": 7}), ["CONFLICT"]
    ),
    "create-agent-blank": lambda s: _expect(gql_errors(s, CREATE_AGENT, {"name": "  "}), ["BLANK"]),
    "update-agent-blank": lambda s: _expect(gql_errors(s, UPDATE_AGENT, {"id": s.agent["id"], "name": ""}), ["BLANK"]),
    "update-agent-unknown": lambda s: _expect(gql_errors(s, UPDATE_AGENT, {"id": MISSING, "name": "x"}), ["NOT_FOUND"]),
    "delete-agent-unknown": lambda s: _expect(gql_errors(s, DELETE_AGENT, {"id": MISSING}), ["NOT_FOUND"]),
    "create-key-no-scopes": lambda s: _expect(gql_errors(s, CREATE_API_KEY, {"name": "k", "scopes": []}), ["BLANK"]),
    "revoke-key-unknown": lambda s: _expect(gql_errors(s, REVOKE_API_KEY, {"id": MISSING}), ["NOT_FOUND"]),
    "revoke-key-twice": lambda s: _expect(gql_errors(s, REVOKE_API_KEY, {"id": s.revoked_key_id}), ["ALREADY_REVOKED"]),
    "revoke-last-admin-key": lambda s: _revoke_last_admin(s),
    "forbidden-for-write-key": lambda s: _forbidden(s, CREATE_API_KEY, {"name": "k", "scopes": ["READ"]}, s.writer),
    "forbidden-for-read-key": lambda s: _forbidden(s, CREATE_AGENT, {"name": "k"}, s.reader),
    "rest-400": lambda s: _status(rest_status(s, "POST", "/v1/phone-numbers", {"number": "12"}), 400),
    "rest-404": lambda s: _status(rest_status(s, "PATCH", f"/v1/phone-numbers/{MISSING}", {"name": "x"}), 404),
    "rest-409-taken": lambda s: _status(
        rest_status(s, "POST", "/v1/phone-numbers", {"number": nth_number(1), "provider": "voximplant"}), 409
    ),
    "rest-412": lambda s: _status(
        rest_status(s, "DELETE", f"/v1/phone-numbers/{s.number['id']}", **{"If-Match": '"9"'}), 412
    ),
    "rest-415": lambda s: _status(_rest_text(s), 415),
    "rest-403": lambda s: _status(rest_status(s, "DELETE", f"/v1/phone-numbers/{s.number['id']}", key=s.reader), 403),
    "rest-401": lambda s: _status(
        rest_status(s, "DELETE", f"/v1/phone-numbers/{s.number['id']}", key="sb_live_not-a-key"), 401
    ),
    "rest-revoke-twice": lambda s: _status(rest_status(s, "DELETE", f"/v1/api-keys/{s.revoked_key_id}"), 409),
}


async def _expect(errors: Awaitable[list[str]], codes: list[str]) -> None:
    assert await errors == codes


async def _status(status: Awaitable[int], expected: int) -> None:
    assert await status == expected


async def _rest_text(s: Setup) -> int:
    headers = {"Authorization": f"Bearer {s.api.key}", "Content-Type": "text/plain"}
    return (await s.api.client.post("/v1/phone-numbers", content=b"{}", headers=headers)).status_code


async def _reused_key(s: Setup) -> None:
    await s.api.gql(CREATE_PHONE_NUMBER, {"input": number_input(s, idempotencyKey="k-1")})
    before = await stored_event_count()
    assert await gql_errors(s, CREATE_PHONE_NUMBER, number_input(s, idempotencyKey="k-1", name="other")) == [
        "IDEMPOTENCY_KEY_REUSED"
    ]
    assert await stored_event_count() == before


async def _revoke_last_admin(s: Setup) -> None:
    me = await key_actor(s.api)
    assert await gql_errors(s, REVOKE_API_KEY, {"id": me["apiKeyId"]}) == ["LAST_ADMIN_KEY"]


async def _forbidden(s: Setup, document: str, input: dict[str, Any], key: str) -> None:
    response = await s.api.post(document, {"input": input}, key=key)
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
async def test_dry_runs_replays_and_refusals_write_no_event(api: Api, refusal: str) -> None:
    s = await setup(api)
    before = await stored_rows("audit_events")

    await REFUSALS[refusal](s)

    after = await stored_rows("audit_events")
    # The replay cases make one change first, on purpose; nothing else may add an event.
    assert len(after) - len(before) == (
        1 if refusal in ("idempotent-replay", "rest-idempotent-replay", "create-idempotency-key-reused") else 0
    )


# --- secrets ------------------------------------------------------------------------------


async def test_no_event_holds_a_secret_or_its_ciphertext(api: Api) -> None:
    tokens = ["first-token-abcdef-1", "second-token-ghijk-2", "third-password-lmn-3"]
    for value in tokens:
        SWEEP.add_secret(value)
    number = await create_number(api, 1, provider=twilio(authToken=tokens[0]))
    sealed = [r["twilio_auth_token_encrypted"] for r in await stored_rows("phone_numbers")]
    await api.gql(
        UPDATE_PHONE_NUMBER, {"input": {"id": number["id"], "provider": {"twilio": {"authToken": tokens[1]}}}}
    )
    sealed += [r["twilio_auth_token_encrypted"] for r in await stored_rows("phone_numbers")]
    await api.gql(
        UPDATE_PHONE_NUMBER, {"input": {"id": number["id"], "provider": sip_registration(password=tokens[2])}}
    )
    sealed += [r["sip_password_encrypted"] for r in await stored_rows("phone_numbers")]
    await api.gql(DELETE_PHONE_NUMBER, {"input": {"id": number["id"]}})

    stored = await stored_rows("audit_events")
    text = repr(stored)
    assert len(stored) == 4 + 1  # the fixture's key, then create, two updates, delete
    assert "v1:" not in text, "no sealed token"
    assert all(token and token not in text for token in sealed)
    assert not any(value in text for value in [*tokens, SIP_PASSWORD, TWILIO_TOKEN])
    secret_changes = [c for e in await all_events(api) for c in e["changes"] if c["field"] in ("authToken", "password")]
    assert len(secret_changes) == 5 and all(c == secret(c["field"]) for c in secret_changes)

"""createPhoneNumber: every rule of the reference, through HTTP, on a real database."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import (
    CREATE_AGENT,
    CREATE_PHONE_NUMBER,
    PHONE_NUMBER,
    SIP_PASSWORD,
    TWILIO_SID,
    TWILIO_TOKEN,
    sip_ip_allowlist,
    sip_registration,
    twilio,
)
from tests.support.rule_cases import BOUNDARY_CASES, RULE_CASES, RuleCase, graphql_input

NUMBER = "+14155550123"


def valid_input(**overrides: Any) -> dict[str, Any]:
    return {"number": NUMBER, "provider": twilio(), **overrides}


async def create(api: Api, input: dict[str, Any], *, key: str | None = None) -> dict[str, Any]:
    return (await api.gql(CREATE_PHONE_NUMBER, {"input": input}, key=key))["createPhoneNumber"]


# --- each provider and SIP mode, created and read back ------------------------

CREATED = [
    pytest.param(
        twilio(),
        "TWILIO",
        None,
        {"__typename": "TwilioConfig", "accountSid": TWILIO_SID, "authTokenSet": True},
        id="twilio",
    ),
    pytest.param(
        sip_registration(),
        "SIP",
        "REGISTRATION",
        {
            "__typename": "SipRegistrationConfig",
            "username": "agent-1",
            "proxy": "pbx.example.com",
            "outboundProxy": None,
            "authUser": None,
            "port": 5060,
            "registerTransport": "UDP",
            "passwordSet": True,
        },
        id="sip-registration-defaults",
    ),
    pytest.param(
        sip_registration(outboundProxy="proxy.example.net", authUser="auth-1", port=5080, registerTransport="TLS"),
        "SIP",
        "REGISTRATION",
        {
            "__typename": "SipRegistrationConfig",
            "username": "agent-1",
            "proxy": "pbx.example.com",
            "outboundProxy": "proxy.example.net",
            "authUser": "auth-1",
            "port": 5080,
            "registerTransport": "TLS",
            "passwordSet": True,
        },
        id="sip-registration-all-fields",
    ),
    pytest.param(
        sip_ip_allowlist(),
        "SIP",
        "IP_ALLOWLIST",
        {"__typename": "SipIpAllowlistConfig", "ip": "203.0.113.10", "port": 5060, "protocol": "UDP"},
        id="sip-ip-allowlist-defaults",
    ),
    pytest.param(
        sip_ip_allowlist(ip="2001:DB8:0:0::1", port=5061, protocol="TCP"),
        "SIP",
        "IP_ALLOWLIST",
        {"__typename": "SipIpAllowlistConfig", "ip": "2001:db8::1", "port": 5061, "protocol": "TCP"},
        id="sip-ip-allowlist-ipv6-normalised",
    ),
    pytest.param(
        {"voximplant": {}},
        "VOXIMPLANT",
        None,
        {"__typename": "VoximplantConfig", "applicationId": None, "ruleId": None},
        id="voximplant-empty",
    ),
    pytest.param(
        {"voximplant": {"applicationId": "10493827", "ruleId": "3344551"}},
        "VOXIMPLANT",
        None,
        {"__typename": "VoximplantConfig", "applicationId": "10493827", "ruleId": "3344551"},
        id="voximplant-references",
    ),
    pytest.param(
        {"jambonz": {}},
        "JAMBONZ",
        None,
        {"__typename": "JambonzConfig", "applicationSid": None, "carrierSid": None},
        id="jambonz-empty",
    ),
    pytest.param(
        {"jambonz": {"applicationSid": "7D3F2A10-0000-4000-8000-000000000001"}},
        "JAMBONZ",
        None,
        {"__typename": "JambonzConfig", "applicationSid": "7d3f2a10-0000-4000-8000-000000000001", "carrierSid": None},
        id="jambonz-sid",
    ),
]


@pytest.mark.parametrize(("provider", "provider_enum", "sip_mode", "config"), CREATED)
async def test_create_and_read_back(
    api: Api, provider: dict, provider_enum: str, sip_mode: str | None, config: dict
) -> None:
    payload = await create(api, {"number": "+1 (415) 555-0123", "name": "  Front desk ", "provider": provider})

    assert payload["userErrors"] == []
    created = payload["phoneNumber"]
    assert created["number"] == NUMBER
    assert created["name"] == "Front desk"
    assert created["provider"] == provider_enum
    assert created["sipMode"] == sip_mode
    assert created["config"] == config
    assert created["agentId"] is None and created["metadata"] is None
    uuid.UUID(created["id"])

    read = (await api.gql(PHONE_NUMBER, {"id": created["id"]}))["phoneNumber"]
    assert read == created
    rows = await stored_rows("phone_numbers")
    assert len(rows) == 1 and rows[0]["number"] == NUMBER


@pytest.mark.parametrize(
    "number",
    [
        "+14155550123",
        "+1 415 555 0123",
        "+1-415-555-0123",
        "+1.415.555.0123",
        "+1 (415) 555-0123",
        "0014155550123",
        " +14155550123 ",
    ],
)
async def test_number_is_normalised_to_e164(api: Api, number: str) -> None:
    payload = await create(api, valid_input(number=number))
    assert payload["userErrors"] == []
    assert payload["phoneNumber"]["number"] == NUMBER


async def test_metadata_and_agent_are_saved(api: Api) -> None:
    agent = (await api.gql(CREATE_AGENT, {"input": {"name": "Receptionist"}}))["createAgent"]["agent"]
    metadata = {"team": "sales", "priority": 2, "tags": ["a", "b"], "nested": {"ok": True}}
    payload = await create(api, valid_input(agentId=agent["id"], metadata=metadata))
    assert payload["userErrors"] == []
    created = payload["phoneNumber"]
    assert created["agentId"] == agent["id"]
    assert created["agent"] == {"id": agent["id"], "name": "Receptionist"}
    assert created["metadata"] == metadata


# --- one failing case (at least) per row of the rules table --------------------


@pytest.mark.parametrize("case", [c for c in RULE_CASES if c.graphql], ids=lambda case: case.id)
async def test_rule_refuses_and_saves_nothing(api: Api, case: RuleCase) -> None:
    payload = await create(api, graphql_input(case.body))

    assert payload["phoneNumber"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", *case.graphql_path], case.code)]
    assert payload["userErrors"][0]["message"]
    assert await stored_rows("phone_numbers") == []


BOUNDARIES = [pytest.param(graphql_input(flat), id=name) for name, flat in BOUNDARY_CASES.items()]


@pytest.mark.parametrize("input", BOUNDARIES)
async def test_values_at_the_limits_are_accepted(api: Api, input: dict) -> None:
    payload = await create(api, input)
    assert payload["userErrors"] == []
    assert len(await stored_rows("phone_numbers")) == 1


async def test_scheme_message_says_to_remove_it(api: Api) -> None:
    payload = await create(api, valid_input(provider=sip_registration(proxy="sip:pbx.example.com")))
    assert "remove 'sip:'" in payload["userErrors"][0]["message"]


async def test_explicit_null_port_and_transport_take_the_defaults(api: Api) -> None:
    payload = await create(api, valid_input(provider=sip_registration(port=None, registerTransport=None)))
    assert payload["userErrors"] == []
    assert payload["phoneNumber"]["config"]["port"] == 5060
    assert payload["phoneNumber"]["config"]["registerTransport"] == "UDP"


async def test_all_failures_come_back_together(api: Api) -> None:
    payload = await create(
        api,
        {
            "number": "",
            "name": "n" * 101,
            "metadata": [1],
            "provider": sip_registration(username="u" * 61, proxy="sip:pbx", port=0),
        },
    )
    assert payload["phoneNumber"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "number"], "BLANK"),
        (["input", "name"], "TOO_LONG"),
        (["input", "metadata"], "INVALID"),
        (["input", "provider", "sip", "registration", "username"], "TOO_LONG"),
        (["input", "provider", "sip", "registration", "proxy"], "INVALID"),
        (["input", "provider", "sip", "registration", "port"], "OUT_OF_RANGE"),
    ]
    assert await stored_rows("phone_numbers") == []


# --- uniqueness, organizations ------------------------------------------------


async def test_duplicate_number_is_taken(api: Api) -> None:
    assert (await create(api, valid_input()))["userErrors"] == []
    payload = await create(api, valid_input(number="+1 415-555-0123", provider={"voximplant": {}}))
    assert payload["phoneNumber"] is None
    assert payload["userErrors"] == [
        {
            "field": ["input", "number"],
            "code": "TAKEN",
            "message": "Number +14155550123 already exists in this organization",
        }
    ]
    assert len(await stored_rows("phone_numbers")) == 1


async def test_duplicate_is_reported_with_other_failures(api: Api) -> None:
    await create(api, valid_input())
    payload = await create(api, valid_input(provider=twilio(authToken="")))
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "provider", "twilio", "authToken"], "BLANK"),
        (["input", "number"], "TAKEN"),
    ]


async def test_same_number_in_another_organization_is_allowed(api: Api, other_key: str) -> None:
    assert (await create(api, valid_input()))["userErrors"] == []
    assert (await create(api, valid_input(), key=other_key))["userErrors"] == []
    assert len(await stored_rows("phone_numbers")) == 2


async def test_agent_of_another_organization_is_not_found(api: Api, other_key: str) -> None:
    foreign = (await api.gql(CREATE_AGENT, {"input": {"name": "Theirs"}}, key=other_key))["createAgent"]["agent"]
    payload = await create(api, valid_input(agentId=foreign["id"]))
    assert payload["userErrors"] == [
        {"field": ["input", "agentId"], "code": "NOT_FOUND", "message": f"Agent {foreign['id']} does not exist"}
    ]
    assert await stored_rows("phone_numbers") == []


async def test_phone_number_of_another_organization_reads_as_null(api: Api, other_key: str) -> None:
    created = (await create(api, valid_input()))["phoneNumber"]
    assert (await api.gql(PHONE_NUMBER, {"id": created["id"]}, key=other_key)) == {"phoneNumber": None}
    assert (await api.gql(PHONE_NUMBER, {"id": str(uuid.uuid4())})) == {"phoneNumber": None}
    assert (await api.gql(PHONE_NUMBER, {"id": "not-an-id"})) == {"phoneNumber": None}


# --- secrets -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "secret", "column"),
    [
        pytest.param(twilio(), TWILIO_TOKEN, "twilio_auth_token_encrypted", id="twilio-auth-token"),
        pytest.param(sip_registration(), SIP_PASSWORD, "sip_password_encrypted", id="sip-password"),
    ],
)
async def test_secrets_are_never_returned_nor_stored_in_plain_text(
    api: Api, provider: dict, secret: str, column: str
) -> None:
    response = await api.post(CREATE_PHONE_NUMBER, {"input": valid_input(provider=provider)})
    assert response.status_code == 200 and response.json()["data"]["createPhoneNumber"]["userErrors"] == []
    assert secret not in response.text
    phone_id = response.json()["data"]["createPhoneNumber"]["phoneNumber"]["id"]
    read = await api.post(PHONE_NUMBER, {"id": phone_id})
    assert secret not in read.text

    (row,) = await stored_rows("phone_numbers")
    assert all(secret not in str(value) for value in row.values())
    assert row[column].startswith("v1:")


async def test_refused_secrets_are_not_echoed(api: Api) -> None:
    response = await api.post(
        CREATE_PHONE_NUMBER, {"input": valid_input(provider=twilio(authToken="s3cret-" + "x" * 130))}
    )
    assert response.json()["data"]["createPhoneNumber"]["userErrors"][0]["code"] == "TOO_LONG"
    assert "s3cret-" not in response.text


# --- shapes the schema itself refuses --------------------------------------------


@pytest.mark.parametrize(
    ("provider", "message"),
    [
        pytest.param({**twilio(), "voximplant": {}}, "must specify exactly one key", id="two-providers"),
        pytest.param({}, "must specify exactly one key", id="no-provider"),
        pytest.param({"twilio": None}, "Value for member field 'twilio' must be non-null", id="null-provider"),
        pytest.param(
            {"sip": {"registration": sip_registration()["sip"]["registration"], "ipAllowlist": {"ip": "203.0.113.10"}}},
            "must specify exactly one key",
            id="two-sip-modes",
        ),
        pytest.param({"sip": {}}, "must specify exactly one key", id="no-sip-mode"),
        pytest.param({"fax": {}}, "not to include unknown field 'fax'", id="unknown-provider"),
        pytest.param(twilio(region="us1"), "not to include unknown field 'region'", id="unknown-field"),
        pytest.param(sip_registration(port="5060"), "Int cannot represent non-integer value", id="wrong-type"),
        pytest.param(
            sip_registration(registerTransport="SCTP"),
            "Value does not exist in 'SipTransport' enum",
            id="unknown-transport",
        ),
        pytest.param(
            {"twilio": {"accountSid": TWILIO_SID}}, "to include required field 'authToken'", id="missing-required"
        ),
    ],
)
async def test_shape_errors_stay_graphql_errors(api: Api, provider: dict, message: str) -> None:
    response = await api.post(CREATE_PHONE_NUMBER, {"input": valid_input(provider=provider)})
    body = response.json()
    assert body.get("data") is None
    assert any(message in error["message"] for error in body["errors"]), body["errors"]
    assert await stored_rows("phone_numbers") == []


LEAKY_SECRET = "leaky'secret\\é-0123456789"


@pytest.mark.parametrize(
    "provider",
    [
        pytest.param(twilio(authToken=LEAKY_SECRET, region="us1"), id="unknown-field-beside-secret"),
        # graphql-core quotes the input after its "Did you mean" hint as "Found: ...".
        pytest.param(twilio(authToken=LEAKY_SECRET, authTokn="x"), id="misspelt-field-beside-secret"),
        pytest.param(twilio(authToken={"nested": LEAKY_SECRET}), id="secret-in-an-object"),
        pytest.param({"twilio": {"accountSid": LEAKY_SECRET}}, id="missing-field-beside-secret"),
        pytest.param(sip_registration(port=LEAKY_SECRET), id="secret-in-an-int"),
        pytest.param(sip_registration(registerTransport=LEAKY_SECRET), id="secret-in-an-enum"),
        pytest.param({"twilio": [LEAKY_SECRET]}, id="secret-in-a-list"),
    ],
)
async def test_shape_errors_do_not_quote_the_input(api: Api, provider: dict) -> None:
    response = await api.post(CREATE_PHONE_NUMBER, {"input": valid_input(provider=provider)})
    errors = response.json()["errors"]
    assert errors and all(e["message"].startswith("Variable '$input' has invalid value at .provider") for e in errors)
    assert "leaky" not in response.text


async def test_inline_literal_errors_do_not_quote_the_input(api: Api) -> None:
    query = 'mutation { createPhoneNumber(input: {number: "+14155550123", provider: {twilio: {authToken: "leaky-inline", x: 1}}}) { userErrors { code } } }'
    response = await api.post(query)
    messages = [e["message"] for e in response.json()["errors"]]
    assert "Expected value of type 'TwilioInput' not to include unknown field 'x'." in messages
    assert "leaky" not in response.text

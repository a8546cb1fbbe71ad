"""createPhoneNumber: every rule of the reference, through HTTP, on a real database."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import Api, stored_rows
from tests.graphql_ops import (
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
async def test_create_and_read_back(api: Api, provider: dict, provider_enum: str, sip_mode: str | None, config: dict) -> None:
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
    ["+14155550123", "+1 415 555 0123", "+1-415-555-0123", "+1.415.555.0123", "+1 (415) 555-0123", "0014155550123", " +14155550123 "],
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

LONG_HOST = "a" * 60 + "." + "b" * 36 + ".com"  # 101 characters
assert len(LONG_HOST) == 101


def nested(levels: int) -> Any:
    value: Any = "deep"
    for _ in range(levels):
        value = [value]
    return value


def rule(name: str, input: dict[str, Any], field: list[str], code: str) -> Any:
    return pytest.param(input, ["input", *field], code, id=name)


RULES = [
    rule("number-required", valid_input(number=""), ["number"], "BLANK"),
    rule("number-blank", valid_input(number="   "), ["number"], "BLANK"),
    rule("number-international-form", valid_input(number="4155550123"), ["number"], "INVALID"),
    rule("number-characters", valid_input(number="+1 415 555 0123 ext 9"), ["number"], "INVALID"),
    rule("number-letters", valid_input(number="+1-800-FLOWERS"), ["number"], "INVALID"),
    rule("number-not-a-number", valid_input(number="+1234"), ["number"], "INVALID"),
    rule("number-unknown-country-code", valid_input(number="+999 1234 5678"), ["number"], "INVALID"),
    rule("name-too-long", valid_input(name="n" * 101), ["name"], "TOO_LONG"),
    rule("agent-id-not-uuid", valid_input(agentId="agent-7"), ["agentId"], "INVALID"),
    rule("agent-id-unknown", valid_input(agentId=str(uuid.uuid4())), ["agentId"], "NOT_FOUND"),
    rule("metadata-list", valid_input(metadata=["a"]), ["metadata"], "INVALID"),
    rule("metadata-scalar", valid_input(metadata="text"), ["metadata"], "INVALID"),
    rule("metadata-51-keys", valid_input(metadata={f"k{i}": i for i in range(51)}), ["metadata"], "TOO_LONG"),
    rule("metadata-key-41", valid_input(metadata={"k" * 41: 1}), ["metadata", "k" * 41], "TOO_LONG"),
    rule("metadata-value-501", valid_input(metadata={"note": "v" * 501}), ["metadata", "note"], "TOO_LONG"),
    rule("metadata-nested-value-501", valid_input(metadata={"a": {"b": "v" * 501}}), ["metadata", "a", "b"], "TOO_LONG"),
    rule("metadata-over-8kib", valid_input(metadata={f"k{i}": "v" * 450 for i in range(20)}), ["metadata"], "TOO_LONG"),
    rule("metadata-too-deep", valid_input(metadata={"a": nested(11)}), ["metadata", "a", *["0"] * 10], "INVALID"),
    rule("twilio-account-sid-blank", valid_input(provider=twilio(accountSid="")), ["provider", "twilio", "accountSid"], "BLANK"),
    rule("twilio-account-sid-format", valid_input(provider=twilio(accountSid="AC123")), ["provider", "twilio", "accountSid"], "INVALID"),
    rule(
        "twilio-account-sid-prefix",
        valid_input(provider=twilio(accountSid="SK" + "0" * 32)),
        ["provider", "twilio", "accountSid"],
        "INVALID",
    ),
    rule(
        "twilio-account-sid-not-hex",
        valid_input(provider=twilio(accountSid="AC" + "g" * 32)),
        ["provider", "twilio", "accountSid"],
        "INVALID",
    ),
    rule("twilio-auth-token-blank", valid_input(provider=twilio(authToken=" ")), ["provider", "twilio", "authToken"], "BLANK"),
    rule("twilio-auth-token-129", valid_input(provider=twilio(authToken="t" * 129)), ["provider", "twilio", "authToken"], "TOO_LONG"),
    rule("sip-username-blank", valid_input(provider=sip_registration(username="")), ["provider", "sip", "registration", "username"], "BLANK"),
    rule(
        "sip-username-61",
        valid_input(provider=sip_registration(username="u" * 61)),
        ["provider", "sip", "registration", "username"],
        "TOO_LONG",
    ),
    rule("sip-password-blank", valid_input(provider=sip_registration(password="")), ["provider", "sip", "registration", "password"], "BLANK"),
    rule(
        "sip-password-129",
        valid_input(provider=sip_registration(password="p" * 129)),
        ["provider", "sip", "registration", "password"],
        "TOO_LONG",
    ),
    rule("sip-proxy-blank", valid_input(provider=sip_registration(proxy="")), ["provider", "sip", "registration", "proxy"], "BLANK"),
    rule("sip-proxy-101", valid_input(provider=sip_registration(proxy=LONG_HOST)), ["provider", "sip", "registration", "proxy"], "TOO_LONG"),
    rule(
        "sip-proxy-scheme",
        valid_input(provider=sip_registration(proxy="sip:pbx.example.com")),
        ["provider", "sip", "registration", "proxy"],
        "INVALID",
    ),
    rule(
        "sip-proxy-port",
        valid_input(provider=sip_registration(proxy="pbx.example.com:5060")),
        ["provider", "sip", "registration", "proxy"],
        "INVALID",
    ),
    rule(
        "sip-proxy-not-a-host",
        valid_input(provider=sip_registration(proxy="pbx example!com")),
        ["provider", "sip", "registration", "proxy"],
        "INVALID",
    ),
    rule(
        "sip-outbound-proxy-101",
        valid_input(provider=sip_registration(outboundProxy=LONG_HOST)),
        ["provider", "sip", "registration", "outboundProxy"],
        "TOO_LONG",
    ),
    rule(
        "sip-outbound-proxy-scheme",
        valid_input(provider=sip_registration(outboundProxy="sips:proxy.example.com")),
        ["provider", "sip", "registration", "outboundProxy"],
        "INVALID",
    ),
    rule(
        "sip-outbound-proxy-blank",
        valid_input(provider=sip_registration(outboundProxy="")),
        ["provider", "sip", "registration", "outboundProxy"],
        "BLANK",
    ),
    rule(
        "sip-auth-user-61",
        valid_input(provider=sip_registration(authUser="a" * 61)),
        ["provider", "sip", "registration", "authUser"],
        "TOO_LONG",
    ),
    rule("sip-registration-port-0", valid_input(provider=sip_registration(port=0)), ["provider", "sip", "registration", "port"], "OUT_OF_RANGE"),
    rule(
        "sip-registration-port-65536",
        valid_input(provider=sip_registration(port=65536)),
        ["provider", "sip", "registration", "port"],
        "OUT_OF_RANGE",
    ),
    rule("sip-ip-blank", valid_input(provider=sip_ip_allowlist(ip="")), ["provider", "sip", "ipAllowlist", "ip"], "BLANK"),
    rule("sip-ip-256", valid_input(provider=sip_ip_allowlist(ip="1" * 256)), ["provider", "sip", "ipAllowlist", "ip"], "TOO_LONG"),
    rule("sip-ip-octet", valid_input(provider=sip_ip_allowlist(ip="203.0.113.256")), ["provider", "sip", "ipAllowlist", "ip"], "INVALID"),
    rule("sip-ip-host-name", valid_input(provider=sip_ip_allowlist(ip="pbx.example.com")), ["provider", "sip", "ipAllowlist", "ip"], "INVALID"),
    rule("sip-ip-port-0", valid_input(provider=sip_ip_allowlist(port=0)), ["provider", "sip", "ipAllowlist", "port"], "OUT_OF_RANGE"),
    rule("sip-ip-port-65536", valid_input(provider=sip_ip_allowlist(port=65536)), ["provider", "sip", "ipAllowlist", "port"], "OUT_OF_RANGE"),
    rule(
        "voximplant-application-id-65",
        valid_input(provider={"voximplant": {"applicationId": "9" * 65}}),
        ["provider", "voximplant", "applicationId"],
        "TOO_LONG",
    ),
    rule(
        "jambonz-application-sid-uuid",
        valid_input(provider={"jambonz": {"applicationSid": "app-1"}}),
        ["provider", "jambonz", "applicationSid"],
        "INVALID",
    ),
]


@pytest.mark.parametrize(("input", "field", "code"), RULES)
async def test_rule_refuses_and_saves_nothing(api: Api, input: dict, field: list[str], code: str) -> None:
    payload = await create(api, input)

    assert payload["phoneNumber"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert payload["userErrors"][0]["message"]
    assert await stored_rows("phone_numbers") == []


BOUNDARIES = [
    pytest.param(valid_input(name="n" * 100), id="name-100"),
    pytest.param(valid_input(metadata={f"k{i}": i for i in range(50)}), id="metadata-50-keys"),
    pytest.param(valid_input(metadata={"k" * 40: "v" * 500}), id="metadata-key-40-value-500"),
    pytest.param(valid_input(provider=twilio(authToken="t" * 128)), id="twilio-auth-token-128"),
    pytest.param(valid_input(provider=twilio(accountSid="AC" + "ABCDEF0123456789" * 2)), id="twilio-account-sid-upper-hex"),
    pytest.param(valid_input(provider=sip_registration(username="u" * 60, password="p" * 128, authUser="a" * 60)), id="sip-60-128-60"),
    pytest.param(valid_input(provider=sip_registration(proxy="p" * 60 + "." + "q" * 35 + ".com")), id="sip-proxy-100"),
    pytest.param(valid_input(provider=sip_registration(proxy="198.51.100.7", port=1)), id="sip-proxy-ip-port-1"),
    pytest.param(valid_input(provider=sip_registration(port=65535)), id="sip-port-65535"),
    pytest.param(valid_input(provider=sip_ip_allowlist(ip="::1", port=65535)), id="sip-ip-v6-port-65535"),
]


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
        {"field": ["input", "number"], "code": "TAKEN", "message": "Number +14155550123 already exists in this organization"}
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
async def test_secrets_are_never_returned_nor_stored_in_plain_text(api: Api, provider: dict, secret: str, column: str) -> None:
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
    response = await api.post(CREATE_PHONE_NUMBER, {"input": valid_input(provider=twilio(authToken="s3cret-" + "x" * 130))})
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
        pytest.param(sip_registration(registerTransport="SCTP"), "Value does not exist in 'SipTransport' enum", id="unknown-transport"),
        pytest.param({"twilio": {"accountSid": TWILIO_SID}}, "to include required field 'authToken'", id="missing-required"),
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

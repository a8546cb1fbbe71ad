"""The reference's rules as one table, run through both GraphQL and REST.

Each case is a flat body in the reference's own field names (as REST takes
it); `graphql_input` turns it into the equivalent CreatePhoneNumberInput.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tests.graphql_ops import SIP_PASSWORD, TWILIO_SID, TWILIO_TOKEN

NUMBER = "+14155550123"
TWILIO = {"provider": "twilio", "twilioAccountSid": TWILIO_SID, "twilioAuthToken": TWILIO_TOKEN}
REGISTRATION = {
    "provider": "sip",
    "sipMode": "registration",
    "sipUsername": "agent-1",
    "sipPassword": SIP_PASSWORD,
    "sipProxy": "pbx.example.com",
}
ALLOWLIST = {"provider": "sip", "sipMode": "ip_allowlist", "sipIp": "203.0.113.10"}

LONG_HOST = "a" * 60 + "." + "b" * 36 + ".com"  # 101 characters
assert len(LONG_HOST) == 101

_CONFIG_NAMES = {
    "twilioAccountSid": "accountSid",
    "twilioAuthToken": "authToken",
    "sipUsername": "username",
    "sipPassword": "password",
    "sipProxy": "proxy",
    "sipOutboundProxy": "outboundProxy",
    "sipAuthUser": "authUser",
    "sipIp": "ip",
    "sipPort": "port",
    "sipProtocol": "protocol",
    "sipRegisterTransport": "registerTransport",
    "voximplantApplicationId": "applicationId",
    "voximplantRuleId": "ruleId",
    "jambonzApplicationSid": "applicationSid",
    "jambonzCarrierSid": "carrierSid",
}
_ENUMS = {"sipProtocol", "sipRegisterTransport"}


def graphql_input(body: dict[str, Any]) -> dict[str, Any]:
    provider = body.get("provider", "twilio")
    config = {
        _CONFIG_NAMES[k]: (v.upper() if k in _ENUMS and isinstance(v, str) else v)
        for k, v in body.items()
        if k in _CONFIG_NAMES
    }
    if provider == "sip":
        mode = "ipAllowlist" if body.get("sipMode") == "ip_allowlist" else "registration"
        config = {mode: config}
    top = {k: v for k, v in body.items() if k in {"number", "name", "agentId", "metadata"}}
    return {**top, "provider": {provider: config}}


def body(config: dict[str, Any] = TWILIO, **fields: Any) -> dict[str, Any]:
    return {"number": NUMBER, **config, **fields}


def nested(levels: int) -> Any:
    value: Any = "deep"
    for _ in range(levels):
        value = [value]
    return value


@dataclass(frozen=True)
class RuleCase:
    id: str
    body: dict[str, Any]
    rest_field: str  # the reference's flat field name
    graphql_path: tuple[str, ...]  # below "input"
    code: str
    # False where GraphQL's schema refuses the shape before any rule runs.
    graphql: bool = True


REG = ("provider", "sip", "registration")
IPL = ("provider", "sip", "ipAllowlist")

RULE_CASES = [
    RuleCase("number-required", body(number=""), "number", ("number",), "BLANK"),
    RuleCase("number-blank", body(number="   "), "number", ("number",), "BLANK"),
    RuleCase("number-international-form", body(number="4155550123"), "number", ("number",), "INVALID"),
    RuleCase("number-characters", body(number="+1 415 555 0123 ext 9"), "number", ("number",), "INVALID"),
    RuleCase("number-letters", body(number="+1-800-FLOWERS"), "number", ("number",), "INVALID"),
    RuleCase("number-not-a-number", body(number="+1234"), "number", ("number",), "INVALID"),
    RuleCase("number-unknown-country-code", body(number="+999 1234 5678"), "number", ("number",), "INVALID"),
    RuleCase("name-too-long", body(name="n" * 101), "name", ("name",), "TOO_LONG"),
    RuleCase("name-nul", body(name="Front\x00desk"), "name", ("name",), "INVALID"),
    RuleCase("name-escape-sequence", body(name="Front \x1b[31mdesk"), "name", ("name",), "INVALID"),
    RuleCase("agent-id-not-uuid", body(agentId="agent-7"), "agentId", ("agentId",), "INVALID"),
    RuleCase("agent-id-unknown", body(agentId=str(uuid.uuid4())), "agentId", ("agentId",), "NOT_FOUND"),
    RuleCase("metadata-list", body(metadata=["a"]), "metadata", ("metadata",), "INVALID"),
    RuleCase("metadata-scalar", body(metadata="text"), "metadata", ("metadata",), "INVALID"),
    RuleCase("metadata-51-keys", body(metadata={f"k{i}": i for i in range(51)}), "metadata", ("metadata",), "TOO_LONG"),
    RuleCase("metadata-key-41", body(metadata={"k" * 41: 1}), "metadata." + "k" * 41, ("metadata", "k" * 41), "TOO_LONG"),
    RuleCase("metadata-value-501", body(metadata={"note": "v" * 501}), "metadata.note", ("metadata", "note"), "TOO_LONG"),
    RuleCase("metadata-nested-value-501", body(metadata={"a": {"b": "v" * 501}}), "metadata.a.b", ("metadata", "a", "b"), "TOO_LONG"),
    RuleCase("metadata-over-8kib", body(metadata={f"k{i}": "v" * 450 for i in range(20)}), "metadata", ("metadata",), "TOO_LONG"),
    RuleCase("metadata-value-nul", body(metadata={"note": "a\x00b"}), "metadata.note", ("metadata", "note"), "INVALID"),
    RuleCase("metadata-key-nul", body(metadata={"a\x00": 1}), "metadata.a\x00", ("metadata", "a\x00"), "INVALID"),
    RuleCase("metadata-too-deep", body(metadata={"a": nested(11)}), "metadata.a" + ".0" * 10, ("metadata", "a", *["0"] * 10), "INVALID"),
    RuleCase("twilio-account-sid-blank", body(twilioAccountSid=""), "twilioAccountSid", ("provider", "twilio", "accountSid"), "BLANK"),
    RuleCase("twilio-account-sid-required", {"number": NUMBER, "twilioAuthToken": "t"}, "twilioAccountSid", ("provider", "twilio", "accountSid"), "BLANK", graphql=False),
    RuleCase("twilio-account-sid-format", body(twilioAccountSid="AC123"), "twilioAccountSid", ("provider", "twilio", "accountSid"), "INVALID"),
    RuleCase("twilio-account-sid-prefix", body(twilioAccountSid="SK" + "0" * 32), "twilioAccountSid", ("provider", "twilio", "accountSid"), "INVALID"),
    RuleCase("twilio-account-sid-not-hex", body(twilioAccountSid="AC" + "g" * 32), "twilioAccountSid", ("provider", "twilio", "accountSid"), "INVALID"),
    RuleCase("twilio-auth-token-blank", body(twilioAuthToken=" "), "twilioAuthToken", ("provider", "twilio", "authToken"), "BLANK"),
    RuleCase("twilio-auth-token-nul", body(twilioAuthToken="tok\x00en"), "twilioAuthToken", ("provider", "twilio", "authToken"), "INVALID"),
    RuleCase("twilio-auth-token-129", body(twilioAuthToken="t" * 129), "twilioAuthToken", ("provider", "twilio", "authToken"), "TOO_LONG"),
    RuleCase("sip-username-blank", body(REGISTRATION, sipUsername=""), "sipUsername", (*REG, "username"), "BLANK"),
    RuleCase("sip-username-control", body(REGISTRATION, sipUsername="agent\x7f"), "sipUsername", (*REG, "username"), "INVALID"),
    RuleCase("sip-username-61", body(REGISTRATION, sipUsername="u" * 61), "sipUsername", (*REG, "username"), "TOO_LONG"),
    RuleCase("sip-password-blank", body(REGISTRATION, sipPassword=""), "sipPassword", (*REG, "password"), "BLANK"),
    RuleCase("sip-password-129", body(REGISTRATION, sipPassword="p" * 129), "sipPassword", (*REG, "password"), "TOO_LONG"),
    RuleCase("sip-proxy-blank", body(REGISTRATION, sipProxy=""), "sipProxy", (*REG, "proxy"), "BLANK"),
    RuleCase("sip-proxy-101", body(REGISTRATION, sipProxy=LONG_HOST), "sipProxy", (*REG, "proxy"), "TOO_LONG"),
    RuleCase("sip-proxy-scheme", body(REGISTRATION, sipProxy="sip:pbx.example.com"), "sipProxy", (*REG, "proxy"), "INVALID"),
    RuleCase("sip-proxy-port", body(REGISTRATION, sipProxy="pbx.example.com:5060"), "sipProxy", (*REG, "proxy"), "INVALID"),
    RuleCase("sip-proxy-not-a-host", body(REGISTRATION, sipProxy="pbx example!com"), "sipProxy", (*REG, "proxy"), "INVALID"),
    RuleCase("sip-outbound-proxy-101", body(REGISTRATION, sipOutboundProxy=LONG_HOST), "sipOutboundProxy", (*REG, "outboundProxy"), "TOO_LONG"),
    RuleCase(
        "sip-outbound-proxy-scheme",
        body(REGISTRATION, sipOutboundProxy="sips:proxy.example.com"),
        "sipOutboundProxy",
        (*REG, "outboundProxy"),
        "INVALID",
    ),
    RuleCase("sip-outbound-proxy-blank", body(REGISTRATION, sipOutboundProxy=""), "sipOutboundProxy", (*REG, "outboundProxy"), "BLANK"),
    RuleCase("sip-auth-user-61", body(REGISTRATION, sipAuthUser="a" * 61), "sipAuthUser", (*REG, "authUser"), "TOO_LONG"),
    RuleCase("sip-registration-port-0", body(REGISTRATION, sipPort=0), "sipPort", (*REG, "port"), "OUT_OF_RANGE"),
    RuleCase("sip-registration-port-65536", body(REGISTRATION, sipPort=65536), "sipPort", (*REG, "port"), "OUT_OF_RANGE"),
    RuleCase("sip-ip-blank", body(ALLOWLIST, sipIp=""), "sipIp", (*IPL, "ip"), "BLANK"),
    RuleCase("sip-ip-256", body(ALLOWLIST, sipIp="1" * 256), "sipIp", (*IPL, "ip"), "TOO_LONG"),
    RuleCase("sip-ip-octet", body(ALLOWLIST, sipIp="203.0.113.256"), "sipIp", (*IPL, "ip"), "INVALID"),
    RuleCase("sip-ip-host-name", body(ALLOWLIST, sipIp="pbx.example.com"), "sipIp", (*IPL, "ip"), "INVALID"),
    RuleCase("sip-ip-port-0", body(ALLOWLIST, sipPort=0), "sipPort", (*IPL, "port"), "OUT_OF_RANGE"),
    RuleCase("sip-ip-port-65536", body(ALLOWLIST, sipPort=65536), "sipPort", (*IPL, "port"), "OUT_OF_RANGE"),
    RuleCase(
        "voximplant-application-id-65",
        body({"provider": "voximplant"}, voximplantApplicationId="9" * 65),
        "voximplantApplicationId",
        ("provider", "voximplant", "applicationId"),
        "TOO_LONG",
    ),
    RuleCase(
        "jambonz-application-sid-uuid",
        body({"provider": "jambonz"}, jambonzApplicationSid="app-1"),
        "jambonzApplicationSid",
        ("provider", "jambonz", "applicationSid"),
        "INVALID",
    ),
]

BOUNDARY_CASES = {
    "name-100": body(name="n" * 100),
    "name-tab-and-line-break": body(name="Front\tdesk\nlobby"),
    "metadata-line-breaks": body(metadata={"note": "line 1\r\nline 2\tend"}),
    "metadata-50-keys": body(metadata={f"k{i}": i for i in range(50)}),
    "metadata-key-40-value-500": body(metadata={"k" * 40: "v" * 500}),
    "twilio-auth-token-128": body(twilioAuthToken="t" * 128),
    "twilio-account-sid-upper-hex": body(twilioAccountSid="AC" + "ABCDEF0123456789" * 2),
    "sip-60-128-60": body(REGISTRATION, sipUsername="u" * 60, sipPassword="p" * 128, sipAuthUser="a" * 60),
    "sip-proxy-100": body(REGISTRATION, sipProxy="p" * 60 + "." + "q" * 35 + ".com"),
    "sip-proxy-ip-port-1": body(REGISTRATION, sipProxy="198.51.100.7", sipPort=1),
    "sip-port-65535": body(REGISTRATION, sipPort=65535),
    "sip-ip-v6-port-65535": body(ALLOWLIST, sipIp="::1", sipPort=65535),
}

"""The reference's rules as one table, run through both GraphQL and REST.

Each case is a flat body in the reference's own field names (as REST takes
it); `graphql_input` turns it into the equivalent CreatePhoneNumberInput.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tests.support.graphql_ops import SIP_PASSWORD, TWILIO_SID, TWILIO_TOKEN

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

# A key over the 40-character limit is named by an excerpt of at most 40 characters.
LONG_KEY_EXCERPT = "k" * 39 + "…"
# JavaScript's Number.MAX_SAFE_INTEGER: the largest integer every client holds exactly.
MAX_SAFE_INTEGER = 2**53 - 1

# Characters no credential may hold: every control character (tab and line
# breaks included), line and paragraph separators, bidi controls and invisible
# (zero-width, default-ignorable) characters.
UNSAFE_CREDENTIAL_CHARACTERS = {
    "tab": "\t",
    "cr": "\r",
    "lf": "\n",
    "crlf": "\r\n",
    "vertical-tab": "\x0b",
    "nul": "\x00",
    "escape": "\x1b",
    "del": "\x7f",
    "c1-next-line": "\x85",
    "c1-csi": "\x9b",
    "line-separator": "\u2028",
    "paragraph-separator": "\u2029",
    "arabic-letter-mark": "\u061c",
    "left-to-right-mark": "\u200e",
    "right-to-left-mark": "\u200f",
    "left-to-right-embedding": "\u202a",
    "right-to-left-embedding": "\u202b",
    "pop-directional-formatting": "\u202c",
    "left-to-right-override": "\u202d",
    "right-to-left-override": "\u202e",
    "left-to-right-isolate": "\u2066",
    "right-to-left-isolate": "\u2067",
    "first-strong-isolate": "\u2068",
    "pop-directional-isolate": "\u2069",
    "zero-width-space": "\u200b",
    "zero-width-non-joiner": "\u200c",
    "zero-width-joiner": "\u200d",
    "word-joiner": "\u2060",
    "invisible-separator": "\u2063",
    "byte-order-mark": "\ufeff",
    "soft-hyphen": "\u00ad",
    "mongolian-vowel-separator": "\u180e",
    "interlinear-annotation-anchor": "\ufff9",
    "language-tag": "\U000e0001",
    "tag-letter": "\U000e0041",
    "combining-grapheme-joiner": "\u034f",
    "hangul-filler": "\u3164",
    "halfwidth-hangul-filler": "\uffa0",
    "variation-selector": "\ufe0f",
    "khmer-vowel-inherent": "\u17b4",
}
# Where in the value: the middle, the ends (trimming would hide them), and the attack itself.
UNSAFE_CREDENTIAL_VALUES = {
    **{name: f"agent{character}x-0123" for name, character in UNSAFE_CREDENTIAL_CHARACTERS.items()},
    "trailing-crlf": "agent-0123\r\n",
    "leading-override": "\u202eagent-0123",
    "trailing-line-separator": "agent-0123\u2028",
    "sip-header-injection": "agent\r\nVia: SIP/2.0/UDP evil.example",
}
CREDENTIAL_FIELDS = {
    "sipUsername": (REGISTRATION, (*REG, "username")),
    "sipAuthUser": (REGISTRATION, (*REG, "authUser")),
    "sipPassword": (REGISTRATION, (*REG, "password")),
    "twilioAuthToken": (TWILIO, ("provider", "twilio", "authToken")),
}

# Addresses Switchboard would never be right to connect to or tell a carrier
# to trust, by kind; IPv6 forms that embed an IPv4 address are judged by it.
LOCAL_ADDRESSES = {
    "loopback": "127.0.0.1",
    "loopback-range": "127.255.255.254",
    "loopback-v6": "::1",
    "loopback-v6-uncompressed": "0:0:0:0:0:0:0:1",
    "unspecified": "0.0.0.0",
    "this-network": "0.1.2.3",
    "unspecified-v6": "::",
    "link-local-metadata-service": "169.254.169.254",
    "link-local-v6": "fe80::1",
    "multicast": "224.0.0.1",
    "multicast-ssdp": "239.255.255.250",
    "multicast-v6": "ff02::1",
    "broadcast": "255.255.255.255",
    "reserved": "240.0.0.1",
    "site-local-v6": "fec0::1",
    "discard-only-v6": "100::1",
    "mapped-loopback": "::ffff:127.0.0.1",
    "mapped-loopback-hex": "::FFFF:7F00:1",
    "mapped-link-local": "::ffff:169.254.169.254",
    "mapped-unspecified": "::ffff:0.0.0.0",
    "nat64-loopback": "64:ff9b::7f00:1",
    "nat64-dotted-link-local": "64:ff9b::169.254.169.254",
    "sixtofour-loopback": "2002:7f00:1::",
    "teredo-loopback-client": "2001:0:4136:e378:8000:63bf:80ff:fffe",
    "ipv4-compatible-loopback": "::127.0.0.1",
}
# Names of this machine (RFC 6761 and /etc/hosts), in any case and with the root's dot.
LOCAL_NAMES = {
    "localhost": "localhost",
    "localhost-upper": "LOCALHOST",
    "localhost-trailing-dot": "localhost.",
    "under-localhost": "pbx.localhost",
    "under-localhost-mixed-case-dot": "a.b.LocalHost.",
    "localhost-fullwidth": "\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54",
    # What /etc/hosts calls this machine on Debian and Red Hat.
    "localhost-localdomain": "localhost.localdomain",
    "ip6-localhost": "ip6-localhost",
    "ip6-loopback": "IP6-LOOPBACK",
    "localhost6": "localhost6",
}
# Host spellings that resolvers read as IPv4 addresses but that are not the
# dotted-quad form: they have no canonical form, so they are refused whatever they name.
NUMERIC_HOSTS = {
    "hex": "0x7f000001",
    "hex-upper": "0X7F000001",
    "decimal": "2130706433",
    "decimal-public": "3405803786",
    "short": "127.1",
    "three-parts": "127.0.1",
    "octal": "0177.0.0.1",
    "octal-whole": "017700000001",
    "hex-parts": "0x7f.0.0.1",
    "trailing-dot": "127.0.0.1.",
    "public-trailing-dot": "203.0.113.10.",
    "five-parts": "1.2.3.4.5",
}
# IPv6 zone IDs: local to the sender, and a way to smuggle text into a SIP URI.
ZONE_IDS = {
    "interface": "fe80::1%eth0",
    "global-with-zone": "2001:db8::1%eth0",
    "numeric-zone": "2001:db8::1%1",
    "uri-escaped-zone": "2001:db8::1%25eth0",
    "sip-uri-injection": "::1%; transport=tcp>,<sip:evil@attacker.example",
    "bracketed-with-spaces": "[::1%a b c]",
    "bracketed": "[2001:db8::1%1]",
}
# PBXs live in private ranges: those stay allowed.
PRIVATE_ADDRESSES = {
    "private-10": "10.0.0.1",
    "private-172": "172.16.5.4",
    "private-192": "192.168.1.10",
    "unique-local-v6": "fd00::1",
    "shared-address-space": "100.64.0.1",
    "mapped-private": "::ffff:10.0.0.1",
    "documentation": "198.51.100.7",
}
ACCEPTED_NAMES = {
    "internal-name": "pbx.internal",
    "mdns-name": "pbx.local",
    "idn": "b\u00fccher.example",
    "a-label": "xn--bcher-kva.example",
    "upper-trailing-dot": "PBX.Example.COM.",
    "localhost-in-a-label": "localhost-pbx.example",
    "localhost-first-label": "localhost.example",
    "digits-first": "123.example",
}


def _host_cases() -> list[RuleCase]:
    fields = [
        ("sipProxy", REGISTRATION, (*REG, "proxy")),
        ("sipOutboundProxy", REGISTRATION, (*REG, "outboundProxy")),
        ("sipIp", ALLOWLIST, (*IPL, "ip")),
    ]
    cases = []
    for rest_field, config, path in fields:
        values = {**LOCAL_ADDRESSES, **{f"zone-{k}": v for k, v in ZONE_IDS.items()}}
        if rest_field != "sipIp":
            values |= {f"bracketed-{k}": f"[{v}]" for k, v in LOCAL_ADDRESSES.items() if ":" in v}
            values |= LOCAL_NAMES | {f"numeric-{k}": v for k, v in NUMERIC_HOSTS.items()}
        cases += [
            RuleCase(f"{rest_field}-{kind}", body(config, **{rest_field: value}), rest_field, path, "INVALID")
            for kind, value in values.items()
        ]
    return cases


def _credential_cases() -> list[RuleCase]:
    return [
        RuleCase(f"{rest_field}-{kind}", body(config, **{rest_field: value}), rest_field, path, "INVALID")
        for rest_field, (config, path) in CREDENTIAL_FIELDS.items()
        for kind, value in UNSAFE_CREDENTIAL_VALUES.items()
    ]


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
    # Paths never echo long input: a key over the limit is named by an excerpt.
    RuleCase(
        "metadata-key-41",
        body(metadata={"k" * 41: 1}),
        "metadata." + LONG_KEY_EXCERPT,
        ("metadata", LONG_KEY_EXCERPT),
        "TOO_LONG",
    ),
    RuleCase(
        "metadata-value-501", body(metadata={"note": "v" * 501}), "metadata.note", ("metadata", "note"), "TOO_LONG"
    ),
    RuleCase(
        "metadata-nested-value-501",
        body(metadata={"a": {"b": "v" * 501}}),
        "metadata.a.b",
        ("metadata", "a", "b"),
        "TOO_LONG",
    ),
    RuleCase(
        "metadata-over-8kib",
        body(metadata={f"k{i}": "v" * 450 for i in range(20)}),
        "metadata",
        ("metadata",),
        "TOO_LONG",
    ),
    RuleCase("metadata-value-nul", body(metadata={"note": "a\x00b"}), "metadata.note", ("metadata", "note"), "INVALID"),
    RuleCase("metadata-key-nul", body(metadata={"a\x00": 1}), "metadata.a\x00", ("metadata", "a\x00"), "INVALID"),
    RuleCase(
        "metadata-too-deep",
        body(metadata={"a": nested(11)}),
        "metadata.a" + ".0" * 10,
        ("metadata", "a", *["0"] * 10),
        "INVALID",
    ),
    RuleCase(
        "metadata-integer-over-2^53",
        body(metadata={"a": MAX_SAFE_INTEGER + 1}),
        "metadata.a",
        ("metadata", "a"),
        "INVALID",
    ),
    RuleCase(
        "metadata-integer-under-minus-2^53",
        body(metadata={"a": -MAX_SAFE_INTEGER - 1}),
        "metadata.a",
        ("metadata", "a"),
        "INVALID",
    ),
    RuleCase("metadata-integer-64-bit", body(metadata={"a": 2**63 - 1}), "metadata.a", ("metadata", "a"), "INVALID"),
    # orjson reads integers beyond 64 bits as floats: refused all the same.
    RuleCase(
        "metadata-integer-beyond-64-bits", body(metadata={"a": 2**64}), "metadata.a", ("metadata", "a"), "INVALID"
    ),
    RuleCase(
        "metadata-integer-of-30-digits",
        body(metadata={"a": -123456789012345678901234567890}),
        "metadata.a",
        ("metadata", "a"),
        "INVALID",
    ),
    RuleCase("metadata-float-over-2^53", body(metadata={"a": 1.5e308}), "metadata.a", ("metadata", "a"), "INVALID"),
    RuleCase(
        "metadata-nested-integer",
        body(metadata={"a": {"b": [1, 2**60]}}),
        "metadata.a.b.1",
        ("metadata", "a", "b", "1"),
        "INVALID",
    ),
    RuleCase(
        "metadata-nested-51-keys",
        body(metadata={"a": {f"k{i}": i for i in range(51)}}),
        "metadata.a",
        ("metadata", "a"),
        "TOO_LONG",
    ),
    RuleCase(
        "metadata-51-keys-in-a-list",
        body(metadata={"a": [{"b": {f"k{i}": i for i in range(51)}}]}),
        "metadata.a.0.b",
        ("metadata", "a", "0", "b"),
        "TOO_LONG",
    ),
    RuleCase(
        "metadata-nested-key-41",
        body(metadata={"a": {"k" * 41: 1}}),
        "metadata.a." + LONG_KEY_EXCERPT,
        ("metadata", "a", LONG_KEY_EXCERPT),
        "TOO_LONG",
    ),
    RuleCase(
        "metadata-key-41-in-a-list",
        body(metadata={"a": [1, {"k" * 41: 1}]}),
        "metadata.a.1." + LONG_KEY_EXCERPT,
        ("metadata", "a", "1", LONG_KEY_EXCERPT),
        "TOO_LONG",
    ),
    RuleCase(
        "twilio-account-sid-blank",
        body(twilioAccountSid=""),
        "twilioAccountSid",
        ("provider", "twilio", "accountSid"),
        "BLANK",
    ),
    RuleCase(
        "twilio-account-sid-required",
        {"number": NUMBER, "twilioAuthToken": "t"},
        "twilioAccountSid",
        ("provider", "twilio", "accountSid"),
        "BLANK",
        graphql=False,
    ),
    RuleCase(
        "twilio-account-sid-format",
        body(twilioAccountSid="AC123"),
        "twilioAccountSid",
        ("provider", "twilio", "accountSid"),
        "INVALID",
    ),
    RuleCase(
        "twilio-account-sid-prefix",
        body(twilioAccountSid="SK" + "0" * 32),
        "twilioAccountSid",
        ("provider", "twilio", "accountSid"),
        "INVALID",
    ),
    RuleCase(
        "twilio-account-sid-not-hex",
        body(twilioAccountSid="AC" + "g" * 32),
        "twilioAccountSid",
        ("provider", "twilio", "accountSid"),
        "INVALID",
    ),
    RuleCase(
        "twilio-auth-token-blank",
        body(twilioAuthToken=" "),
        "twilioAuthToken",
        ("provider", "twilio", "authToken"),
        "BLANK",
    ),
    RuleCase(
        "twilio-auth-token-nul",
        body(twilioAuthToken="tok\x00en"),
        "twilioAuthToken",
        ("provider", "twilio", "authToken"),
        "INVALID",
    ),
    RuleCase(
        "twilio-auth-token-129",
        body(twilioAuthToken="t" * 129),
        "twilioAuthToken",
        ("provider", "twilio", "authToken"),
        "TOO_LONG",
    ),
    RuleCase("sip-username-blank", body(REGISTRATION, sipUsername=""), "sipUsername", (*REG, "username"), "BLANK"),
    RuleCase(
        "sip-username-control",
        body(REGISTRATION, sipUsername="agent\x7f"),
        "sipUsername",
        (*REG, "username"),
        "INVALID",
    ),
    RuleCase(
        "sip-username-61", body(REGISTRATION, sipUsername="u" * 61), "sipUsername", (*REG, "username"), "TOO_LONG"
    ),
    RuleCase("sip-password-blank", body(REGISTRATION, sipPassword=""), "sipPassword", (*REG, "password"), "BLANK"),
    RuleCase(
        "sip-password-129", body(REGISTRATION, sipPassword="p" * 129), "sipPassword", (*REG, "password"), "TOO_LONG"
    ),
    RuleCase("sip-proxy-blank", body(REGISTRATION, sipProxy=""), "sipProxy", (*REG, "proxy"), "BLANK"),
    RuleCase("sip-proxy-101", body(REGISTRATION, sipProxy=LONG_HOST), "sipProxy", (*REG, "proxy"), "TOO_LONG"),
    RuleCase(
        "sip-proxy-scheme", body(REGISTRATION, sipProxy="sip:pbx.example.com"), "sipProxy", (*REG, "proxy"), "INVALID"
    ),
    RuleCase(
        "sip-proxy-port", body(REGISTRATION, sipProxy="pbx.example.com:5060"), "sipProxy", (*REG, "proxy"), "INVALID"
    ),
    RuleCase(
        "sip-proxy-not-a-host", body(REGISTRATION, sipProxy="pbx example!com"), "sipProxy", (*REG, "proxy"), "INVALID"
    ),
    RuleCase(
        "sip-outbound-proxy-101",
        body(REGISTRATION, sipOutboundProxy=LONG_HOST),
        "sipOutboundProxy",
        (*REG, "outboundProxy"),
        "TOO_LONG",
    ),
    RuleCase(
        "sip-outbound-proxy-scheme",
        body(REGISTRATION, sipOutboundProxy="sips:proxy.example.com"),
        "sipOutboundProxy",
        (*REG, "outboundProxy"),
        "INVALID",
    ),
    RuleCase(
        "sip-outbound-proxy-blank",
        body(REGISTRATION, sipOutboundProxy=""),
        "sipOutboundProxy",
        (*REG, "outboundProxy"),
        "BLANK",
    ),
    RuleCase(
        "sip-auth-user-61", body(REGISTRATION, sipAuthUser="a" * 61), "sipAuthUser", (*REG, "authUser"), "TOO_LONG"
    ),
    RuleCase("sip-registration-port-0", body(REGISTRATION, sipPort=0), "sipPort", (*REG, "port"), "OUT_OF_RANGE"),
    RuleCase(
        "sip-registration-port-65536", body(REGISTRATION, sipPort=65536), "sipPort", (*REG, "port"), "OUT_OF_RANGE"
    ),
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
    *_credential_cases(),
    *_host_cases(),
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
    "sip-ip-v6-port-65535": body(ALLOWLIST, sipIp="2001:db8::1", sipPort=65535),
    "metadata-safe-numbers": body(
        metadata={"a": MAX_SAFE_INTEGER, "b": -MAX_SAFE_INTEGER, "c": 9.0e15, "d": -0.0, "e": 0.1}
    ),
    "metadata-nested-50-keys-of-40": body(
        metadata={"a": {f"k{i}": i for i in range(50)}, "b": [{"k" * 40: {"k" * 40: 1}}]}
    ),
    "credentials-with-spaces-and-letters": body(
        REGISTRATION, sipUsername="agent ü-1", sipAuthUser="auth ñ", sipPassword=" pass wörd 🔒 "
    ),
    "twilio-auth-token-with-spaces": body(twilioAuthToken="token with spaces 0123"),
    **{f"sip-ip-{kind}": body(ALLOWLIST, sipIp=address) for kind, address in PRIVATE_ADDRESSES.items()},
    **{f"sip-proxy-{kind}": body(REGISTRATION, sipProxy=address) for kind, address in PRIVATE_ADDRESSES.items()},
    **{
        f"sip-outbound-proxy-{kind}": body(REGISTRATION, sipOutboundProxy=address)
        for kind, address in PRIVATE_ADDRESSES.items()
    },
    **{f"sip-proxy-{kind}": body(REGISTRATION, sipProxy=name) for kind, name in ACCEPTED_NAMES.items()},
}

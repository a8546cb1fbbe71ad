"""The REST API's flat fields, as the reference names and documents them.

One table feeds the request parser, the error field names and the OpenAPI
document, so the three cannot drift apart. The rules themselves are in
resolvers/: this table only says where each flat field goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models import Provider, SipMode

# (provider, SIP mode) pairs a configuration field belongs to.
Config = tuple[Provider, SipMode | None]
TWILIO: Config = (Provider.TWILIO, None)
SIP_REGISTRATION: Config = (Provider.SIP, SipMode.REGISTRATION)
SIP_IP_ALLOWLIST: Config = (Provider.SIP, SipMode.IP_ALLOWLIST)
VOXIMPLANT: Config = (Provider.VOXIMPLANT, None)
JAMBONZ: Config = (Provider.JAMBONZ, None)

TRANSPORTS = ("udp", "tcp", "tls")


@dataclass(frozen=True)
class RestField:
    name: str
    json_type: str  # "string", "integer", "boolean" or "object"
    description: str
    attr: str = ""  # attribute of the resolvers' input dataclass
    configs: tuple[Config, ...] = ()  # empty: a field of every number
    nullable: bool = False
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[str, ...] | None = None
    default: Any = None
    format: str | None = None

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": [self.json_type, "null"] if self.nullable else self.json_type}
        schema["description"] = self.description
        for key, value in (
            ("maxLength", self.max_length),
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("default", self.default),
            ("format", self.format),
        ):
            if value is not None:
                schema[key] = value
        if self.enum is not None:
            schema["enum"] = [*self.enum, None] if self.nullable else list(self.enum)
        return schema


FIELDS: tuple[RestField, ...] = (
    RestField("name", "string", "Display name, trimmed. Null clears it on update.", nullable=True, max_length=100),
    RestField(
        "number",
        "string",
        "The phone number in international form (+ or 00, then the country code; spaces, dashes, dots and "
        "brackets allowed). Stored and returned as E.164. Unique within the organization.",
        max_length=64,
    ),
    RestField("provider", "string", "Telephony provider.", enum=tuple(p.value for p in Provider), default="twilio"),
    RestField(
        "sipMode",
        "string",
        "SIP trunk mode. Use 'registration' for username/password auth, 'ip_allowlist' for IP-based "
        "allowlisting. Only applicable when provider is 'sip'.",
        enum=tuple(m.value for m in SipMode),
        default="registration",
    ),
    RestField("agentId", "string", "The agent this number is tied to. Null unties it.", nullable=True, format="uuid"),
    RestField(
        "metadata",
        "object",
        "Free-form JSON object: at most 50 keys of at most 40 characters, string values of at most 500 "
        "characters, 8 KiB serialized. Null clears it on update.",
        nullable=True,
    ),
    RestField(
        "twilioAccountSid",
        "string",
        "Required if provider is 'twilio'. 'AC' followed by 32 hexadecimal digits.",
        attr="account_sid",
        configs=(TWILIO,),
        max_length=34,
    ),
    RestField(
        "twilioAuthToken",
        "string",
        "Required if provider is 'twilio'. Stored encrypted; never returned.",
        attr="auth_token",
        configs=(TWILIO,),
        max_length=128,
    ),
    RestField(
        "sipUsername",
        "string",
        "Required if provider is 'sip' and sipMode is 'registration'.",
        attr="username",
        configs=(SIP_REGISTRATION,),
        max_length=60,
    ),
    RestField(
        "sipPassword",
        "string",
        "Required if provider is 'sip' and sipMode is 'registration'. Stored encrypted; never returned.",
        attr="password",
        configs=(SIP_REGISTRATION,),
        max_length=128,
    ),
    RestField(
        "sipProxy",
        "string",
        "SIP registrar host (e.g. 'pbx.example.com'), without 'sip:' or a port. Required if provider is 'sip' "
        "and sipMode is 'registration'. In registration mode, this is the host Switchboard registers TO.",
        attr="proxy",
        configs=(SIP_REGISTRATION,),
        max_length=100,
    ),
    RestField(
        "sipOutboundProxy",
        "string",
        "Optional SIP outbound proxy. Used when SIP traffic needs to route through a proxy instead of directly "
        "to the host. Only used in registration mode.",
        attr="outbound_proxy",
        configs=(SIP_REGISTRATION,),
        nullable=True,
        max_length=100,
    ),
    RestField(
        "sipAuthUser",
        "string",
        "Optional SIP authentication username, if different from sipUsername. Only used in registration mode.",
        attr="auth_user",
        configs=(SIP_REGISTRATION,),
        nullable=True,
        max_length=60,
    ),
    RestField(
        "sipIp",
        "string",
        "IP address (IPv4 or IPv6) of your PBX/SBC. Required if provider is 'sip' and sipMode is 'ip_allowlist'.",
        attr="ip",
        configs=(SIP_IP_ALLOWLIST,),
        max_length=255,
    ),
    RestField(
        "sipPort",
        "integer",
        "SIP port number. Used in both 'registration' and 'ip_allowlist' modes.",
        attr="port",
        configs=(SIP_REGISTRATION, SIP_IP_ALLOWLIST),
        minimum=1,
        maximum=65535,
        default=5060,
    ),
    RestField(
        "sipProtocol",
        "string",
        "SIP transport protocol. Used when sipMode is 'ip_allowlist'.",
        attr="protocol",
        configs=(SIP_IP_ALLOWLIST,),
        enum=TRANSPORTS,
        default="udp",
    ),
    RestField(
        "sipRegisterTransport",
        "string",
        "SIP registration transport protocol. Used when sipMode is 'registration'.",
        attr="register_transport",
        configs=(SIP_REGISTRATION,),
        enum=TRANSPORTS,
        default="udp",
    ),
    RestField(
        "voximplantApplicationId",
        "string",
        "Optional Voximplant application ID (a Switchboard extension of the reference).",
        attr="application_id",
        configs=(VOXIMPLANT,),
        nullable=True,
        max_length=64,
    ),
    RestField(
        "voximplantRuleId",
        "string",
        "Optional Voximplant rule ID (a Switchboard extension of the reference).",
        attr="rule_id",
        configs=(VOXIMPLANT,),
        nullable=True,
        max_length=64,
    ),
    RestField(
        "jambonzApplicationSid",
        "string",
        "Optional jambonz application SID, a UUID (a Switchboard extension of the reference).",
        attr="application_sid",
        configs=(JAMBONZ,),
        nullable=True,
        max_length=64,
    ),
    RestField(
        "jambonzCarrierSid",
        "string",
        "Optional jambonz carrier SID, a UUID (a Switchboard extension of the reference).",
        attr="carrier_sid",
        configs=(JAMBONZ,),
        nullable=True,
        max_length=64,
    ),
    RestField(
        "verify",
        "boolean",
        "Not stored: when true, the provider configuration the request leaves is checked first (as POST "
        "/v1/phone-numbers/{id}/verify does), and nothing is saved unless the check answers ok: a 400 whose details "
        "name `verify` says what was tried and what answered (voximplant and jambonz can't be checked, so they always "
        "fail it). When ok, the result is stored as the number's `health` with the write. Charged as a verify.",
        default=False,
    ),
)

BY_NAME: dict[str, RestField] = {f.name: f for f in FIELDS}
CONFIG_FIELDS: tuple[RestField, ...] = tuple(f for f in FIELDS if f.configs)

"""Provider configurations: each field's facts, declared once.

A field's label (in error messages), limit, required flag, default and
descriptions are written here and nowhere else. The GraphQL inputs take their
descriptions and defaults from these specs, the REST field table
(switchboard/rest_fields.py) and so the OpenAPI document are built from them,
docs/rules.md is generated from them, and tests/test_provider_specs.py checks
every surface, the model's column lengths included, against them.

Descriptions are templates filled from the field's own facts: {max_length},
{min}, {max}, {default}, the shared rule texts {host} and {credential}, and,
in REST descriptions, {required} ("Required if provider is 'sip' and sipMode
is 'registration'.").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from models import PhoneNumber, Provider, SipMode, SipTransport
from resolvers import rules
from resolvers.context import Policy
from resolvers.errors import ErrorCode, Errors, FieldPath
from resolvers.rules import OMITTED, PORT_MAX, PORT_MIN


class Kind(Enum):
    """What a field holds, which decides the rule that checks it."""

    TEXT = "text"  # trimmed text
    CREDENTIAL = "credential"  # a username: trimmed, reaches SIP headers verbatim
    SECRET = "secret"  # a password or token: a credential kept as sent, stored encrypted, never returned
    TWILIO_ACCOUNT_SID = "twilio account sid"
    HOST = "host"  # a SIP target: host name or IP address
    IP = "ip"  # a SIP target: an IP address only
    PORT = "port"
    TRANSPORT = "transport"
    UUID = "uuid"  # a reference another system issues as a UUID


HOST_RULES = (
    "A host name or IP address, without 'sip:', a port or an IPv6 zone ID. At most {max_length} characters. "
    "Not localhost nor a loopback, link-local, multicast or other local address (private ranges are fine). "
    "Stored lower case, without the final dot, internationalised names as IDNA A-labels, IPv4-mapped IPv6 as IPv4."
)
CREDENTIAL_RULES = "No control characters (tab and line breaks included), line separators, bidi controls or invisible characters."


@dataclass(frozen=True)
class ConfigField:
    attr: str  # attribute of the input dataclass; camelCased, the field's GraphQL name
    column: str  # PhoneNumber column (secrets: before encryption)
    rest: str  # the REST API's flat field name, the reference's
    label: str  # names the field in error messages
    kind: Kind
    required: bool = False
    max_length: int | None = None
    default: Any = None  # taken when the field is omitted or null
    description: str | None = None  # GraphQL, a template
    rest_description: str = ""  # REST and OpenAPI, a template

    @property
    def name(self) -> str:
        """The field's name in GraphQL and in error paths."""
        first, *rest = self.attr.split("_")
        return first + "".join(part.capitalize() for part in rest)

    @property
    def secret(self) -> bool:
        return self.kind is Kind.SECRET

    @property
    def minimum(self) -> int | None:
        return PORT_MIN if self.kind is Kind.PORT else None

    @property
    def maximum(self) -> int | None:
        return PORT_MAX if self.kind is Kind.PORT else None

    def _facts(self, default: Any) -> dict[str, Any]:
        facts = {"max_length": self.max_length, "min": self.minimum, "max": self.maximum, "default": default}
        return {**facts, "host": HOST_RULES.format(**facts), "credential": CREDENTIAL_RULES}

    def graphql_description(self) -> str | None:
        default = self.default.name if isinstance(self.default, Enum) else self.default
        return None if self.description is None else self.description.format(**self._facts(default))

    def graphql_update_description(self) -> str | None:
        """On update inputs, where null restores the default."""
        if self.default is None:
            return None
        default = self.default.name if isinstance(self.default, Enum) else self.default
        return f"Null restores the default, {default}."

    def rest_default(self) -> Any:
        return self.default.value if isinstance(self.default, Enum) else self.default

    def check(self, errors: Errors, path: FieldPath, value: Any, policy: Policy) -> Any:
        """The value to store, or None (with the reason added to `errors`)."""
        length = self.max_length or 0
        common = {"label": self.label, "max_length": length}
        match self.kind:
            case Kind.TEXT:
                return rules.text(errors, path, value, **common, required=self.required)
            case Kind.CREDENTIAL | Kind.SECRET:
                return rules.credential(errors, path, value, **common, required=self.required, strip=not self.secret)
            case Kind.HOST:
                return rules.host(errors, path, value, **common, required=self.required, allow_local=policy.allow_local_targets)
            case Kind.IP:
                return rules.ip_address(errors, path, value, **common, allow_local=policy.allow_local_targets)
            case Kind.PORT:
                return rules.port(errors, path, value, label=self.label)
            case Kind.TRANSPORT:
                return SipTransport(value)
            case Kind.TWILIO_ACCOUNT_SID:
                return _account_sid(errors, path, value, self)
            case Kind.UUID:
                return _uuid_reference(errors, path, value, self)
        raise AssertionError(self.kind)


def _account_sid(errors: Errors, path: FieldPath, value: Any, field: ConfigField) -> str | None:
    checked = rules.text(errors, path, value, label=field.label, max_length=field.max_length or 0, required=field.required)
    if checked is not None and not rules.TWILIO_ACCOUNT_SID.match(checked):
        errors.add(
            path,
            ErrorCode.INVALID,
            f"{field.label} must be 'AC' followed by 32 hexadecimal digits (find it in the Twilio console)",
        )
        return None
    return checked


def _uuid_reference(errors: Errors, path: FieldPath, value: Any, field: ConfigField) -> str | None:
    checked = rules.text(errors, path, value, label=field.label, max_length=field.max_length or 0, required=field.required)
    if checked is None:
        return None
    parsed = rules.parse_uuid(checked)
    if parsed is None:
        errors.add(path, ErrorCode.INVALID, f"{field.label} must be a UUID, as jambonz issues them")
        return None
    return str(parsed)


@dataclass(frozen=True)
class ProviderSpec:
    provider: Provider
    sip_mode: SipMode | None
    path: FieldPath  # where its input sits, below the operation's input: ("provider", "sip", "registration")
    fields: tuple[ConfigField, ...]

    def __post_init__(self) -> None:
        for f in self.fields:
            # A REST description states the requirement exactly when the field is required.
            if f.required != ("{required}" in f.rest_description):
                raise ValueError(f"{f.rest}: put {{required}} in rest_description exactly when the field is required")

    @property
    def where(self) -> str:
        """The provider and SIP mode in the reference's words."""
        mode = f" and sipMode is '{self.sip_mode.value}'" if self.sip_mode else ""
        return f"provider is '{self.provider.value}'{mode}"

    def rest_description(self, field: ConfigField) -> str:
        facts = field._facts(field.rest_default())
        return field.rest_description.format(**facts, required=f"Required if {self.where}.")


# --- the configuration inputs, as every transport hands them to the resolvers ---


@dataclass
class TwilioConfigInput:
    account_sid: Any = OMITTED
    auth_token: Any = OMITTED


@dataclass
class SipRegistrationConfigInput:
    username: Any = OMITTED
    password: Any = OMITTED
    proxy: Any = OMITTED
    outbound_proxy: Any = OMITTED
    auth_user: Any = OMITTED
    port: Any = OMITTED
    register_transport: Any = OMITTED


@dataclass
class SipIpAllowlistConfigInput:
    ip: Any = OMITTED
    port: Any = OMITTED
    protocol: Any = OMITTED


@dataclass
class VoximplantConfigInput:
    application_id: Any = OMITTED
    rule_id: Any = OMITTED


@dataclass
class JambonzConfigInput:
    application_sid: Any = OMITTED
    carrier_sid: Any = OMITTED


ProviderConfigInput = (
    TwilioConfigInput | SipRegistrationConfigInput | SipIpAllowlistConfigInput | VoximplantConfigInput | JambonzConfigInput
)


# --- the specs -------------------------------------------------------------------

# One field of both SIP modes.
SIP_PORT = ConfigField(
    "port",
    "sip_port",
    "sipPort",
    "SIP port",
    Kind.PORT,
    default=5060,
    description="{min} to {max}; default {default}.",
    rest_description="SIP port number. Used in both 'registration' and 'ip_allowlist' modes.",
)

TWILIO = ProviderSpec(
    Provider.TWILIO,
    None,
    ("provider", "twilio"),
    (
        ConfigField(
            "account_sid",
            "twilio_account_sid",
            "twilioAccountSid",
            "Twilio account SID",
            Kind.TWILIO_ACCOUNT_SID,
            required=True,
            max_length=34,
            description="'AC' followed by 32 hexadecimal digits.",
            rest_description="{required} 'AC' followed by 32 hexadecimal digits.",
        ),
        ConfigField(
            "auth_token",
            "twilio_auth_token",
            "twilioAuthToken",
            "Twilio auth token",
            Kind.SECRET,
            required=True,
            max_length=128,
            description="At most {max_length} characters. Stored encrypted, never returned. {credential}",
            rest_description="{required} Stored encrypted; never returned.",
        ),
    ),
)
SIP_REGISTRATION = ProviderSpec(
    Provider.SIP,
    SipMode.REGISTRATION,
    ("provider", "sip", "registration"),
    (
        ConfigField(
            "username",
            "sip_username",
            "sipUsername",
            "SIP username",
            Kind.CREDENTIAL,
            required=True,
            max_length=60,
            description="At most {max_length} characters. {credential}",
            rest_description="{required}",
        ),
        ConfigField(
            "password",
            "sip_password",
            "sipPassword",
            "SIP password",
            Kind.SECRET,
            required=True,
            max_length=128,
            description="At most {max_length} characters; spaces are kept. Stored encrypted, never returned. {credential}",
            rest_description="{required} Stored encrypted; never returned.",
        ),
        ConfigField(
            "proxy",
            "sip_proxy",
            "sipProxy",
            "SIP registrar host (proxy)",
            Kind.HOST,
            required=True,
            max_length=100,
            description="SIP registrar host (e.g. 'pbx.example.com'): the host Switchboard registers TO. {host}",
            rest_description="SIP registrar host (e.g. 'pbx.example.com'), without 'sip:' or a port. {required} "
            "In registration mode, this is the host Switchboard registers TO.",
        ),
        ConfigField(
            "outbound_proxy",
            "sip_outbound_proxy",
            "sipOutboundProxy",
            "SIP outbound proxy",
            Kind.HOST,
            max_length=100,
            description="Optional SIP outbound proxy, used when SIP traffic must route through a proxy "
            "instead of directly to the registrar. {host}",
            rest_description="Optional SIP outbound proxy. Used when SIP traffic needs to route through a proxy instead "
            "of directly to the host. Only used in registration mode.",
        ),
        ConfigField(
            "auth_user",
            "sip_auth_user",
            "sipAuthUser",
            "SIP auth user",
            Kind.CREDENTIAL,
            max_length=60,
            description="Optional SIP authentication username, if different from username. "
            "At most {max_length} characters. {credential}",
            rest_description="Optional SIP authentication username, if different from sipUsername. "
            "Only used in registration mode.",
        ),
        SIP_PORT,
        ConfigField(
            "register_transport",
            "sip_transport",
            "sipRegisterTransport",
            "SIP registration transport",
            Kind.TRANSPORT,
            default=SipTransport.UDP,
            description="SIP registration transport protocol; default {default}.",
            rest_description="SIP registration transport protocol. Used when sipMode is 'registration'.",
        ),
    ),
)
SIP_IP_ALLOWLIST = ProviderSpec(
    Provider.SIP,
    SipMode.IP_ALLOWLIST,
    ("provider", "sip", "ipAllowlist"),
    (
        ConfigField(
            "ip",
            "sip_ip",
            "sipIp",
            "PBX IP address",
            Kind.IP,
            required=True,
            max_length=255,
            description="IPv4 or IPv6 address of your PBX/SBC, without an IPv6 zone ID. At most {max_length} characters. "
            "Not a loopback, link-local, multicast or other local address (private ranges are fine). "
            "Stored compressed and lower case, IPv4-mapped IPv6 as IPv4.",
            rest_description="IP address (IPv4 or IPv6) of your PBX/SBC. {required}",
        ),
        SIP_PORT,
        ConfigField(
            "protocol",
            "sip_transport",
            "sipProtocol",
            "SIP transport protocol",
            Kind.TRANSPORT,
            default=SipTransport.UDP,
            description="SIP transport protocol; default {default}.",
            rest_description="SIP transport protocol. Used when sipMode is 'ip_allowlist'.",
        ),
    ),
)
VOXIMPLANT = ProviderSpec(
    Provider.VOXIMPLANT,
    None,
    ("provider", "voximplant"),
    tuple(
        ConfigField(
            attr,
            f"voximplant_{attr}",
            rest,
            label,
            Kind.TEXT,
            max_length=64,
            description="At most {max_length} characters.",
            rest_description=f"Optional {label} (a Switchboard extension of the reference).",
        )
        for attr, rest, label in (
            ("application_id", "voximplantApplicationId", "Voximplant application ID"),
            ("rule_id", "voximplantRuleId", "Voximplant rule ID"),
        )
    ),
)
JAMBONZ = ProviderSpec(
    Provider.JAMBONZ,
    None,
    ("provider", "jambonz"),
    tuple(
        ConfigField(
            attr,
            f"jambonz_{attr}",
            rest,
            label,
            Kind.UUID,
            max_length=64,
            rest_description=f"Optional {label}, a UUID (a Switchboard extension of the reference).",
        )
        for attr, rest, label in (
            ("application_sid", "jambonzApplicationSid", "jambonz application SID"),
            ("carrier_sid", "jambonzCarrierSid", "jambonz carrier SID"),
        )
    ),
)

SPECS: dict[type, ProviderSpec] = {
    TwilioConfigInput: TWILIO,
    SipRegistrationConfigInput: SIP_REGISTRATION,
    SipIpAllowlistConfigInput: SIP_IP_ALLOWLIST,
    VoximplantConfigInput: VOXIMPLANT,
    JambonzConfigInput: JAMBONZ,
}

# Secrets are validated under a plain name and stored under an encrypted one.
SECRET_COLUMNS: dict[str, str] = {
    f.column: f"{f.column}_encrypted" for spec in SPECS.values() for f in spec.fields if f.secret
}
# Every configuration column, so that choosing a provider clears the others'.
CONFIG_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(f.column for spec in SPECS.values() for f in spec.fields))


def spec_of(row: PhoneNumber) -> ProviderSpec:
    return next(s for s in SPECS.values() if (s.provider, s.sip_mode) == (row.provider, row.sip_mode))


def field_of(spec: ProviderSpec, attr: str) -> ConfigField:
    return next(f for f in spec.fields if f.attr == attr)

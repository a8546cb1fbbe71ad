"""What a provider configuration field is, and the rule that checks it.

The declarations themselves, one spec per provider and SIP mode, are in
resolvers/providers.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from models import Provider, SipMode, SipTransport
from resolvers import rules
from resolvers.context import Policy
from resolvers.errors import ErrorCode, Errors, FieldPath
from resolvers.rules import PORT_MAX, PORT_MIN


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

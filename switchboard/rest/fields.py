"""The REST API's flat fields, as the reference names and documents them.

One table feeds the request parser, the error field names and the OpenAPI
document, so the three cannot drift apart. The provider fields are built from
the provider specs (resolvers/providers.py), which hold their names, limits,
defaults and descriptions; the rules themselves are in resolvers/ too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models import Provider, SipMode, SipTransport
from resolvers.phone_numbers import NAME_MAX_LENGTH
from resolvers.provider_fields import ConfigField, Kind, ProviderSpec
from resolvers.providers import SPECS

# (provider, SIP mode) pairs a configuration field belongs to.
Config = tuple[Provider, SipMode | None]


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


_TOP_LEVEL: tuple[RestField, ...] = (
    RestField("name", "string", "Display name, trimmed. Null clears it on update.", nullable=True, max_length=NAME_MAX_LENGTH),
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
        "verify",
        "boolean",
        "Not stored: when true, the provider configuration the request leaves is checked first (as POST "
        "/v1/phone-numbers/{id}/verify does), and nothing is saved unless the check answers ok: a 400 whose details "
        "name `verify` says what was tried and what answered (voximplant and jambonz can't be checked, so they always "
        "fail it). When ok, the result is stored as the number's `health` with the write. Charged as a verify.",
        default=False,
    ),
)


def _config_field(fields: list[ConfigField], specs: list[ProviderSpec]) -> RestField:
    """The flat field of one provider field, or of the same field in several modes (sipPort)."""
    (field,) = set(fields)  # one declaration, shared by every mode it belongs to
    (description,) = {spec.rest_description(field) for spec in specs}
    return RestField(
        field.rest,
        "integer" if field.kind is Kind.PORT else "string",
        description,
        attr=field.attr,
        configs=tuple((spec.provider, spec.sip_mode) for spec in specs),
        nullable=not field.required and field.default is None,
        max_length=field.max_length,
        minimum=field.minimum,
        maximum=field.maximum,
        enum=tuple(t.value for t in SipTransport) if field.kind is Kind.TRANSPORT else None,
        default=field.rest_default(),
    )


def _config_fields() -> tuple[RestField, ...]:
    by_name: dict[str, tuple[list[ConfigField], list[ProviderSpec]]] = {}
    for spec in SPECS.values():
        for field in spec.fields:
            fields, specs = by_name.setdefault(field.rest, ([], []))
            fields.append(field)
            specs.append(spec)
    return tuple(_config_field(fields, specs) for fields, specs in by_name.values())


FIELDS: tuple[RestField, ...] = _TOP_LEVEL + _config_fields()
BY_NAME: dict[str, RestField] = {f.name: f for f in FIELDS}
CONFIG_FIELDS: tuple[RestField, ...] = tuple(f for f in FIELDS if f.configs)

"""Every surface of a provider field agrees with its one declaration, the spec in resolvers/providers.py.

Walks every spec: a provider missing its create input, update input, read
type, REST fields or OpenAPI entry fails here, and so does a description,
default, limit or required flag anywhere that differs from the spec, or a spec
that differs from the reference document.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLUnionType,
    build_schema,
    get_named_type,
    is_non_null_type,
    print_ast,
)
from tortoise.fields import CharField, IntField, TextField
from tortoise.fields.data import CharEnumFieldInstance

from models import PhoneNumber, Provider, SipMode, SipTransport
from resolvers.provider_fields import ConfigField, Kind, ProviderSpec
from resolvers.providers import SECRET_COLUMNS, SPECS
from schema import schema
from switchboard.rest.fields import BY_NAME
from switchboard.rest.openapi import openapi_document

SDL = build_schema(schema.as_str())
DOCUMENT = openapi_document()
SCHEMAS = DOCUMENT["components"]["schemas"]
CASES = [(spec, field) for spec in SPECS.values() for field in spec.fields]


def spec_id(spec: ProviderSpec) -> str:
    return ".".join(spec.path[1:])


def field_id(case: tuple[ProviderSpec, ConfigField]) -> str:
    spec, field = case
    return f"{spec_id(spec)}.{field.name}"


def input_at(root: str, path: tuple[str, ...]) -> GraphQLInputObjectType:
    """The input type at `path` below an operation's input type, as a client reaches it."""
    current = SDL.get_type(root)
    for step in path:
        assert isinstance(current, GraphQLInputObjectType)
        assert step in current.fields, f"{root} has no input at {'.'.join(path)}: add it to the schema"
        current = get_named_type(current.fields[step].type)
    assert isinstance(current, GraphQLInputObjectType)
    return current


def read_field_name(field: ConfigField) -> str:
    return f"{field.name}Set" if field.secret else field.name  # a secret is only said to be stored


def graphql_default(field: ConfigField) -> str | None:
    if field.default is None:
        return None
    return field.default.name if isinstance(field.default, Enum) else str(field.default)


# --- every provider has every surface ---------------------------------------------------


def test_every_provider_and_sip_mode_has_a_spec() -> None:
    configs = {(spec.provider, spec.sip_mode) for spec in SPECS.values()}
    expected = {(p, None) for p in Provider if p is not Provider.SIP} | {(Provider.SIP, m) for m in SipMode}
    assert configs == expected


@pytest.mark.parametrize("spec", SPECS.values(), ids=spec_id)
def test_create_input_has_the_specs_fields(spec: ProviderSpec) -> None:
    created = input_at("CreatePhoneNumberInput", spec.path)
    assert set(created.fields) == {f.name for f in spec.fields}
    for field in spec.fields:
        graphql = created.fields[field.name]
        assert is_non_null_type(graphql.type) == field.required, field.name
        assert graphql.description == field.graphql_description(), field.name
        default = graphql.ast_node.default_value if graphql.ast_node else None
        assert (None if default is None else print_ast(default)) == graphql_default(field), field.name


@pytest.mark.parametrize("spec", SPECS.values(), ids=spec_id)
def test_update_input_has_the_specs_fields(spec: ProviderSpec) -> None:
    updated = input_at("UpdatePhoneNumberInput", spec.path)
    assert set(updated.fields) == {f.name for f in spec.fields}
    for field in spec.fields:
        graphql = updated.fields[field.name]
        assert not is_non_null_type(graphql.type), f"{field.name}: every update field may be left out"
        if updated.name.endswith("UpdateInput"):
            assert graphql.description == field.graphql_update_description(), field.name


@pytest.mark.parametrize("spec", SPECS.values(), ids=spec_id)
def test_read_type_has_the_specs_fields(spec: ProviderSpec) -> None:
    union = SDL.get_type("ProviderConfig")
    assert isinstance(union, GraphQLUnionType)
    expected = {read_field_name(f) for f in spec.fields}
    matches = [t for t in union.types if set(t.fields) == expected]
    assert len(matches) == 1, f"one ProviderConfig member must have exactly the fields {sorted(expected)}"
    (read,) = matches
    assert isinstance(read, GraphQLObjectType)
    for field in spec.fields:
        always_set = field.required or field.default is not None or field.secret
        assert is_non_null_type(read.fields[read_field_name(field)].type) == always_set, field.name


@pytest.mark.parametrize("case", CASES, ids=field_id)
def test_rest_field_and_openapi_entry_match_the_spec(case: tuple[ProviderSpec, ConfigField]) -> None:
    spec, field = case
    rest = BY_NAME.get(field.rest)
    assert rest is not None, f"no REST field {field.rest}"
    assert (spec.provider, spec.sip_mode) in rest.configs
    assert rest.attr == field.attr
    for name in ("PhoneNumberCreate", "PhoneNumberUpdate"):
        entry = SCHEMAS[name]["properties"].get(field.rest)
        assert entry is not None, f"{name} has no {field.rest}"
        assert entry.get("maxLength") == field.max_length
        assert entry.get("default") == field.rest_default()
        assert (entry.get("minimum"), entry.get("maximum")) == (field.minimum, field.maximum)
        assert ("null" in entry["type"]) == (not field.required and field.default is None)
        assert (f"Required if {spec.where}." in entry["description"]) == field.required
    if field.kind is Kind.TRANSPORT:
        assert rest.enum == tuple(t.value for t in SipTransport)


def test_openapi_names_every_provider_and_sip_mode() -> None:
    providers = [p.value for p in Provider]
    assert SCHEMAS["PhoneNumberCreate"]["properties"]["provider"]["enum"] == providers
    assert SCHEMAS["PhoneNumber"]["properties"]["provider"]["enum"] == providers
    (listed,) = [p for p in DOCUMENT["paths"]["/v1/phone-numbers"]["get"]["parameters"] if p["name"] == "provider"]
    assert listed["schema"]["enum"] == providers
    modes = [m.value for m in SipMode]
    assert SCHEMAS["PhoneNumberCreate"]["properties"]["sipMode"]["enum"] == modes
    assert SCHEMAS["PhoneNumber"]["properties"]["sipMode"]["enum"] == [*modes, None]


def test_rest_has_no_provider_field_without_a_spec() -> None:
    declared = {f.rest for spec in SPECS.values() for f in spec.fields}
    assert {f.name for f in BY_NAME.values() if f.configs} == declared


# --- the model's columns hold what the spec allows -----------------------------------------


@pytest.mark.parametrize("case", CASES, ids=field_id)
def test_model_column_matches_the_spec(case: tuple[ProviderSpec, ConfigField]) -> None:
    _, field = case
    columns = PhoneNumber._meta.fields_map
    if field.secret:
        assert isinstance(columns[SECRET_COLUMNS[field.column]], TextField)  # ciphertext, longer than the secret
        assert field.column not in columns
    elif field.kind is Kind.PORT:
        assert isinstance(columns[field.column], IntField)
    elif field.kind is Kind.TRANSPORT:
        column = columns[field.column]
        assert isinstance(column, CharEnumFieldInstance) and column.enum_type is SipTransport
    else:
        column = columns[field.column]
        assert isinstance(column, CharField)
        assert column.max_length == field.max_length, f"models/phone_numbers.py: {field.column} max_length"


# --- the reference document's facts ---------------------------------------------------------

REGISTRATION = "provider is 'sip' and sipMode is 'registration'"
# Transcribed from the reference document (create-phone-number): what it says
# of each field. Switchboard may add limits the reference leaves open (e.g.
# sipPassword's length), never loosen or change one it states.
REFERENCE: dict[str, dict[str, Any]] = {
    "provider": {"default": "twilio", "enum": ["twilio", "sip", "voximplant", "jambonz"]},
    "sipMode": {"default": "registration", "enum": ["registration", "ip_allowlist"]},
    "twilioAccountSid": {"required if": "provider is 'twilio'"},
    "twilioAuthToken": {"required if": "provider is 'twilio'"},
    "sipUsername": {"required if": REGISTRATION, "maxLength": 60},
    "sipPassword": {"required if": REGISTRATION},
    "sipProxy": {"required if": REGISTRATION, "maxLength": 100},
    "sipOutboundProxy": {"maxLength": 100, "nullable": True},
    "sipAuthUser": {"maxLength": 60, "nullable": True},
    "sipIp": {"required if": "provider is 'sip' and sipMode is 'ip_allowlist'", "maxLength": 255},
    "sipPort": {"default": 5060, "minimum": 1, "maximum": 65535},
    "sipProtocol": {"default": "udp", "enum": ["udp", "tcp", "tls"]},
    "sipRegisterTransport": {"default": "udp", "enum": ["udp", "tcp", "tls"]},
}


@pytest.mark.parametrize(("name", "facts"), REFERENCE.items(), ids=list(REFERENCE))
def test_the_references_facts_hold(name: str, facts: dict[str, Any]) -> None:
    entry = SCHEMAS["PhoneNumberCreate"]["properties"][name]
    for key in ("default", "enum", "maxLength", "minimum", "maximum"):
        if key in facts:
            assert entry[key] == facts[key], key
    if facts.get("nullable"):
        assert "null" in entry["type"]
    specs = [(spec, f) for spec, f in CASES if f.rest == name]
    required = [spec.where for spec, f in specs if f.required]
    assert required == ([facts["required if"]] if "required if" in facts else [])


def test_a_spec_states_every_requirement_in_rest() -> None:
    field = ConfigField("ip", "sip_ip", "sipIp", "PBX IP address", Kind.IP, required=True, max_length=255)
    with pytest.raises(ValueError, match=r"sipIp: put \{required\} in rest_description"):
        ProviderSpec(Provider.SIP, SipMode.IP_ALLOWLIST, ("provider", "sip", "ipAllowlist"), (field,))

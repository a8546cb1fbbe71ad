"""Hostile input for createPhoneNumber and updatePhoneNumber, through HTTP into the app.

hypothesis sends random and hostile values in every field (huge and unicode
strings, control characters, lone surrogates, nulls, out-of-range integers,
deep JSON, wrong types and shapes), SIP targets that are local, zone IDs,
numeric spellings or other spellings of one host, credentials holding line
breaks, bidi controls or invisible characters, and metadata with numbers no
client holds exactly and nested objects over the limits. Whatever comes in:
no 5xx and no masked internal error, every refusal is a clear error (a
GraphQL error with a message, or user errors with a field, a code and a
message) that quotes input only as a short escaped excerpt, and a refused
input saves nothing. Whatever is saved keeps the rules: credentials free of
those characters, SIP targets canonical and not local, metadata numbers
within ±(2^53 - 1) and at most 50 keys of at most 40 characters in every
object. Derandomized, so CI runs the same examples every time.
"""

from __future__ import annotations

import ipaddress
import json
import math
import operator
import re
import uuid
from typing import Any

import idna
import pytest
import regex
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from models.secrets import SecretBox
from resolvers.errors import ErrorCode
from resolvers.phone_numbers import secret_context
from switchboard.settings import Settings
from tests.support.app import Api, unthrottled
from tests.support.database import ENCRYPTION_KEY, stored_rows
from tests.support.graphql_ops import CREATE_PHONE_NUMBER, UPDATE_PHONE_NUMBER, twilio
from tests.support.helpers import create_number, nth_number
from tests.support.rule_cases import (
    ACCEPTED_NAMES,
    LOCAL_ADDRESSES,
    LOCAL_NAMES,
    NUMERIC_HOSTS,
    PRIVATE_ADDRESSES,
    UNSAFE_CREDENTIAL_CHARACTERS,
    ZONE_IDS,
)
from tests.support.strategies import any_json, hostile_text, huge_ints, scalars, to_json

# Examples per mutation and database: the Hypothesis profile's (conftest.py),
# 1,000 under "ci", so 2,000 on each of SQLite and PostgreSQL; 100 under "dev".
FUZZ = hypothesis_settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return unthrottled(settings)


# Secrets the fuzzer sends start with this, so the session's secret sweep
# (tests/support/secret_sweep.py) can look for them without mistaking another field's
# value for one.
SECRET_MARK = "fuzz-secret:"


def anything(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly values that pass the schema's types, so the rules and the database see hostile input too."""
    return st.one_of(valid, valid, hostile_text, any_json)


# Text with a character no credential may hold, somewhere in it.
unsafe_in_credentials = st.one_of(
    st.sampled_from(list(UNSAFE_CREDENTIAL_CHARACTERS.values())),
    st.characters(categories=["Cc", "Cf", "Zl", "Zp"]),
)
hostile_credential = st.one_of(
    hostile_text,
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=10), unsafe_in_credentials, st.text(max_size=10)),
    st.sampled_from(["agent\r\nVia: SIP/2.0/UDP evil.example", "agent-1\r\n", "\u202eagent", "a b c", "agent ü-1"]),
)

# SIP targets: every kind the rules refuse, the private ranges they allow,
# and other spellings (brackets, case, the root's dot, IPv4-mapped) of both.
KNOWN_TARGETS = [
    *LOCAL_ADDRESSES.values(),
    *LOCAL_NAMES.values(),
    *NUMERIC_HOSTS.values(),
    *ZONE_IDS.values(),
    *PRIVATE_ADDRESSES.values(),
    *ACCEPTED_NAMES.values(),
    "pbx.example.com",
    "203.0.113.10",
    "2001:db8::1",
]


def respell(target: str, how: str) -> str:
    if how == "upper":
        return target.upper()
    if how == "dot":
        return target + "."
    if how == "bracket":
        return f"[{target}]"
    if how == "mapped" and re.fullmatch(r"[0-9.]+", target):
        return f"::ffff:{target}"
    return target


ip_text = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)
targets = st.builds(
    respell,
    st.one_of(
        st.sampled_from(KNOWN_TARGETS),
        ip_text,
        st.from_regex(r"[a-z0-9\-]{1,12}(\.[a-z0-9\-]{1,12}){0,3}", fullmatch=True),
    ),
    st.sampled_from(["as-is", "as-is", "upper", "dot", "bracket", "mapped"]),
)

# Numbers around the ±(2**53 - 1) limit, and floats no client holds at all.
edge_numbers = st.one_of(
    st.integers(2**53 - 3, 2**53 + 3),
    st.integers(-(2**53) - 3, -(2**53) + 3),
    st.integers(2**63 - 2, 2**64 + 2),
    st.floats(allow_nan=False, allow_infinity=False, min_value=1e15, max_value=1e300),
)
long_keys = st.text(min_size=35, max_size=45)
many_keys = st.dictionaries(st.text(max_size=6), st.integers(0, 9), min_size=45, max_size=56)
nested_metadata = st.recursive(
    scalars | edge_numbers,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6) | long_keys, inner, max_size=3) | many_keys
    ),
    max_leaves=8,
)

# Strings always marked: the sweep searches for every string sent as a secret.
secret = st.one_of(
    hostile_text.map(lambda text: SECRET_MARK + text),
    hostile_credential.map(lambda text: SECRET_MARK + text),
    any_json.filter(lambda value: not isinstance(value, str)),
)
numbers = st.one_of(
    st.from_regex(r"\+1 ?415 ?555 ?[0-9]{4}", fullmatch=True), st.sampled_from(["+442079460958", "0044 20 7946 0958"])
)
ports = st.one_of(st.integers(-70_000, 70_000), huge_ints)
transports = st.sampled_from(["UDP", "TCP", "TLS", "udp", "QUIC"])
sids = st.from_regex(r"AC[0-9a-f]{32}", fullmatch=True)
uuids = st.uuids().map(str)


def optional(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={name: anything(s) for name, s in fields.items()})


def required(
    fields: dict[str, st.SearchStrategy[Any]],
    extra: dict[str, st.SearchStrategy[Any]],
    secrets: dict[str, st.SearchStrategy[Any]],
) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {**{name: anything(s) for name, s in fields.items()}, **secrets},
        optional={name: anything(s) for name, s in extra.items()},
    )


twilio_input = required({"accountSid": sids}, {}, {"authToken": secret})
registration_input = required(
    {"username": hostile_credential, "proxy": st.one_of(st.sampled_from(["pbx.example.com", "10.0.0.1"]), targets)},
    {
        "outboundProxy": targets | hostile_text,
        "authUser": hostile_credential,
        "port": ports,
        "registerTransport": transports,
    },
    {"password": secret},
)
allowlist_input = required(
    {"ip": st.one_of(st.sampled_from(["203.0.113.10", "2001:db8::1"]), targets)},
    {"port": ports, "protocol": transports},
    {},
)
one_provider = st.one_of(
    st.builds(lambda v: {"twilio": v}, twilio_input),
    st.builds(lambda v: {"sip": {"registration": v}}, registration_input),
    st.builds(lambda v: {"sip": {"ipAllowlist": v}}, allowlist_input),
    st.builds(lambda v: {"voximplant": v}, optional({"applicationId": hostile_text, "ruleId": hostile_text})),
    st.builds(lambda v: {"jambonz": v}, optional({"applicationSid": uuids, "carrierSid": uuids})),
)
provider = st.one_of(
    one_provider,
    one_provider,
    st.builds(operator.or_, one_provider, one_provider),  # two providers, or one twice
    st.builds(
        lambda v: {"sip": v},
        st.dictionaries(st.sampled_from(["registration", "ipAllowlist"]), registration_input, max_size=2),
    ),
    any_json,
)
common = {
    "name": hostile_text,
    "agentId": uuids,
    "metadata": st.dictionaries(hostile_text, scalars, max_size=6)
    | st.dictionaries(st.text(max_size=6) | long_keys, nested_metadata, max_size=4)
    | any_json,
}
create_input = st.fixed_dictionaries(
    {"number": anything(numbers), "provider": provider},
    optional={
        **{name: anything(s) for name, s in common.items()},
        "idempotencyKey": anything(hostile_text),
        "dryRun": anything(st.booleans()),
        "unknownField": any_json,
    },
)
update_fields = st.fixed_dictionaries(
    {},
    optional={
        **{name: anything(s) for name, s in common.items()},
        "number": anything(numbers),
        "provider": provider,
        "dryRun": anything(st.booleans()),
        "expectedVersion": anything(st.integers(-2, 3) | huge_ints),
        "unknownField": any_json,
    },
)
variables = st.one_of(
    st.builds(lambda input: {"input": input}, create_input),
    st.builds(lambda input: {"input": input}, create_input),
    st.builds(lambda input: {"input": input}, any_json),
)
CODES = {code.value for code in ErrorCode}
# What a message may be at most, and hold nowhere: input is quoted only as a short, escaped excerpt.
MAX_MESSAGE_LENGTH = 300
MAX_PATH_PART_LENGTH = 40
UNSAFE = regex.compile(r"[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]")
BOX = SecretBox([ENCRYPTION_KEY])
# Huge strings make hypothesis' report of an example long; that is expected.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


async def send(api: Api, query: str, variables: Any) -> dict[str, Any] | None:
    """The response's payload when the mutation ran and succeeded, else None after checking the refusal is clear."""
    response = await api.client.post(
        "/graphql",
        content=to_json({"query": query, "variables": variables}),
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    body = response.json()
    if "errors" in body:
        for error in body["errors"]:
            assert isinstance(error["message"], str) and error["message"].strip(), body
            assert_quotes_briefly(error["message"])
            assert error.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR", body
        assert body.get("data") is None, body
        event(f"refused: HTTP {response.status_code}, GraphQL errors")
        return None
    (payload,) = body["data"].values()
    if payload["userErrors"]:
        for error in payload["userErrors"]:
            assert error["field"] and all(isinstance(part, str) for part in error["field"]), payload
            assert all(len(part) <= MAX_PATH_PART_LENGTH for part in error["field"]), payload
            assert error["code"] in CODES and error["message"].strip(), payload
            assert_quotes_briefly(error["message"])
        assert payload["phoneNumber"] is None, payload
        event("refused: user errors")
        return None
    assert payload["phoneNumber"] is not None, payload
    event("accepted")
    return payload


def assert_quotes_briefly(message: str) -> None:
    assert len(message) <= MAX_MESSAGE_LENGTH, message[:500]
    assert not UNSAFE.search(message), message


def assert_rows_keep_the_rules(rows: list[dict[str, Any]]) -> None:
    """What any accepted request left stored keeps every rule, whatever was sent."""
    for row in rows:
        for column in ("sip_username", "sip_auth_user"):
            assert row[column] is None or not UNSAFE.search(row[column]), row[column]
        for column in ("sip_password_encrypted", "twilio_auth_token_encrypted"):
            if row[column] is not None:
                secret = BOX.decrypt(row[column], secret_context(uuid.UUID(str(row["id"])), column))
                assert not UNSAFE.search(secret)
        for column in ("sip_proxy", "sip_outbound_proxy", "sip_ip"):
            if row[column] is not None:
                assert_canonical_public_target(row[column], address_only=column == "sip_ip")
        metadata = json.loads(row["metadata"]) if isinstance(row["metadata"], str) else row["metadata"]
        assert_metadata_within_limits(metadata)


def assert_canonical_public_target(target: str, *, address_only: bool) -> None:
    try:
        address = ipaddress.ip_address(target)
    except ValueError:
        assert not address_only, target
        labels = target.split(".")
        assert target == target.lower() and target.isascii() and all(labels), target
        for label in labels:
            if label.startswith("xn--"):
                assert idna.alabel(idna.ulabel(label)).decode() == label, target
        assert labels[-1] != "localhost" and not re.fullmatch(r"[0-9]+|0x[0-9a-f]*", labels[-1]), target
        return
    assert str(address) == target and "%" not in target, target
    if isinstance(address, ipaddress.IPv6Address):
        assert address.ipv4_mapped is None, target
        embedded = address.sixtofour or (address.teredo or (None, None))[1]
        if address in ipaddress.ip_network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            address = embedded
    local = (
        address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
    )
    assert not local and address not in ipaddress.ip_network("0.0.0.0/8" if address.version == 4 else "fec0::/10"), (
        target
    )


def assert_metadata_within_limits(value: Any) -> None:
    if isinstance(value, dict):
        assert len(value) <= 50 and all(len(key) <= 40 for key in value), value
        for item in value.values():
            assert_metadata_within_limits(item)
    elif isinstance(value, list):
        for item in value:
            assert_metadata_within_limits(item)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        assert math.isfinite(value) and abs(value) <= 2**53 - 1, value


@FUZZ
@given(variables=variables)
async def test_create_phone_number_survives_hostile_input(api: Api, variables: Any) -> None:
    before = await stored_rows("phone_numbers")
    created = await send(api, CREATE_PHONE_NUMBER, variables)
    after = await stored_rows("phone_numbers")
    if created is None or variables["input"].get("dryRun") is True:
        assert after == before
    else:
        assert len(after) - len(before) in (0, 1)  # 0: an idempotent replay
        assert_rows_keep_the_rules(after)


# Inputs that pass the schema and every other rule, so the rules for SIP
# targets, credentials and metadata decide alone whether they are saved.
plausible_provider = st.one_of(
    st.fixed_dictionaries(
        {
            "username": hostile_credential | st.just("agent-1"),
            "password": hostile_credential.map(lambda t: SECRET_MARK + t),
            "proxy": targets,
        },
        optional={"outboundProxy": targets, "authUser": hostile_credential | st.just("auth-1")},
    ).map(lambda v: {"sip": {"registration": v}}),
    st.fixed_dictionaries({"ip": targets}).map(lambda v: {"sip": {"ipAllowlist": v}}),
    st.fixed_dictionaries({"accountSid": sids, "authToken": hostile_credential.map(lambda t: SECRET_MARK + t)}).map(
        lambda v: {"twilio": v}
    ),
)
plausible_input = st.fixed_dictionaries(
    {"provider": plausible_provider},
    optional={"metadata": st.dictionaries(st.text(max_size=6) | long_keys, nested_metadata, max_size=4)},
)


@FUZZ
@given(input=plausible_input)
async def test_sip_targets_credentials_and_metadata_keep_their_rules(api: Api, input: dict[str, Any]) -> None:
    before = await stored_rows("phone_numbers")
    # A number no earlier example took: rows only grow.
    created = await send(api, CREATE_PHONE_NUMBER, {"input": {**input, "number": nth_number(len(before))}})
    after = await stored_rows("phone_numbers")
    if created is None:
        assert after == before
    else:
        assert len(after) == len(before) + 1
        assert_rows_keep_the_rules(after)


@FUZZ
@given(target=st.one_of(st.just("existing"), st.just("existing"), uuids, anything(hostile_text)), fields=update_fields)
async def test_update_phone_number_survives_hostile_input(api: Api, target: Any, fields: dict[str, Any]) -> None:
    existing = (await stored_rows("phone_numbers"))[0]["id"] if await stored_rows("phone_numbers") else None
    if existing is None:
        existing = (await create_number(api, provider=twilio()))["id"]
    before = await stored_rows("phone_numbers")
    input = {"id": str(existing) if target == "existing" else target, **fields}
    updated = await send(api, UPDATE_PHONE_NUMBER, {"input": input})
    if updated is None or fields.get("dryRun") is True:
        assert await stored_rows("phone_numbers") == before
    else:
        assert_rows_keep_the_rules(await stored_rows("phone_numbers"))

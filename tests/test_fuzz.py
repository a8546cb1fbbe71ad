"""Hostile input for createPhoneNumber and updatePhoneNumber, through HTTP into the app.

hypothesis sends random and hostile values in every field (huge and unicode
strings, control characters, lone surrogates, nulls, out-of-range integers,
deep JSON, wrong types and shapes). Whatever comes in: no 5xx and no masked
internal error, every refusal is a clear error (a GraphQL error with a
message, or user errors with a field, a code and a message), and a refused
input saves nothing. Derandomized, so CI runs the same examples every time.
"""

from __future__ import annotations

import json
import operator
import re
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from resolvers.errors import ErrorCode
from tests.conftest import Api, stored_rows
from tests.graphql_ops import CREATE_PHONE_NUMBER, UPDATE_PHONE_NUMBER, twilio
from tests.helpers import create_number

EXAMPLES_PER_MUTATION = 1000  # per database: 2,000 on each of SQLite and PostgreSQL
FUZZ = settings(
    max_examples=EXAMPLES_PER_MUTATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Secrets the fuzzer sends start with this, so the session's secret sweep
# (tests/secret_sweep.py) can look for them without mistaking another field's
# value for one.
SECRET_MARK = "fuzz-secret:"

HOSTILE_STRINGS = [
    "", " ", "\x00", "a\x00b", "\t\r\n", "\x1b[31m", "\u202e", "\ufeff", "\u200b", "\ud800", "a\udfffb", "\U0010ffff",
    "null", "None", "undefined", "NaN", "' OR '1'='1", '"; DROP TABLE phone_numbers; --', "${jndi:ldap://x/a}",
    "{{7*7}}", "<script>alert(1)</script>", "../../etc/passwd", "%s%s%n", "+1 415 555 0123\x00", "+١٤١٥٥٥٥٠١٢٣",
    "sip:pbx.example.com:5060", "256.256.256.256", "::ffff:1.2.3.4%eth0", "AC" + "g" * 32,
]
odd_characters = st.characters(categories=["Cc", "Cs", "Cf", "Co", "Zl", "Zp", "Mn", "So"])
hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(st.characters() | odd_characters, min_size=1, max_size=30),
    st.builds(operator.mul, st.sampled_from(["x", "é", "𝕏", "\x00", " ", "9", "\ud83d"]), st.integers(60, 20_000)),
    st.sampled_from(HOSTILE_STRINGS),
)
huge_ints = st.integers(min_value=-(2**80), max_value=2**80)
scalars = st.none() | st.booleans() | huge_ints | st.floats(allow_nan=False, allow_infinity=False) | hostile_text


@dataclass(frozen=True)
class Deep:
    """JSON nested `depth` levels: written out as text, as no Python encoder recurses that deep."""

    depth: int
    as_list: bool

    def text(self) -> str:
        if self.as_list:
            return "[" * self.depth + '"leaf"' + "]" * self.depth
        return '{"k":' * self.depth + '"leaf"' + "}" * self.depth


def to_json(value: Any) -> str:
    text = json.dumps(value, default=lambda deep: f"deep-json:{deep.depth}:{int(deep.as_list)}")
    return re.sub(r'"deep-json:(\d+):([01])"', lambda m: Deep(int(m[1]), m[2] == "1").text(), text)


deep_json = st.builds(Deep, st.integers(5, 5000), st.booleans())
any_json = st.one_of(
    st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4), max_leaves=12),
    deep_json,
)


def anything(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly values that pass the schema's types, so the rules and the database see hostile input too."""
    return st.one_of(valid, valid, hostile_text, any_json)


# Strings always marked: the sweep searches for every string sent as a secret.
secret = st.one_of(hostile_text.map(lambda text: SECRET_MARK + text), any_json.filter(lambda value: not isinstance(value, str)))
numbers = st.one_of(st.from_regex(r"\+1 ?415 ?555 ?[0-9]{4}", fullmatch=True), st.sampled_from(["+442079460958", "0044 20 7946 0958"]))
ports = st.one_of(st.integers(-70_000, 70_000), huge_ints)
transports = st.sampled_from(["UDP", "TCP", "TLS", "udp", "QUIC"])
sids = st.from_regex(r"AC[0-9a-f]{32}", fullmatch=True)
uuids = st.uuids().map(str)


def optional(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={name: anything(s) for name, s in fields.items()})


def required(
    fields: dict[str, st.SearchStrategy[Any]], extra: dict[str, st.SearchStrategy[Any]], secrets: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {**{name: anything(s) for name, s in fields.items()}, **secrets},
        optional={name: anything(s) for name, s in extra.items()},
    )


twilio_input = required({"accountSid": sids}, {}, {"authToken": secret})
registration_input = required(
    {"username": hostile_text, "proxy": st.sampled_from(["pbx.example.com", "10.0.0.1"])},
    {"outboundProxy": hostile_text, "authUser": hostile_text, "port": ports, "registerTransport": transports},
    {"password": secret},
)
allowlist_input = required({"ip": st.sampled_from(["203.0.113.10", "2001:db8::1"])}, {"port": ports, "protocol": transports}, {})
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
    st.builds(lambda v: {"sip": v}, st.dictionaries(st.sampled_from(["registration", "ipAllowlist"]), registration_input, max_size=2)),
    any_json,
)
common = {"name": hostile_text, "agentId": uuids, "metadata": st.dictionaries(hostile_text, scalars, max_size=6) | any_json}
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
            assert error.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR", body
        assert body.get("data") is None, body
        event(f"refused: HTTP {response.status_code}, GraphQL errors")
        return None
    (payload,) = body["data"].values()
    if payload["userErrors"]:
        for error in payload["userErrors"]:
            assert error["field"] and all(isinstance(part, str) for part in error["field"]), payload
            assert error["code"] in CODES and error["message"].strip(), payload
        assert payload["phoneNumber"] is None, payload
        event("refused: user errors")
        return None
    assert payload["phoneNumber"] is not None, payload
    event("accepted")
    return payload


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

"""SIP targets: one canonical stored form each, and local addresses allowed only where the operator says so.

The refusals themselves are rows of tests/support/rule_cases.py, run through GraphQL and REST.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from switchboard.settings import Settings
from tests.support.app import Api, api_client, running_app
from tests.support.database import stored_rows
from tests.support.graphql_ops import (
    CREATE_PHONE_NUMBER,
    PHONE_NUMBER,
    UPDATE_PHONE_NUMBER,
    sip_ip_allowlist,
    sip_registration,
)
from tests.support.rule_cases import (
    ALLOWLIST,
    LOCAL_ADDRESSES,
    LOCAL_NAMES,
    NUMBER,
    NUMERIC_HOSTS,
    REGISTRATION,
    ZONE_IDS,
    body,
)

COLUMNS = {"proxy": "sip_proxy", "outboundProxy": "sip_outbound_proxy", "ip": "sip_ip"}
REST_NAMES = {"proxy": "sipProxy", "outboundProxy": "sipOutboundProxy", "ip": "sipIp"}


def provider(field: str, value: str) -> dict[str, Any]:
    return sip_ip_allowlist(ip=value) if field == "ip" else sip_registration(**{field: value})


def rest_body(field: str, value: str) -> dict[str, Any]:
    return body(ALLOWLIST if field == "ip" else REGISTRATION, **{REST_NAMES[field]: value})


async def create(api: Api, field: str, value: str) -> dict[str, Any]:
    input = {"number": NUMBER, "provider": provider(field, value)}
    return (await api.gql(CREATE_PHONE_NUMBER, {"input": input}))["createPhoneNumber"]


async def stored(field: str) -> list[Any]:
    return [row[COLUMNS[field]] for row in await stored_rows("phone_numbers")]


CANONICAL = [
    ("ip", "::ffff:203.0.113.10", "203.0.113.10"),
    ("ip", "::FFFF:CB00:710A", "203.0.113.10"),
    ("ip", "0:0:0:0:0:ffff:cb00:710a", "203.0.113.10"),
    ("ip", "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
    ("ip", " 2001:db8::0:1 ", "2001:db8::1"),
    ("proxy", "[2001:DB8::1]", "2001:db8::1"),
    ("proxy", "::ffff:198.51.100.7", "198.51.100.7"),
    ("proxy", "[::ffff:c633:6407]", "198.51.100.7"),
    ("proxy", "b\u00fccher.example", "xn--bcher-kva.example"),
    ("proxy", "B\u00dcCHER.Example", "xn--bcher-kva.example"),
    ("proxy", "xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("proxy", "XN--BCHER-KVA.EXAMPLE.", "xn--bcher-kva.example"),
    ("proxy", "PBX.Example.COM.", "pbx.example.com"),
    ("proxy", "pbx\u3002example\u3002com", "pbx.example.com"),
    ("proxy", "fa\u00df.example", "xn--fa-hia.example"),
    ("outboundProxy", "B\u00fccher.Example.", "xn--bcher-kva.example"),
    ("outboundProxy", "::ffff:10.1.2.3", "10.1.2.3"),
    ("outboundProxy", "Proxy.Example.NET", "proxy.example.net"),
]


@pytest.mark.parametrize(("field", "given", "canonical"), CANONICAL, ids=lambda v: repr(v) if isinstance(v, str) else v)
async def test_targets_are_stored_in_one_canonical_form(api: Api, field: str, given: str, canonical: str) -> None:
    payload = await create(api, field, given)
    assert payload["userErrors"] == []
    assert payload["phoneNumber"]["config"][field] == canonical
    read = (await api.gql(PHONE_NUMBER, {"id": payload["phoneNumber"]["id"]}))["phoneNumber"]
    assert read["config"][field] == canonical
    assert await stored(field) == [canonical]


@pytest.mark.parametrize(("field", "given", "canonical"), CANONICAL, ids=lambda v: repr(v) if isinstance(v, str) else v)
async def test_rest_stores_the_same_canonical_form(api: Api, field: str, given: str, canonical: str) -> None:
    response = await api.client.post(
        "/v1/phone-numbers", json=rest_body(field, given), headers={"Authorization": f"Bearer {api.key}"}
    )
    assert response.status_code == 201, response.text
    assert await stored(field) == [canonical]


async def test_spellings_of_one_name_are_the_same_target_on_update(api: Api) -> None:
    created = (await create(api, "proxy", "b\u00fccher.example"))["phoneNumber"]
    update = {"id": created["id"], "provider": {"sip": {"registration": {"outboundProxy": "XN--BCHER-KVA.example."}}}}
    payload = (await api.gql(UPDATE_PHONE_NUMBER, {"input": update}))["updatePhoneNumber"]
    assert payload["userErrors"] == []
    assert (
        payload["phoneNumber"]["config"]["proxy"]
        == payload["phoneNumber"]["config"]["outboundProxy"]
        == "xn--bcher-kva.example"
    )


@pytest.mark.parametrize("given", ["xn--zz.example", "xn--.example", "b\u00fccher-.example", "\u0661\u0662.example"])
async def test_host_names_that_are_not_valid_idna_are_refused(api: Api, given: str) -> None:
    payload = await create(api, "proxy", given)
    assert [(e["field"][-1], e["code"]) for e in payload["userErrors"]] == [("proxy", "INVALID")]
    assert await stored_rows("phone_numbers") == []


@pytest.mark.parametrize("field", ["proxy", "outboundProxy", "ip"])
async def test_updates_refuse_local_targets_too(api: Api, field: str) -> None:
    created = (await create(api, field, "203.0.113.10"))["phoneNumber"]
    mode = "ipAllowlist" if field == "ip" else "registration"
    update = {"id": created["id"], "provider": {"sip": {mode: {field: "::ffff:127.0.0.1"}}}}
    payload = (await api.gql(UPDATE_PHONE_NUMBER, {"input": update}))["updatePhoneNumber"]
    assert [(e["field"][-1], e["code"]) for e in payload["userErrors"]] == [(field, "INVALID")]
    assert "loopback" in payload["userErrors"][0]["message"]
    assert await stored(field) == ["203.0.113.10"]
    patched = await api.client.patch(
        f"/v1/phone-numbers/{created['id']}",
        json={REST_NAMES[field]: "169.254.169.254"},
        headers={"Authorization": f"Bearer {api.key}"},
    )
    assert patched.status_code == 400
    assert [d["field"] for d in patched.json()["details"]] == [REST_NAMES[field]]
    assert await stored(field) == ["203.0.113.10"]


# --- SWITCHBOARD_ALLOW_LOCAL_TARGETS=true: development and tests ------------------------------------


@pytest.fixture
async def local_api(settings: Settings) -> AsyncIterator[Api]:
    async with running_app(replace(settings, allow_local_targets=True)) as app, api_client(app) as api:
        yield api


ALLOWED_WHEN_LOCAL = [
    *[("ip", address) for address in LOCAL_ADDRESSES.values()],
    *[("proxy", address) for address in LOCAL_ADDRESSES.values()],
    *[("outboundProxy", address) for address in LOCAL_ADDRESSES.values()],
    *[("proxy", name) for name in LOCAL_NAMES.values()],
    *[("outboundProxy", name) for name in LOCAL_NAMES.values()],
]


@pytest.mark.parametrize(("field", "value"), ALLOWED_WHEN_LOCAL, ids=repr)
async def test_local_targets_are_accepted_when_allowed(local_api: Api, field: str, value: str) -> None:
    payload = await create(local_api, field, value)
    assert payload["userErrors"] == []
    (stored_value,) = await stored(field)
    assert payload["phoneNumber"]["config"][field] == stored_value
    # Still one canonical form: lower case, no root dot, IPv4 for IPv4-mapped addresses.
    assert stored_value == stored_value.lower() and not stored_value.endswith(".")
    assert not stored_value.startswith("::ffff:")


async def test_allowed_local_targets_are_canonical(local_api: Api) -> None:
    payload = await create(local_api, "proxy", "LocalHost.")
    assert payload["phoneNumber"]["config"]["proxy"] == "localhost"
    update = {
        "id": payload["phoneNumber"]["id"],
        "provider": {"sip": {"registration": {"proxy": "[::FFFF:127.0.0.1]"}}},
    }
    updated = (await local_api.gql(UPDATE_PHONE_NUMBER, {"input": update}))["updatePhoneNumber"]
    assert updated["phoneNumber"]["config"]["proxy"] == "127.0.0.1"


REFUSED_EVEN_WHEN_LOCAL = [
    *[(field, value) for field in ("ip", "proxy", "outboundProxy") for value in ZONE_IDS.values()],
    *[(field, value) for field in ("proxy", "outboundProxy") for value in NUMERIC_HOSTS.values()],
]


@pytest.mark.parametrize(("field", "value"), REFUSED_EVEN_WHEN_LOCAL, ids=repr)
async def test_zone_ids_and_numeric_spellings_are_refused_even_when_local_targets_are_allowed(
    local_api: Api, field: str, value: str
) -> None:
    payload = await create(local_api, field, value)
    assert [(e["field"][-1], e["code"]) for e in payload["userErrors"]] == [(field, "INVALID")]
    assert await stored_rows("phone_numbers") == []

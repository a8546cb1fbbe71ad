"""updatePhoneNumber: PATCH semantics, secret rotation, provider and mode switches, dry runs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from models.secrets import SecretBox
from resolvers.phone_numbers import secret_context
from tests.support.app import Api
from tests.support.database import ENCRYPTION_KEY, stored_rows
from tests.support.graphql_ops import (
    PHONE_NUMBER,
    SIP_PASSWORD,
    TWILIO_SID,
    TWILIO_TOKEN,
    UPDATE_PHONE_NUMBER,
    sip_ip_allowlist,
    sip_registration,
)
from tests.support.helpers import create_agent, create_number, nth_number

BOX = SecretBox([ENCRYPTION_KEY])


async def update(api: Api, id: str, *, key: str | None = None, **fields: Any) -> dict[str, Any]:
    return (await api.gql(UPDATE_PHONE_NUMBER, {"input": {"id": id, **fields}}, key=key))["updatePhoneNumber"]


async def row_of(id: str) -> dict[str, Any]:
    (row,) = [r for r in await stored_rows("phone_numbers") if str(r["id"]) == id]
    return row


def decrypt(row: dict[str, Any], column: str) -> str:
    return BOX.decrypt(row[column], secret_context(row["id"], column))


async def test_omitted_fields_are_unchanged(api: Api) -> None:
    agent = await create_agent(api)
    created = await create_number(api, 1, name="Front", agentId=agent["id"], metadata={"a": 1})
    before = await row_of(created["id"])

    payload = await update(api, created["id"], name="Front desk")

    assert payload["userErrors"] == []
    after = payload["phoneNumber"]
    assert after["name"] == "Front desk"
    assert {k: after[k] for k in ("number", "agentId", "metadata", "config", "createdAt")} == {
        k: created[k] for k in ("number", "agentId", "metadata", "config", "createdAt")
    }
    assert after["updatedAt"] > created["updatedAt"]
    row = await row_of(created["id"])
    assert row["twilio_auth_token_encrypted"] == before["twilio_auth_token_encrypted"]


@pytest.mark.parametrize("field", ["name", "agentId", "metadata"])
async def test_null_clears_a_nullable_field(api: Api, field: str) -> None:
    agent = await create_agent(api)
    created = await create_number(api, 1, name="Front", agentId=agent["id"], metadata={"a": 1})
    payload = await update(api, created["id"], **{field: None})
    assert payload["userErrors"] == []
    assert payload["phoneNumber"][field] is None
    others = {"name", "agentId", "metadata"} - {field}
    assert all(payload["phoneNumber"][f] == created[f] for f in others)


async def test_null_clears_outbound_proxy_and_auth_user(api: Api) -> None:
    created = await create_number(
        api, 1, provider=sip_registration(outboundProxy="proxy.example.com", authUser="auth-1")
    )
    payload = await update(
        api, created["id"], provider={"sip": {"registration": {"outboundProxy": None, "authUser": None}}}
    )
    assert payload["userErrors"] == []
    config = payload["phoneNumber"]["config"]
    assert config["outboundProxy"] is None and config["authUser"] is None
    assert config["username"] == "agent-1" and config["passwordSet"] is True


async def test_every_create_rule_applies_to_what_is_given(api: Api) -> None:
    created = await create_number(api, 1, provider=sip_registration())
    before = await row_of(created["id"])
    payload = await update(
        api,
        created["id"],
        number="555",
        name="n" * 101,
        metadata=[1],
        agentId="x",
        provider={"sip": {"registration": {"proxy": "sip:pbx", "port": 0, "username": ""}}},
    )
    assert payload["phoneNumber"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "number"], "INVALID"),
        (["input", "name"], "TOO_LONG"),
        (["input", "agentId"], "INVALID"),
        (["input", "metadata"], "INVALID"),
        (["input", "provider", "sip", "registration", "username"], "BLANK"),
        (["input", "provider", "sip", "registration", "proxy"], "INVALID"),
        (["input", "provider", "sip", "registration", "port"], "OUT_OF_RANGE"),
    ]
    assert await row_of(created["id"]) == before
    read = (await api.gql(PHONE_NUMBER, {"id": created["id"]}))["phoneNumber"]
    assert read == created


async def test_number_stays_unique(api: Api) -> None:
    first = await create_number(api, 1)
    second = await create_number(api, 2)
    payload = await update(api, second["id"], number=first["number"])
    assert payload["userErrors"] == [
        {
            "field": ["input", "number"],
            "code": "TAKEN",
            "message": f"Number {first['number']} already exists in this organization",
        }
    ]
    same = await update(api, first["id"], number="+1 (415) 555-0001")
    assert same["userErrors"] == [] and same["phoneNumber"]["number"] == first["number"]
    moved = await update(api, second["id"], number=nth_number(3))
    assert moved["phoneNumber"]["number"] == nth_number(3)


async def test_twilio_auth_token_rotated_alone(api: Api) -> None:
    created = await create_number(api, 1)
    old_row = await row_of(created["id"])
    assert decrypt(old_row, "twilio_auth_token_encrypted") == TWILIO_TOKEN

    payload = await update(api, created["id"], provider={"twilio": {"authToken": "rotated-token-42"}})

    assert payload["userErrors"] == []
    assert payload["phoneNumber"]["config"] == {
        "__typename": "TwilioConfig",
        "accountSid": TWILIO_SID,
        "authTokenSet": True,
    }
    row = await row_of(created["id"])
    assert decrypt(row, "twilio_auth_token_encrypted") == "rotated-token-42"
    assert row["twilio_account_sid"] == TWILIO_SID
    # The old token's ciphertext is gone from the row: nothing stored decrypts to it.
    assert row["twilio_auth_token_encrypted"] != old_row["twilio_auth_token_encrypted"]
    assert all(TWILIO_TOKEN not in str(v) for v in row.values())


async def test_sip_password_rotated_alone(api: Api) -> None:
    created = await create_number(api, 1, provider=sip_registration(outboundProxy="proxy.example.com", port=5070))
    payload = await update(api, created["id"], provider={"sip": {"registration": {"password": "new-password"}}})
    assert payload["userErrors"] == []
    assert payload["phoneNumber"]["config"] == created["config"]
    row = await row_of(created["id"])
    assert decrypt(row, "sip_password_encrypted") == "new-password"
    assert (row["sip_username"], row["sip_proxy"], row["sip_outbound_proxy"], row["sip_port"]) == (
        "agent-1",
        "pbx.example.com",
        "proxy.example.com",
        5070,
    )


async def test_mode_switch_needs_a_complete_config_and_erases_the_old_one(api: Api) -> None:
    created = await create_number(api, 1, provider=sip_registration(authUser="auth-1", registerTransport="TLS"))

    incomplete = await update(api, created["id"], provider={"sip": {"ipAllowlist": {"port": 5080}}})
    assert [(e["field"], e["code"]) for e in incomplete["userErrors"]] == [
        (["input", "provider", "sip", "ipAllowlist", "ip"], "BLANK")
    ]
    assert (await row_of(created["id"]))["sip_password_encrypted"] is not None

    payload = await update(api, created["id"], provider={"sip": {"ipAllowlist": {"ip": "198.51.100.4"}}})
    assert payload["userErrors"] == []
    assert payload["phoneNumber"]["sipMode"] == "IP_ALLOWLIST"
    assert payload["phoneNumber"]["config"] == {
        "__typename": "SipIpAllowlistConfig",
        "ip": "198.51.100.4",
        "port": 5060,
        "protocol": "UDP",
    }
    row = await row_of(created["id"])
    assert row["sip_password_encrypted"] is None
    assert row["sip_username"] is None and row["sip_proxy"] is None and row["sip_auth_user"] is None
    assert all(SIP_PASSWORD not in str(v) for v in row.values())


async def test_provider_switch_to_twilio_erases_sip_secrets(api: Api) -> None:
    created = await create_number(api, 1, provider=sip_registration())
    missing = await update(api, created["id"], provider={"twilio": {"authToken": "only-token"}})
    assert [(e["field"], e["code"]) for e in missing["userErrors"]] == [
        (["input", "provider", "twilio", "accountSid"], "BLANK")
    ]

    payload = await update(api, created["id"], provider={"twilio": {"accountSid": TWILIO_SID, "authToken": "t"}})
    assert payload["phoneNumber"]["provider"] == "TWILIO" and payload["phoneNumber"]["sipMode"] is None
    row = await row_of(created["id"])
    assert row["sip_password_encrypted"] is None and row["sip_username"] is None
    assert decrypt(row, "twilio_auth_token_encrypted") == "t"


async def test_switch_away_from_twilio_erases_the_token(api: Api) -> None:
    created = await create_number(api, 1)
    payload = await update(api, created["id"], provider={"voximplant": {"applicationId": "77"}})
    assert payload["phoneNumber"]["config"] == {"__typename": "VoximplantConfig", "applicationId": "77", "ruleId": None}
    row = await row_of(created["id"])
    assert row["twilio_auth_token_encrypted"] is None and row["twilio_account_sid"] is None


async def test_port_null_restores_the_default(api: Api) -> None:
    created = await create_number(api, 1, provider=sip_ip_allowlist(port=5080, protocol="TLS"))
    payload = await update(api, created["id"], provider={"sip": {"ipAllowlist": {"port": None}}})
    assert payload["phoneNumber"]["config"] == {
        "__typename": "SipIpAllowlistConfig",
        "ip": "203.0.113.10",
        "port": 5060,
        "protocol": "TLS",
    }


async def test_required_fields_cannot_be_nulled(api: Api) -> None:
    created = await create_number(api, 1)
    response = await api.post(UPDATE_PHONE_NUMBER, {"input": {"id": created["id"], "number": None}})
    assert "cannot be explicitly set to null" in response.json()["errors"][0]["message"]


async def test_created_at_stays_and_updated_at_moves(api: Api) -> None:
    created = await create_number(api, 1)
    await asyncio.sleep(0.01)
    payload = await update(api, created["id"], metadata={"b": 2})
    assert payload["phoneNumber"]["createdAt"] == created["createdAt"]
    assert payload["phoneNumber"]["updatedAt"] > created["updatedAt"]


@pytest.mark.parametrize("id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
async def test_unknown_id_is_not_found(api: Api, id: str) -> None:
    payload = await update(api, id, name="x")
    assert payload == {
        "phoneNumber": None,
        "userErrors": [{"field": ["input", "id"], "code": "NOT_FOUND", "message": f"Phone number {id} does not exist"}],
    }


async def test_dry_run_answers_as_if_saved_and_saves_nothing(api: Api) -> None:
    created = await create_number(api, 1)
    before = await row_of(created["id"])
    payload = await update(api, created["id"], name="Renamed", provider={"twilio": {"authToken": "dry"}}, dryRun=True)
    assert payload["userErrors"] == []
    assert payload["phoneNumber"]["name"] == "Renamed"
    assert await row_of(created["id"]) == before

    taken = await create_number(api, 2)
    dry_taken = await update(api, created["id"], number=taken["number"], dryRun=True)
    assert [(e["field"], e["code"]) for e in dry_taken["userErrors"]] == [(["input", "number"], "TAKEN")]


async def test_other_organizations_number_is_not_found(api: Api, other_key: str) -> None:
    created = await create_number(api, 1)
    payload = await update(api, created["id"], key=other_key, name="mine now")
    assert payload["userErrors"] == [
        {"field": ["input", "id"], "code": "NOT_FOUND", "message": f"Phone number {created['id']} does not exist"}
    ]
    assert (await row_of(created["id"]))["name"] is None


async def test_agent_of_another_organization_cannot_be_assigned(api: Api, other_key: str) -> None:
    created = await create_number(api, 1)
    theirs = await create_agent(api, "Theirs", key=other_key)
    payload = await update(api, created["id"], agentId=theirs["id"])
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "agentId"], "NOT_FOUND")]

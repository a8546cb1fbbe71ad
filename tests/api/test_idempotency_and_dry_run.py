"""createPhoneNumber's dryRun and idempotencyKey.

The tests that need real processes are in tests/system/test_idempotency_and_dry_run_processes.py.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models import IdempotencyKey
from models.secrets import SecretBox
from resolvers.phone_numbers import CONFIG_COLUMNS, secret_context
from tests.support.app import Api
from tests.support.database import ENCRYPTION_KEY, stored_rows
from tests.support.graphql_ops import (
    CREATE_PHONE_NUMBER,
    DELETE_PHONE_NUMBER,
    TWILIO_SID,
    sip_ip_allowlist,
    sip_registration,
    twilio,
)
from tests.support.helpers import create_agent, create_number, nth_number
from tests.support.rest import post
from tests.support.rule_cases import REGISTRATION, TWILIO, body


async def create(api: Api, input: dict[str, Any], *, key: str | None = None) -> dict[str, Any]:
    return (await api.gql(CREATE_PHONE_NUMBER, {"input": input}, key=key))["createPhoneNumber"]


def number_input(n: int = 1, **fields: Any) -> dict[str, Any]:
    return {"number": nth_number(n), "provider": twilio(), **fields}


# --- dry runs ------------------------------------------------------------------------


async def test_dry_run_answers_as_if_saved_and_saves_nothing(api: Api) -> None:
    agent = await create_agent(api)
    payload = await create(api, number_input(agentId=agent["id"], name="Front", dryRun=True))
    assert payload["userErrors"] == []
    assert payload["phoneNumber"]["number"] == nth_number(1)
    assert payload["phoneNumber"]["agent"] == {"id": agent["id"], "name": agent["name"]}
    assert payload["phoneNumber"]["config"]["authTokenSet"] is True
    assert await stored_rows("phone_numbers") == []


async def test_dry_run_checks_uniqueness_and_agents(api: Api) -> None:
    await create_number(api, 1)
    payload = await create(api, number_input(agentId="00000000-0000-4000-8000-000000000000", dryRun=True))
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "agentId"], "NOT_FOUND"),
        (["input", "number"], "TAKEN"),
    ]
    assert len(await stored_rows("phone_numbers")) == 1


async def test_dry_run_reports_every_rule(api: Api) -> None:
    payload = await create(api, {"number": "", "provider": twilio(accountSid="x"), "dryRun": True})
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "number"], "BLANK"),
        (["input", "provider", "twilio", "accountSid"], "INVALID"),
    ]


# --- idempotency keys ------------------------------------------------------------------


async def test_retry_with_the_same_key_returns_the_original(api: Api) -> None:
    first = await create(api, number_input(idempotencyKey="order-1"))
    retry = await create(api, number_input(idempotencyKey="order-1"))
    assert retry == first
    assert len(await stored_rows("phone_numbers")) == 1


async def test_same_key_with_different_input_is_refused(api: Api) -> None:
    await create(api, number_input(idempotencyKey="order-1"))
    payload = await create(api, number_input(2, idempotencyKey="order-1"))
    assert payload == {
        "phoneNumber": None,
        "userErrors": [
            {
                "field": ["input", "idempotencyKey"],
                "code": "IDEMPOTENCY_KEY_REUSED",
                "message": "This idempotency key was already used with different input; use a new key for a new request",
            }
        ],
    }
    assert len(await stored_rows("phone_numbers")) == 1


async def test_keys_are_scoped_to_the_organization(api: Api, other_key: str) -> None:
    mine = await create(api, number_input(idempotencyKey="k"))
    theirs = await create(api, number_input(idempotencyKey="k"), key=other_key)
    assert theirs["userErrors"] == [] and theirs["phoneNumber"]["id"] != mine["phoneNumber"]["id"]


async def test_a_failed_request_does_not_consume_the_key(api: Api) -> None:
    failed = await create(api, number_input(idempotencyKey="k", provider=twilio(authToken="")))
    assert failed["userErrors"][0]["code"] == "BLANK"
    assert (await create(api, number_input(idempotencyKey="k")))["userErrors"] == []


async def test_key_older_than_24_hours_is_free_again(api: Api) -> None:
    first = await create(api, number_input(idempotencyKey="k"))
    await IdempotencyKey.all().update(created_at=datetime.now(UTC) - timedelta(hours=24, minutes=1))
    second = await create(api, number_input(2, idempotencyKey="k"))
    assert second["userErrors"] == [] and second["phoneNumber"]["id"] != first["phoneNumber"]["id"]


async def test_key_of_a_deleted_number(api: Api) -> None:
    first = await create(api, number_input(idempotencyKey="k"))
    await api.gql(DELETE_PHONE_NUMBER, {"input": {"id": first["phoneNumber"]["id"]}})
    retry = await create(api, number_input(idempotencyKey="k"))
    assert [(e["field"], e["code"]) for e in retry["userErrors"]] == [(["input", "idempotencyKey"], "NOT_FOUND")]
    assert await stored_rows("phone_numbers") == []


@pytest.mark.parametrize(("key", "code"), [("k" * 256, "TOO_LONG"), ("  ", "BLANK")])
async def test_key_rules(api: Api, key: str, code: str) -> None:
    payload = await create(api, number_input(idempotencyKey=key))
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "idempotencyKey"], code)]


async def test_key_of_255_characters_is_accepted(api: Api) -> None:
    assert (await create(api, number_input(idempotencyKey="k" * 255)))["userErrors"] == []


async def test_concurrent_retries_with_one_key_create_one_row(api: Api) -> None:
    results = await asyncio.gather(*(create(api, number_input(idempotencyKey="burst")) for _ in range(10)))
    ids = {r["phoneNumber"]["id"] for r in results}
    assert all(r["userErrors"] == [] for r in results)
    assert len(ids) == 1
    assert len(await stored_rows("phone_numbers")) == 1
    assert len(await stored_rows("idempotency_keys")) == 1


async def test_the_key_table_holds_no_secret(api: Api) -> None:
    await create(api, number_input(idempotencyKey="k"))
    (row,) = await stored_rows("idempotency_keys")
    assert all("twilio-secret" not in str(v) for v in row.values())


# --- a replay reveals nothing about stored secrets ------------------------------------------

WRONG_GUESS = "a-wrong-guess-of-the-secret"


@dataclass(frozen=True)
class SecretCase:
    provider: Callable[..., dict[str, Any]]  # GraphQL provider input
    field: str  # the secret's GraphQL name
    rest_config: dict[str, Any]  # the same configuration as a REST body
    rest_field: str
    column: str

    def graphql(self, n: int, key: str, secret: str) -> dict[str, Any]:
        return number_input(n, idempotencyKey=key, provider=self.provider(**{self.field: secret}))

    def rest(self, n: int, secret: str) -> dict[str, Any]:
        return body(self.rest_config, number=nth_number(n), **{self.rest_field: secret})


SECRET_CASES = [
    pytest.param(
        SecretCase(twilio, "authToken", TWILIO, "twilioAuthToken", "twilio_auth_token_encrypted"),
        id="twilio-auth-token",
    ),
    pytest.param(
        SecretCase(sip_registration, "password", REGISTRATION, "sipPassword", "sip_password_encrypted"),
        id="sip-password",
    ),
]


async def stored_secret(case: SecretCase, row_id: str) -> str:
    (row,) = [r for r in await stored_rows("phone_numbers") if str(r["id"]) == row_id]
    return SecretBox([ENCRYPTION_KEY]).decrypt(row[case.column], secret_context(uuid.UUID(row_id), case.column))


@pytest.mark.parametrize("case", SECRET_CASES)
async def test_graphql_retry_answers_the_same_whatever_secret_it_guesses(api: Api, case: SecretCase) -> None:
    original = await create(api, case.graphql(1, "k", "the-real-secret-1"))
    right = await create(api, case.graphql(1, "k", "the-real-secret-1"))
    wrong = await create(api, case.graphql(1, "k", WRONG_GUESS))
    assert original["userErrors"] == []
    assert wrong == right == original
    # The retry returned the original number; it did not change its secret.
    assert await stored_secret(case, original["phoneNumber"]["id"]) == "the-real-secret-1"
    assert len(await stored_rows("phone_numbers")) == 1


@pytest.mark.parametrize("case", SECRET_CASES)
async def test_rest_retry_answers_the_same_whatever_secret_it_guesses(api: Api, case: SecretCase) -> None:
    original = await post(api, case.rest(1, "the-real-secret-2"), headers={"Idempotency-Key": "k"})
    right = await post(api, case.rest(1, "the-real-secret-2"), headers={"Idempotency-Key": "k"})
    wrong = await post(api, case.rest(1, WRONG_GUESS), headers={"Idempotency-Key": "k"})
    assert original.status_code == 201, original.text
    assert (wrong.status_code, wrong.json()) == (right.status_code, right.json()) == (201, original.json())
    assert await stored_secret(case, original.json()["data"]["id"]) == "the-real-secret-2"


@pytest.mark.parametrize("case", SECRET_CASES)
async def test_rest_guess_at_a_key_used_over_graphql(api: Api, case: SecretCase) -> None:
    """The two transports share keys, so a guess over one answers as a guess over the other does."""
    original = await create(api, case.graphql(1, "shared", "the-real-secret-3"))
    right = await post(api, case.rest(1, "the-real-secret-3"), headers={"Idempotency-Key": "shared"})
    wrong = await post(api, case.rest(1, WRONG_GUESS), headers={"Idempotency-Key": "shared"})
    assert (wrong.status_code, wrong.json()) == (right.status_code, right.json())
    assert right.json()["data"]["id"] == original["phoneNumber"]["id"]


async def test_a_secret_still_counts_as_given_or_not(api: Api) -> None:
    """Another provider, with or without a secret, is other input: the key stays refused."""
    await create(api, number_input(1, idempotencyKey="k", provider=sip_registration()))
    for provider in (twilio(), sip_ip_allowlist()):
        payload = await create(api, number_input(1, idempotencyKey="k", provider=provider))
        assert [e["code"] for e in payload["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]


def legacy_fingerprint(values: dict[str, Any]) -> str:
    """A fingerprint as stored before secrets were left out of it: an HMAC over every value, secrets included,
    under a key derived from the encryption key, tagged with that key's id."""
    raw = base64.urlsafe_b64decode(ENCRYPTION_KEY)
    message = json.dumps(values, sort_keys=True, separators=(",", ":"))
    digest = hmac.new(hashlib.sha256(b"switchboard-fingerprint:" + raw).digest(), message.encode(), hashlib.sha256)
    return f"{hashlib.sha256(raw).hexdigest()[:8]}:{digest.hexdigest()}"


def legacy_twilio_values(number: str, token: str) -> dict[str, Any]:
    columns = dict.fromkeys(CONFIG_COLUMNS)
    columns.update(provider="twilio", sip_mode=None, twilio_account_sid=TWILIO_SID, twilio_auth_token=token)
    return {"number": number, "name": None, "agent_id": None, "metadata": None, **columns}


async def test_a_fingerprint_stored_in_the_old_form_still_replays_without_telling_secrets_apart(api: Api) -> None:
    original = await create(api, number_input(1, idempotencyKey="old", provider=twilio(authToken="the-real-secret-4")))
    await IdempotencyKey.filter(key="old").update(
        fingerprint=legacy_fingerprint(legacy_twilio_values(nth_number(1), "the-real-secret-4"))
    )

    right = await create(api, number_input(1, idempotencyKey="old", provider=twilio(authToken="the-real-secret-4")))
    wrong = await create(api, number_input(1, idempotencyKey="old", provider=twilio(authToken=WRONG_GUESS)))
    other = await create(api, number_input(2, idempotencyKey="old", provider=twilio(authToken="the-real-secret-4")))
    assert right == original
    assert wrong == original
    assert [e["code"] for e in other["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]


async def test_an_old_form_fingerprint_of_a_deleted_number_answers_alike_whatever_the_secret(api: Api) -> None:
    first = await create(api, number_input(1, idempotencyKey="old", provider=twilio(authToken="the-real-secret-5")))
    await IdempotencyKey.filter(key="old").update(
        fingerprint=legacy_fingerprint(legacy_twilio_values(nth_number(1), "the-real-secret-5"))
    )
    await api.gql(DELETE_PHONE_NUMBER, {"input": {"id": first["phoneNumber"]["id"]}})

    right = await create(api, number_input(1, idempotencyKey="old", provider=twilio(authToken="the-real-secret-5")))
    wrong = await create(api, number_input(1, idempotencyKey="old", provider=twilio(authToken=WRONG_GUESS)))
    assert wrong == right
    assert [(e["field"], e["code"]) for e in right["userErrors"]] == [(["input", "idempotencyKey"], "NOT_FOUND")]


# --- a retry outlives the rotation of the encryption key ---------------------------------------

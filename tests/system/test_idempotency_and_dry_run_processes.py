"""createPhoneNumber's dryRun and idempotencyKey.

These are the tests that need real processes; the in-process ones are in
tests/api/test_idempotency_and_dry_run.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from models.secrets import generate_key
from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.database import ENCRYPTION_KEY, stored_rows
from tests.support.graphql_ops import (
    CREATE_PHONE_NUMBER,
    sip_registration,
    twilio,
)
from tests.support.helpers import nth_number
from tests.support.rest import post
from tests.support.rule_cases import REGISTRATION, body
from tests.support.servers import Servers, server_environment, switchboard


async def create(api: Api, input: dict[str, Any], *, key: str | None = None) -> dict[str, Any]:
    return (await api.gql(CREATE_PHONE_NUMBER, {"input": input}, key=key))["createPhoneNumber"]


def number_input(n: int = 1, **fields: Any) -> dict[str, Any]:
    return {"number": nth_number(n), "provider": twilio(), **fields}


# --- dry runs ------------------------------------------------------------------------


# --- idempotency keys ------------------------------------------------------------------


# --- a replay reveals nothing about stored secrets ------------------------------------------


# --- a retry outlives the rotation of the encryption key ---------------------------------------


async def test_a_retry_after_rotation_and_dropping_the_old_key_replays_the_original(
    api: Api, settings: Settings, servers: Servers
) -> None:
    new_key = generate_key()
    graphql_first = await create(api, number_input(1, idempotencyKey="gql", provider=sip_registration()))
    rest_first = await post(api, body(REGISTRATION, number=nth_number(2)), headers={"Idempotency-Key": "rest"})
    assert rest_first.status_code == 201, rest_first.text

    rotated = switchboard(
        "rotate-encryption-key",
        env=server_environment(dataclasses.replace(settings, encryption_keys=(new_key, ENCRYPTION_KEY))),
    )
    assert rotated.returncode == 0, rotated.stderr
    server = servers.start(dataclasses.replace(settings, encryption_keys=(new_key,)))

    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {api.key}"}) as client:
        graphql_retry = await client.post(
            "/graphql",
            json={
                "query": CREATE_PHONE_NUMBER,
                "variables": {"input": number_input(1, idempotencyKey="gql", provider=sip_registration())},
            },
        )
        rest_retry = await client.post(
            "/v1/phone-numbers", json=body(REGISTRATION, number=nth_number(2)), headers={"Idempotency-Key": "rest"}
        )
    assert graphql_retry.json()["data"]["createPhoneNumber"] == graphql_first
    assert (rest_retry.status_code, rest_retry.json()) == (201, rest_first.json())
    assert len(await stored_rows("phone_numbers")) == 2

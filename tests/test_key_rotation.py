"""`switchboard rotate-encryption-key`: every stored secret re-encrypted with the new key, servers answering."""

from __future__ import annotations

import dataclasses
import json
from itertools import count

from models.secrets import SecretBox, generate_key
from resolvers.phone_numbers import SECRET_COLUMNS, secret_context
from switchboard.settings import Settings
from tests.conftest import ENCRYPTION_KEY, Api, stored_rows
from tests.graphql_ops import CREATE_PHONE_NUMBER, TWILIO_TOKEN, sip_ip_allowlist, sip_registration, twilio
from tests.servers import Servers, server_environment, start_switchboard, switchboard
from tests.test_serve_processes import burst

NEW_KEY = generate_key()
MAX_CREATES_DURING_ROTATION = 200


async def seed(api: Api) -> dict[str, str]:
    """Numbers with secrets sealed with the old key; returns each row's secret."""
    secrets: dict[str, str] = {}
    inputs = [
        *({"number": f"+1415555010{i}", "provider": twilio(authToken=f"twilio-token-{i}")} for i in range(4)),
        *({"number": f"+4420794609{i}0", "provider": sip_registration(password=f"sip-password-{i}")} for i in range(3)),
    ]
    for input in inputs:
        created = (await api.gql(CREATE_PHONE_NUMBER, {"input": input}))["createPhoneNumber"]["phoneNumber"]
        config = input["provider"].get("twilio") or input["provider"]["sip"]["registration"]
        secrets[created["id"]] = config.get("authToken") or config["password"]
    await api.gql(CREATE_PHONE_NUMBER, {"input": {"number": "+4930901820", "provider": sip_ip_allowlist()}})
    return secrets


async def stored_secrets() -> dict[tuple[str, str], str]:
    """Every stored secret, by row id and column."""
    return {
        (str(row["id"]), column): row[column]
        for row in await stored_rows("phone_numbers")
        for column in SECRET_COLUMNS.values()
        if row[column] is not None
    }


async def test_rotation_reseals_every_secret_while_the_server_answers(
    api: Api, settings: Settings, servers: Servers
) -> None:
    seeded = await seed(api)
    # The new key goes first everywhere; the old one stays until rotation is done.
    rotating = dataclasses.replace(settings, encryption_keys=(NEW_KEY, ENCRYPTION_KEY))
    server = servers.start(rotating)
    env = server_environment(rotating)

    rotation = start_switchboard("rotate-encryption-key", "--batch-size", "3", env=env)
    numbers = count()
    outcomes = []
    while rotation.poll() is None and len(outcomes) < MAX_CREATES_DURING_ROTATION:
        inputs = [{"number": f"+1212555{next(numbers):04d}", "provider": twilio()} for _ in range(5)]
        outcomes += await burst(server, api.key, inputs)
    stdout, stderr = rotation.communicate(timeout=60)

    assert rotation.returncode == 0, stderr
    only_new = SecretBox([NEW_KEY])
    assert stdout == f"re-encrypted 7 secrets; every stored secret is now sealed with key {only_new.primary_key_id}\n"
    batches = [json.loads(line) for line in stderr.splitlines()]
    batch_counts = [int(b["message"].split()[1]) for b in batches if b["message"].endswith("batch of up to 3 rows")]
    assert sum(batch_counts) == 7 and len(batch_counts) >= 3
    assert outcomes and {o.kind for o in outcomes} == {"created"}

    # The old key can go: the new one alone opens every secret, old and new.
    secrets = await stored_secrets()
    assert len(secrets) == 7 + len(outcomes)
    for (row_id, column), token in secrets.items():
        assert only_new.decrypt(token, secret_context(row_id, column)) == seeded.get(row_id, TWILIO_TOKEN)

    again = switchboard("rotate-encryption-key", env=env)
    assert (again.returncode, again.stdout) == (
        0, f"re-encrypted 0 secrets; every stored secret is now sealed with key {only_new.primary_key_id}\n"
    )
    assert await stored_secrets() == secrets


async def test_rotation_stops_at_a_secret_no_configured_key_opens(api: Api, settings: Settings) -> None:
    seeded = await seed(api)
    before = await stored_secrets()
    # The old key was dropped before rotating: its secrets cannot be moved.
    env = server_environment(dataclasses.replace(settings, encryption_keys=(NEW_KEY,)))

    result = switchboard("rotate-encryption-key", env=env)

    # Rows are rotated in id order, so the first row holding a secret stops it.
    first, column = min(before)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"switchboard: error: phone number {first}, {column}: stored secret was sealed with a key that is not "
        "configured; add the key it was sealed with to SWITCHBOARD_ENCRYPTION_KEYS and run again"
    )
    assert await stored_secrets() == before
    for secret in seeded.values():
        assert secret not in result.stderr


def test_rotation_needs_the_keys_configured(settings: Settings) -> None:
    env = server_environment(dataclasses.replace(settings, encryption_keys=()))
    result = switchboard("rotate-encryption-key", env=env)
    assert result.returncode == 1
    assert result.stderr == (
        "switchboard: error: SWITCHBOARD_ENCRYPTION_KEYS is not set: list the new key first, then every key "
        "stored secrets may still be sealed with (comma-separated)\n"
    )

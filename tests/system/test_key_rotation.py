"""`switchboard rotate-encryption-key`: every stored secret re-encrypted with the new key, servers answering."""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from typing import IO

import httpx

from models.secrets import SecretBox, generate_key
from resolvers.key_rotation import UNROTATED_LISTED
from resolvers.phone_numbers import SECRET_COLUMNS, secret_context
from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.database import ENCRYPTION_KEY, stored_rows
from tests.support.graphql_ops import (
    CREATE_PHONE_NUMBER,
    TWILIO_TOKEN,
    UPDATE_PHONE_NUMBER,
    sip_ip_allowlist,
    sip_registration,
    twilio,
)
from tests.support.helpers import burst
from tests.support.secret_sweep import SWEEP
from tests.support.servers import REPO, SWITCHBOARD, Server, Servers, server_environment, start_switchboard, switchboard

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
        0,
        f"re-encrypted 0 secrets; every stored secret is now sealed with key {only_new.primary_key_id}\n",
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


# --- a server without the new key writing while the rotation runs ------------------------------

SEEDED = 100
CHANGED_MEANWHILE = 30
CREATED_MEANWHILE = 10
BATCH_LINE = "secrets in a batch of up to 1 rows"
PIPE_BYTES = 4096  # one page, the least a pipe holds


@contextmanager
def rotation_held_back(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], IO[str]]]:
    """`rotate-encryption-key --batch-size 1` with its log in a pipe of one page.

    The command logs a line after committing each batch; once a page of lines
    waits unread it blocks writing the next. So while the test does not read,
    the rotation cannot reach its final check, however the processes are
    scheduled: what the test writes meanwhile lands before that check.
    """
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    process = subprocess.Popen(
        [*SWITCHBOARD, "rotate-encryption-key", "--batch-size", "1"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=write_end,
        text=True,
    )
    os.close(write_end)
    log = os.fdopen(read_end)
    try:
        yield process, log
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)
        log.close()


async def batches_committed(log: IO[str], batches: int) -> list[str]:
    """Read the rotation's log until it has committed `batches` more batches; return their lines."""
    lines: list[str] = []
    while len(lines) < batches:
        line = await asyncio.to_thread(log.readline)
        assert line, "the rotation stopped early"
        if BATCH_LINE in line:
            lines.append(line)
    return lines


async def change_secret(client: httpx.AsyncClient, row_id: str, token: str) -> None:
    response = await client.post(
        "/graphql",
        json={
            "query": UPDATE_PHONE_NUMBER,
            "variables": {"input": {"id": row_id, "provider": {"twilio": {"authToken": token}}}},
        },
    )
    assert response.json()["data"]["updatePhoneNumber"]["userErrors"] == [], response.text


async def create_with(client: httpx.AsyncClient, number: str) -> str:
    response = await client.post(
        "/graphql",
        json={"query": CREATE_PHONE_NUMBER, "variables": {"input": {"number": number, "provider": twilio()}}},
    )
    payload = response.json()["data"]["createPhoneNumber"]
    assert payload["userErrors"] == [], response.text
    return payload["phoneNumber"]["id"]


def server_client(server: Server, key: str) -> httpx.AsyncClient:
    hooks = {"request": [SWEEP.on_request], "response": [SWEEP.on_response]}
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, event_hooks=hooks, timeout=30
    )


async def test_rotation_fails_naming_the_secrets_a_server_without_the_new_key_wrote_meanwhile(
    api: Api, settings: Settings, servers: Servers
) -> None:
    seeded = {}
    for n in range(SEEDED):
        token = f"seed-token-{n:03d}"
        input = {"number": f"+1415555{n:04d}", "provider": twilio(authToken=token)}
        seeded[(await api.gql(CREATE_PHONE_NUMBER, {"input": input}))["createPhoneNumber"]["phoneNumber"]["id"]] = token
    # Step 2 of docs/production.md's rotation not finished: this server still seals with the old key.
    behind = servers.start(settings)
    only_new = SecretBox([NEW_KEY])
    rotating = server_environment(dataclasses.replace(settings, encryption_keys=(NEW_KEY, ENCRYPTION_KEY)))

    with rotation_held_back(rotating) as (rotation, log):
        lines = await batches_committed(log, CHANGED_MEANWHILE)
        # The batches left log more than the pipe holds: the rotation cannot end unread.
        assert min(map(len, lines)) * (SEEDED - CHANGED_MEANWHILE) > 2 * PIPE_BYTES
        # Rows are rotated in id order, so these are behind the rotation now.
        passed = sorted(
            row_id for (row_id, _), token in (await stored_secrets()).items() if only_new.sealed_with_primary(token)
        )
        assert len(passed) >= CHANGED_MEANWHILE
        changed = {row_id: f"changed-token-{n:02d}" for n, row_id in enumerate(passed[:CHANGED_MEANWHILE])}
        async with server_client(behind, api.key) as client:
            for row_id, token in changed.items():
                await change_secret(client, row_id, token)
            created = [await create_with(client, f"+1212555{n:04d}") for n in range(CREATED_MEANWHILE)]
        stderr = await asyncio.to_thread(log.read)
        stdout = rotation.stdout.read() if rotation.stdout else ""
        rotation.wait(timeout=60)

    secrets = await stored_secrets()
    left = sorted(where for where, token in secrets.items() if not only_new.sealed_with_primary(token))
    assert {(row_id, "twilio_auth_token_encrypted") for row_id in changed} <= set(left)
    # Every value the rotation re-encrypted is still sealed with the new key, but for those changed after.
    resealed = len(secrets) - len(left) + CHANGED_MEANWHILE
    assert rotation.returncode == 1 and stdout == ""
    error = stderr.splitlines()
    error = error[next(i for i, line in enumerate(error) if line.startswith("switchboard: error:")) :]
    assert error == [
        f"switchboard: error: re-encrypted {resealed} secrets, but {len(left)} stored secrets are still not sealed with "
        f"key {only_new.primary_key_id}: a server that does not have it first wrote them meanwhile",
        *(f"  phone number {row_id}, {column}" for row_id, column in left[:UNROTATED_LISTED]),
        f"  and {len(left) - UNROTATED_LISTED} more",
        "Give every server the new key first in SWITCHBOARD_ENCRYPTION_KEYS, then run rotate-encryption-key "
        "again; keep the old key until it succeeds.",
    ]

    # As the message says: every server gets the new key first, then the rotation is run again.
    behind.terminate()
    again = switchboard("rotate-encryption-key", env=rotating)
    assert (again.returncode, again.stdout) == (
        0,
        f"re-encrypted {len(left)} secrets; every stored secret is now sealed with key {only_new.primary_key_id}\n",
    ), again.stderr
    expected = {**seeded, **changed, **dict.fromkeys(created, TWILIO_TOKEN)}
    secrets = await stored_secrets()
    assert len(secrets) == SEEDED + CREATED_MEANWHILE
    for (row_id, column), token in secrets.items():
        assert only_new.decrypt(token, secret_context(row_id, column)) == expected[row_id]

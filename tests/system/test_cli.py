"""The `switchboard` command, run as a real process."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.settings import Settings
from tests.support import REPO
from tests.support.database import ENCRYPTION_KEY, stored_rows
from tests.support.graphql_ops import CREATE_PHONE_NUMBER, sip_ip_allowlist
from tests.support.secret_sweep import SWEEP
from tests.support.servers import (
    create_api_key,
    first_run_environment,
    post,
    serving,
    switchboard,
)


def test_export_schema_prints_the_committed_sdl(tmp_path: Path) -> None:
    result = switchboard("export-schema", env=first_run_environment(tmp_path))
    assert result.returncode == 0
    assert result.stdout == (REPO / "schema.graphql").read_text()


def test_export_rules_prints_the_committed_rules_page(tmp_path: Path) -> None:
    result = switchboard("export-rules", env=first_run_environment(tmp_path))
    assert result.returncode == 0
    assert result.stdout == (REPO / "docs" / "rules.md").read_text()


def test_create_api_key_then_serve_on_a_fresh_data_directory(tmp_path: Path) -> None:
    """The README's path: a key with one command, then the server accepts it."""
    env = first_run_environment(tmp_path)
    key = create_api_key(env)

    with serving(env) as server:
        assert post(server.graphql_url, {"query": "{ __typename }"}, key) == (200, {"data": {"__typename": "Query"}})
        variables = {"input": {"number": "+44 20 7946 0958", "provider": sip_ip_allowlist()}}
        status, body = post(server.graphql_url, {"query": CREATE_PHONE_NUMBER, "variables": variables}, key)
        assert status == 200
        assert body["data"]["createPhoneNumber"]["phoneNumber"]["number"] == "+442079460958"
        status, body = post(server.graphql_url, {"query": "{ __typename }"}, "sb_live_wrong")
        assert status == 401
    output = server.output
    assert key not in output
    # No key was configured: one was generated into the data directory, private.
    assert "generated a key into" in output
    key_file = tmp_path / "data" / "encryption.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    with sqlite3.connect(tmp_path / "data" / "switchboard.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_create_api_key_refuses_a_blank_organization(tmp_path: Path) -> None:
    result = switchboard("create-api-key", "--org", "  ", env=first_run_environment(tmp_path))
    assert result.returncode == 2
    assert "organization name must be 1 to 100 characters" in result.stderr


def test_malformed_encryption_key_is_refused_at_start(tmp_path: Path) -> None:
    env = first_run_environment(tmp_path, SWITCHBOARD_ENCRYPTION_KEYS="not-a-key")
    result = subprocess.run(
        [sys.executable, "-c", "from switchboard.app import create_app; create_app()"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "each encryption key must be 32 bytes in URL-safe base64" in result.stderr
    assert ENCRYPTION_KEY not in result.stderr


async def test_create_api_key_on_each_database(settings: Settings, app: Any) -> None:
    """DATABASE_URL=postgres://... serves the CLI as SQLite does; the key works at once."""
    env = first_run_environment(
        settings.data_dir, DATABASE_URL=settings.database_url, SWITCHBOARD_ENCRYPTION_KEYS=ENCRYPTION_KEY
    )
    key = create_api_key(env, "Initech")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://switchboard.test") as client:
        response = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {key}"}
        )
    assert (response.status_code, response.json()) == (200, {"data": {"__typename": "Query"}})


# --- API keys -------------------------------------------------------------------------


def key_env(settings: Settings) -> dict[str, str]:
    return first_run_environment(
        settings.data_dir, DATABASE_URL=settings.database_url, SWITCHBOARD_ENCRYPTION_KEYS=ENCRYPTION_KEY
    )


def issued_by_cli(env: dict[str, str], *args: str) -> str:
    result = switchboard("create-api-key", "--org", "Initech", *args, env=env)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    SWEEP.add_secret(key)
    SWEEP.add_text("command output", "create-api-key stderr", result.stderr)
    return key


def listed(env: dict[str, str], org: str = "Initech") -> list[dict[str, Any]]:
    result = switchboard("list-api-keys", "--org", org, "--json", env=env)
    assert result.returncode == 0, result.stderr
    SWEEP.add_text("command output", "list-api-keys --json", result.stdout)
    return json.loads(result.stdout)


async def test_create_list_and_revoke_keys_from_the_command_line(settings: Settings, app: Any) -> None:
    env = key_env(settings)
    admin = issued_by_cli(env)
    reader = issued_by_cli(env, "--name", "dashboard", "--scope", "read", "--expires-in", "90d")

    keys = listed(env)
    assert [(k["name"], k["scopes"], k["status"], k["prefix"]) for k in keys] == [
        ("dashboard", ["read"], "active", reader[:12]),
        ("default", ["admin"], "active", admin[:12]),
    ]
    expires_in = datetime.fromisoformat(keys[0]["expiresAt"]) - datetime.now(UTC)
    assert timedelta(days=89, hours=23) < expires_in <= timedelta(days=90)
    table = switchboard("list-api-keys", "--org", "Initech", env=env).stdout
    assert table.splitlines()[0].split() == [
        "ID",
        "NAME",
        "PREFIX",
        "SCOPES",
        "STATUS",
        "CREATED",
        "EXPIRES",
        "LAST",
        "USED",
    ]
    assert keys[0]["id"] in table.splitlines()[1] and "dashboard" in table and reader not in table

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://switchboard.test") as client:
        as_reader = {"Authorization": f"Bearer {reader}"}
        assert (
            await client.post("/graphql", json={"query": "{ agents { totalCount } }"}, headers=as_reader)
        ).status_code == 200
        forbidden = await client.post("/graphql", json={"query": "{ apiKeys { totalCount } }"}, headers=as_reader)
        assert forbidden.status_code == 403

    revoked = switchboard("revoke-api-key", keys[0]["id"], env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.startswith(f"revoked API key {keys[0]['id']} ('dashboard', {reader[:12]}...)")
    assert [k["status"] for k in listed(env)] == ["revoked", "active"]
    again = switchboard("revoke-api-key", keys[0]["id"], env=env)
    assert again.returncode == 1 and "already revoked" in again.stderr


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        pytest.param(
            ["create-api-key", "--org", "Initech", "--expires-in", "4x"],
            2,
            "expected a duration such as 90d, 12h or 30m",
            id="bad-duration",
        ),
        pytest.param(
            ["create-api-key", "--org", "Initech", "--expires-in", "0d"], 2, "expected a duration", id="zero-duration"
        ),
        pytest.param(
            ["create-api-key", "--org", "Initech", "--expires-in", "367d"],
            2,
            "--expires-in: Expiry can be at most 366 days ahead",
            id="too-long",
        ),
        pytest.param(
            ["create-api-key", "--org", "Initech", "--name", "  "],
            2,
            "--name: Key name can't be blank",
            id="blank-name",
        ),
        pytest.param(
            ["create-api-key", "--org", "Initech", "--scope", "root"], 2, "invalid choice: 'root'", id="unknown-scope"
        ),
        pytest.param(
            ["list-api-keys", "--org", "Nobody"],
            1,
            "there is no organization named 'Nobody'",
            id="unknown-organization",
        ),
        pytest.param(
            ["revoke-api-key", "00000000-0000-4000-8000-00000000dead"],
            1,
            "there is no API key 00000000-0000-4000-8000-00000000dead",
            id="unknown-key",
        ),
        pytest.param(["revoke-api-key", "not-an-id"], 2, "an API key id is a UUID", id="not-a-uuid"),
    ],
)
async def test_key_commands_refuse_clearly(
    settings: Settings, app: Any, args: list[str], status: int, message: str
) -> None:
    before = await stored_rows("api_keys")
    result = switchboard(*args, env=key_env(settings))
    assert (result.returncode, result.stdout) == (status, "")
    assert message in result.stderr
    assert await stored_rows("api_keys") == before


def test_key_commands_ask_for_migrations_first(tmp_path: Path) -> None:
    result = switchboard("list-api-keys", "--org", "Acme", env=first_run_environment(tmp_path))
    assert result.returncode == 1
    assert "run `switchboard migrate` first" in result.stderr

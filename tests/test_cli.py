"""The `switchboard` command, run as a real process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from switchboard.settings import Settings
from tests.conftest import ENCRYPTION_KEY, REPO
from tests.graphql_ops import CREATE_PHONE_NUMBER, sip_ip_allowlist
from tests.processes import create_api_key, environment, post, run, serving


def test_export_schema_prints_the_committed_sdl(tmp_path: Path) -> None:
    result = run("export-schema", env=environment(tmp_path))
    assert result.returncode == 0
    assert result.stdout == (REPO / "schema.graphql").read_text()


def test_create_api_key_then_serve_on_a_fresh_data_directory(tmp_path: Path) -> None:
    """The README's path: a key with one command, then the server accepts it."""
    env = environment(tmp_path)
    key = create_api_key(env)

    with serving(env) as server:
        assert post(server.url, {"query": "{ __typename }"}, key) == (200, {"data": {"__typename": "Query"}})
        variables = {"input": {"number": "+44 20 7946 0958", "provider": sip_ip_allowlist()}}
        status, body = post(server.url, {"query": CREATE_PHONE_NUMBER, "variables": variables}, key)
        assert status == 200
        assert body["data"]["createPhoneNumber"]["phoneNumber"]["number"] == "+442079460958"
        status, body = post(server.url, {"query": "{ __typename }"}, "sb_live_wrong")
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
    result = run("create-api-key", "--org", "  ", env=environment(tmp_path))
    assert result.returncode == 2
    assert "organization name must be 1 to 100 characters" in result.stderr


def test_malformed_encryption_key_is_refused_at_start(tmp_path: Path) -> None:
    env = environment(tmp_path, SWITCHBOARD_ENCRYPTION_KEYS="not-a-key")
    result = subprocess.run(
        [sys.executable, "-c", "from switchboard.app import create_app; create_app()"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "each encryption key must be 32 bytes in URL-safe base64" in result.stderr
    assert ENCRYPTION_KEY not in result.stderr


async def test_create_api_key_on_each_database(settings: Settings, app: Any) -> None:
    """DATABASE_URL=postgres://... serves the CLI as SQLite does; the key works at once."""
    env = environment(settings.data_dir, DATABASE_URL=settings.database_url, SWITCHBOARD_ENCRYPTION_KEYS=ENCRYPTION_KEY)
    key = create_api_key(env, "Initech")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://switchboard.test") as client:
        response = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {key}"})
    assert (response.status_code, response.json()) == (200, {"data": {"__typename": "Query"}})

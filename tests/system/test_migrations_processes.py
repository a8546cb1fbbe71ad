"""The committed migrations: the same schema on SQLite and PostgreSQL, applied once however many start them.

These are the tests that need real processes; the in-process ones are in
tests/api/test_migrations.py.
"""

from __future__ import annotations

import dataclasses
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from tortoise import connections

from resolvers.api_keys import hash_key
from switchboard.app import create_app
from switchboard.db import committed_migrations
from switchboard.settings import Settings
from tests.support import REPO
from tests.support.database import MIGRATIONS_TABLE
from tests.support.graphql_ops import VIEWER
from tests.support.secret_sweep import SWEEP
from tests.support.servers import server_environment, start_switchboard, switchboard

ORGANIZATION_ID = uuid.UUID("0a0a0a0a-0000-4000-8000-000000000001")
KEY_ID = uuid.UUID("0b0b0b0b-0000-4000-8000-000000000001")
CREATED_AT = "2024-01-01 00:00:00+00:00"


async def test_migrations_started_together_apply_once(settings: Settings, unmigrated_database_url: str) -> None:
    # As when several hosts start at once against a new database.
    env = server_environment(settings, DATABASE_URL=unmigrated_database_url)
    processes = [start_switchboard("migrate", env=env) for _ in range(3)]
    results = [(p.wait(timeout=60), *p.communicate()) for p in processes]

    assert [(code, out) for code, out, _ in results] == [(0, "migrations applied\n")] * 3, results
    async with LifespanManager(create_app(dataclasses.replace(settings, database_url=unmigrated_database_url))):
        applied = await connections.get("default").execute_query_dict(f"SELECT app, name FROM {MIGRATIONS_TABLE}")
    assert sorted(f"{row['app']}.{row['name']}" for row in applied) == sorted(committed_migrations())


async def test_keys_issued_before_scopes_become_admin_keys_named_default(
    settings: Settings, unmigrated_database_url: str
) -> None:
    env = server_environment(settings, DATABASE_URL=unmigrated_database_url)
    tortoise = [str(Path(sys.executable).parent / "tortoise"), "migrate", "models", "0002_lifecycle"]
    before_scopes = subprocess.run(tortoise, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert before_scopes.returncode == 0, before_scopes.stderr
    key = "sb_live_" + secrets.token_urlsafe(32)
    SWEEP.add_secret(key)
    async with LifespanManager(create_app(dataclasses.replace(settings, database_url=unmigrated_database_url))):
        # As the version before scopes wrote them; every value is a literal both databases read.
        await connections.get("default").execute_script(
            f"INSERT INTO organizations (id, name, created_at) VALUES ('{ORGANIZATION_ID}', 'Old', '{CREATED_AT}');"
            f"INSERT INTO api_keys (id, organization_id, key_hash, display_prefix, created_at) "
            f"VALUES ('{KEY_ID}', '{ORGANIZATION_ID}', '{hash_key(key)}', '{key[:12]}', '{CREATED_AT}');"
        )

    assert switchboard("migrate", env=env).returncode == 0

    app = create_app(dataclasses.replace(settings, database_url=unmigrated_database_url))
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://switchboard.test") as client,
    ):
        response = await client.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {key}"})
        listed = await client.get("/v1/api-keys", headers={"Authorization": f"Bearer {key}"})
    viewer = response.json()["data"]["viewer"]["apiKey"]
    assert (viewer["id"], viewer["name"], viewer["scopes"], viewer["prefix"]) == (
        str(KEY_ID),
        "default",
        ["ADMIN"],
        key[:12],
    )
    assert listed.status_code == 200, "an ADMIN key: it may manage keys"

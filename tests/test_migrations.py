"""The committed migrations: the same schema on SQLite and PostgreSQL, applied once however many start them."""

from __future__ import annotations

import dataclasses
import secrets
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from tortoise import Tortoise, connections
from tortoise.indexes import Index

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

Schema = dict[str, dict[str, Any]]

POSTGRES_INDEXES = """
SELECT t.relname AS table_name, i.indisunique AS is_unique, array_agg(a.attname::text ORDER BY k.ord) AS columns
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE n.nspname = current_schema()
GROUP BY t.relname, i.indexrelid, i.indisunique
"""


def table(columns: dict[str, bool]) -> dict[str, Any]:
    return {"columns": columns, "unique": set(), "indexes": set()}


async def database_schema(settings: Settings) -> Schema:
    """Tables, columns (name: nullable), unique keys and indexes, as the database reports them."""
    db = connections.get("default")
    schema: Schema = {}
    if settings.is_sqlite:
        tables = await db.execute_query_dict("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        for name in (t["name"] for t in tables):
            info = await db.execute_query_dict(f"PRAGMA table_info('{name}')")
            schema[name] = table({c["name"]: not c["notnull"] and not c["pk"] for c in info})
            for index in await db.execute_query_dict(f"PRAGMA index_list('{name}')"):
                columns = tuple(c["name"] for c in await db.execute_query_dict(f"PRAGMA index_info('{index['name']}')"))
                schema[name]["unique" if index["unique"] else "indexes"].add(columns)
    else:
        columns = await db.execute_query_dict(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema()"
        )
        for column in columns:
            schema.setdefault(column["table_name"], table({}))["columns"][column["column_name"]] = column["is_nullable"] == "YES"
        for index in await db.execute_query_dict(POSTGRES_INDEXES):
            schema[index["table_name"]]["unique" if index["is_unique"] else "indexes"].add(tuple(index["columns"]))
    del schema[MIGRATIONS_TABLE]
    return schema


def models_schema() -> Schema:
    """What the models declare, in the same terms."""
    schema: Schema = {}
    for model in Tortoise.apps["models"].values():
        meta = model._meta
        column = meta.fields_db_projection
        described = schema[meta.db_table] = table(
            {column[name]: meta.fields_map[name].null for name in column}
        )
        described["unique"] |= {(column[name],) for name in column if meta.fields_map[name].unique}
        described["unique"] |= {tuple(column[f] for f in fields) for fields in meta.unique_together}
        described["indexes"] |= {tuple(index.fields if isinstance(index, Index) else index) for index in meta.indexes}
    return schema


async def test_migrations_create_the_schema_the_models_declare(app: Any, settings: Settings) -> None:
    # Run on both backends, this says both get the same schema: the models'.
    assert await database_schema(settings) == models_schema()


async def test_migrations_started_together_apply_once(settings: Settings, unmigrated_database_url: str) -> None:
    # As when several hosts start at once against a new database.
    env = server_environment(settings, DATABASE_URL=unmigrated_database_url)
    processes = [start_switchboard("migrate", env=env) for _ in range(3)]
    results = [(p.wait(timeout=60), *p.communicate()) for p in processes]

    assert [(code, out) for code, out, _ in results] == [(0, "migrations applied\n")] * 3, results
    async with LifespanManager(create_app(dataclasses.replace(settings, database_url=unmigrated_database_url))):
        applied = await connections.get("default").execute_query_dict(f"SELECT app, name FROM {MIGRATIONS_TABLE}")
    assert sorted(f"{row['app']}.{row['name']}" for row in applied) == sorted(committed_migrations())


async def test_keys_issued_before_scopes_become_admin_keys_named_default(settings: Settings, unmigrated_database_url: str) -> None:
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

    async with LifespanManager(create_app(dataclasses.replace(settings, database_url=unmigrated_database_url))) as manager:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://switchboard.test") as client:
            response = await client.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {key}"})
            listed = await client.get("/v1/api-keys", headers={"Authorization": f"Bearer {key}"})
    viewer = response.json()["data"]["viewer"]["apiKey"]
    assert (viewer["id"], viewer["name"], viewer["scopes"], viewer["prefix"]) == (str(KEY_ID), "default", ["ADMIN"], key[:12])
    assert listed.status_code == 200, "an ADMIN key: it may manage keys"

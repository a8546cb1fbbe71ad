"""Fixtures: a migrated SQLite file per test, the ASGI app over HTTP, API keys."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from tortoise import connections

from models.secrets import generate_key
from resolvers.api_keys import issue_key
from switchboard.app import create_app
from switchboard.settings import Settings

REPO = Path(__file__).resolve().parent.parent
ENCRYPTION_KEY = generate_key()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated once by the real `switchboard migrate`, copied per test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite://{path}", "SWITCHBOARD_ENCRYPTION_KEYS": ENCRYPTION_KEY}
    subprocess.run([sys.executable, "-m", "switchboard.cli", "migrate"], env=env, check=True, cwd=REPO, capture_output=True)
    return path


@pytest.fixture
def settings(tmp_path: Path, migrated_sqlite: Path) -> Settings:
    database = tmp_path / "switchboard.sqlite3"
    shutil.copyfile(migrated_sqlite, database)
    return Settings(database_url=f"sqlite://{database}", data_dir=tmp_path, encryption_keys=(ENCRYPTION_KEY,))


class Api:
    """An HTTP client for the app, speaking GraphQL with a chosen key."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.key: str | None = None

    async def post(self, query: str, variables: dict[str, Any] | None = None, *, key: str | None = None) -> httpx.Response:
        token = key or self.key
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *, key: str | None = None) -> dict[str, Any]:
        """Run an operation expected to succeed at the GraphQL level; return `data`."""
        response = await self.post(query, variables, key=key)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with LifespanManager(application) as manager:
        yield manager.app


@pytest.fixture
async def api(app: Any) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
        api = Api(client)
        api.key = (await issue_key("Acme")).key
        yield api


@pytest.fixture
async def other_key(app: Any) -> str:
    """A key of a second organization."""
    return (await issue_key("Globex")).key


async def stored_rows(table: str) -> list[dict[str, Any]]:
    """Rows exactly as the database holds them, bypassing the models."""
    return await connections.get("default").execute_query_dict(f"SELECT * FROM {table}")

"""/healthz and /readyz: for load balancers, without a key, as JSON."""

from __future__ import annotations

from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from switchboard.app import create_app
from switchboard.settings import Settings
from tests.support import REPO
from tests.support.app import Api
from tests.support.database import ENCRYPTION_KEY


async def get(settings: Settings, path: str) -> httpx.Response:
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
            return await client.get(path)


async def test_healthz_answers_without_a_key(api: Api) -> None:
    response = await api.client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_is_ready_on_a_migrated_database(api: Api) -> None:
    response = await api.client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_readyz_names_the_migrations_a_database_lacks(settings: Settings, unmigrated_database_url: str) -> None:
    response = await get(Settings(unmigrated_database_url, settings.data_dir, settings.encryption_keys), "/readyz")
    on_disk = sorted(f"models.{path.stem}" for path in (REPO / "models" / "migrations").glob("0*.py"))
    assert len(on_disk) >= 2
    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "reason": f"migrations not applied: {', '.join(on_disk)}; run `switchboard migrate`"},
    )


async def test_readyz_says_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Nothing listens on port 1; the app starts anyway, as it does when the
    # database is down, and tells the load balancer to keep traffic away.
    settings = Settings("postgres://switchboard@127.0.0.1:1/switchboard", tmp_path, (ENCRYPTION_KEY,))
    response = await get(settings, "/readyz")
    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "reason": "database unreachable (ConnectionRefusedError)"},
    )
    assert (await get(settings, "/healthz")).status_code == 200

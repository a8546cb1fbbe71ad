"""Health endpoints for load balancers and orchestrators: no auth, JSON."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise import connections

from switchboard.db import pending_migrations

log = logging.getLogger("switchboard")


async def healthz(request: Request) -> JSONResponse:
    """The process is up and serving HTTP; says nothing of the database."""
    return JSONResponse({"status": "ok"})


def readyz(committed_migrations: frozenset[str]) -> Callable[[Request], Awaitable[JSONResponse]]:
    """Ready means the database answers and has every migration this version ships."""

    async def endpoint(request: Request) -> JSONResponse:
        try:
            await connections.get("default").execute_query("SELECT 1")
        except Exception as error:
            log.warning("readiness check: database unreachable (%s)", type(error).__name__)
            return _unavailable(f"database unreachable ({type(error).__name__})")
        pending = await pending_migrations(committed_migrations)
        if pending:
            return _unavailable(f"migrations not applied: {', '.join(pending)}; run `switchboard migrate`")
        return JSONResponse({"status": "ready"})

    return endpoint


def _unavailable(reason: str) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)

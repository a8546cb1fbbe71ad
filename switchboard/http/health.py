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


def readyz(
    committed_migrations: frozenset[str], rate_limit: Callable[[], Awaitable[str | None]]
) -> Callable[[Request], Awaitable[JSONResponse]]:
    """Ready means the database answers and has every migration this version ships.

    With rate limits kept in Redis, the body says whether they are shared or,
    Redis unreachable, per process; either way the worker serves, so it is ready.
    """

    async def endpoint(request: Request) -> JSONResponse:
        try:
            await connections.get("default").execute_query("SELECT 1")
        except Exception as error:
            log.warning("readiness check: database unreachable (%s)", type(error).__name__)
            return _unavailable(f"database unreachable ({type(error).__name__})")
        pending = await pending_migrations(committed_migrations)
        if pending:
            return _unavailable(f"migrations not applied: {', '.join(pending)}; run `switchboard migrate`")
        limit = await rate_limit()
        return JSONResponse({"status": "ready"} if limit is None else {"status": "ready", "rateLimit": limit})

    return endpoint


def _unavailable(reason: str) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)

"""The request log: an id for every request, and one log line once its response is sent."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_log = logging.getLogger("switchboard.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestLogMiddleware:
    """Gives every request an id and logs one line once its response is sent (or has failed).

    A sane incoming X-Request-ID is kept, so one id follows a request across
    services; either way the response echoes it. Only ids, names and numbers
    are logged: never headers, variables or bodies, which carry keys and
    secrets.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        # The request's own copy of the lifespan state, as uvicorn gives, whatever the server:
        # what one request records (its key, its organization) is never another's.
        state = scope["state"] = dict(scope.get("state", {}))
        state["request_id"] = request_id
        status = 500  # unless a response starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            organization_id = state.get("organization_id")
            principal = state.get("principal")
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            request_log.info(
                "%s %s %d %.1fms",
                scope["method"],
                scope["path"],
                status,
                duration_ms,
                extra={
                    "request_id": request_id,
                    "organization_id": str(organization_id) if organization_id else None,
                    "api_key_id": str(principal.key_id) if principal else None,
                    "operation": getattr(state.get("request_context"), "operation_name", None),
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )

"""The request body limit: 413 before any endpoint reads a byte too many."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.http.view import graphql_refusal

MAX_BODY_BYTES = 64 * 1024
REST_PREFIX = "/v1/"


def _too_large(path: str) -> Response:
    message = f"The request body is too large: at most {MAX_BODY_BYTES // 1024} KiB"
    if path.startswith(REST_PREFIX):
        return JSONResponse({"error": message, "details": []}, status_code=413)
    return graphql_refusal(413, message, "REQUEST_TOO_LARGE")


class BodySizeLimit:
    """Answers 413 to a body over MAX_BODY_BYTES, whether its Content-Length says so or it streams past it.

    The body is read here, at most MAX_BODY_BYTES of it, and handed on whole,
    so no endpoint ever holds or parses more.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(scope["path"])(scope, receive, send)
            return
        body = bytearray()
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away: nobody to answer
            body += message.get("body", b"")
            more_body = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await _too_large(scope["path"])(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

"""The GraphQL endpoint over HTTP: API-key auth, request ids, request log, error masking."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from models.secrets import SecretBox
from resolvers import api_keys
from schema.context import GraphQLContext

log = logging.getLogger("switchboard")
request_log = logging.getLogger("switchboard.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

# graphql-core quotes the offending input in coercion and validation
# messages; that input may be a password or token sent in the wrong shape.
_ECHOED_VALUES = (
    (re.compile(r", found: .*\Z", re.S), "."),
    (re.compile(r"(cannot represent [^:]*value): .*\Z", re.S), r"\1."),
    (re.compile(r"Value '.*' (does not exist in '[^']+' enum\.)", re.S), r"Value \1"),
)


def withhold_values(message: str) -> str:
    for pattern, replacement in _ECHOED_VALUES:
        message = pattern.sub(replacement, message)
    return message


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
        state = scope.setdefault("state", {})
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
                    "operation": getattr(state.get("request_context"), "operation_name", None),
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )


def unauthenticated(message: str) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="switchboard"'},
    )


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class GraphQLView(GraphQL[GraphQLContext, None]):
    def __init__(
        self, schema: Any, secrets: SecretBox, authenticator: api_keys.Authenticator, *, graphiql_html: str | None
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql_html else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )
        self.secrets = secrets
        self.authenticator = authenticator
        self.graphiql_html = graphiql_html or ""

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    @property
    def graphql_ide_html(self) -> str:
        return self.graphiql_html

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            # The explorer page loads without a key; its requests carry one.
            await super().__call__(scope, receive, send)
            return
        token = bearer_token(request)
        if token is None:
            response = unauthenticated("Missing API key: send 'Authorization: Bearer <your API key>'")
        elif (organization_id := await self.authenticator.authenticate(token)) is None:
            response = unauthenticated("Invalid API key")
        else:
            scope["state"]["organization_id"] = organization_id
            await super().__call__(scope, receive, send)
            return
        await response(scope, receive, send)

    async def get_context(self, request: Request, response: Any) -> GraphQLContext | None:  # type: ignore[override]
        if not hasattr(request.state, "organization_id"):
            return None  # the explorer page, which runs no operation
        context = GraphQLContext(
            organization_id=request.state.organization_id,
            secrets=self.secrets,
            request_id=request.state.request_id,
        )
        # RequestLogMiddleware reads the operation name from it afterwards.
        request.state.request_context = context
        return context

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:  # type: ignore[override]
        if result.errors:
            result.errors = [self._public_error(request, error) for error in result.errors]
        return await super().process_result(request, result)

    def _public_error(self, request: Request, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            # Parse, validation and coercion messages are meant for the caller.
            message = withhold_values(error.message)
            if message == error.message:
                return error
            return GraphQLError(message, nodes=error.nodes, path=error.path, extensions=error.extensions)
        request_id = request.state.request_id
        log.error(
            "unexpected error in %s (request id %s)",
            ".".join(str(p) for p in error.path or []) or "operation",
            request_id,
            exc_info=original,
        )
        return GraphQLError(
            f"Internal server error (request id {request_id})",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )

"""The GraphQL endpoint over HTTP: the gate first (switchboard/http/auth.py), then error masking,
and GraphQL-over-HTTP's media types and status codes."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from typing import Any, cast

import mimeparse
import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ErrorMessage, SubscribeMessage
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from models.secrets import SecretBox
from resolvers.context import Policy
from resolvers.rules import excerpt, quoted
from schema import Schema
from schema.context import GraphQLContext
from switchboard.http import execution, persisted
from switchboard.http.auth import Denied, Gate, client_address
from switchboard.http.bodies import parse_json
from switchboard.http.persisted import PersistedDocuments
from switchboard.http.subscription_errors import RefusalsAsErrors

log = logging.getLogger("switchboard")

# No answer is sent larger than this; the cost limit keeps queries' far below it.
MAX_RESPONSE_BYTES = 10_000_000
# Errors one answer lists at most.
MAX_ERRORS = 100
# Operations one WebSocket connection may run at once.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 10
# Seconds a WebSocket client has to send connection_init.
CONNECTION_INIT_SECONDS = 10

APPLICATION_JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
# mimeparse breaks ties in favour of the later type, so `*/*`, `application/*`
# and clients that list both at the same weight get application/json.
_MEDIA_TYPES = [GRAPHQL_RESPONSE_JSON, APPLICATION_JSON]

# graphql-core quotes the offending input in coercion and validation
# messages; that input may be a password or token sent in the wrong shape.
_ECHOED_VALUES = (
    (re.compile(r", found: .*\Z", re.S), "."),
    # After a "Did you mean ...?" hint the quote starts a sentence.
    (re.compile(r" Found: .*\Z", re.S), ""),
    (re.compile(r"(cannot represent [^:]*value): .*\Z", re.S), r"\1."),
    (re.compile(r"Value '.*' (does not exist in '[^']+' enum\.)", re.S), r"Value \1"),
    # A syntax error names the string token it stopped at: a literal, maybe a secret.
    (re.compile(r"\b((?:Block)?String) '.*'(?=\.\Z)", re.S), r"\1"),
)
# Names graphql-core and Strawberry quote: field, argument, type, fragment and
# operation names, and the keys of variables, all of them the caller's.
_QUOTED_NAMES = (re.compile(r"'([^']*)'"), re.compile(r'"([^"]*)"'))
# Room for graphql-core's longest messages about names of ordinary length.
MAX_MESSAGE_LENGTH = 300


def withhold_values(message: str) -> str:
    """graphql-core's message without the values it quotes, each name it quotes as a short escaped excerpt."""
    for pattern, replacement in _ECHOED_VALUES:
        message = pattern.sub(replacement, message)
    for pattern in _QUOTED_NAMES:
        message = pattern.sub(lambda name: quoted(name[1]), message)
    return excerpt(message, MAX_MESSAGE_LENGTH)


def graphql_refusal(
    status: int,
    message: str,
    code: str,
    *,
    media_type: str = APPLICATION_JSON,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """A request refused before any operation ran: a GraphQL response with errors and no data."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code, **(extensions or {})}}]},
        status_code=status,
        headers=headers,
        media_type=media_type,
    )


def response_media_type(accept: str) -> str:
    """What the client's Accept header prefers; application/json when it names neither type, or nothing."""
    try:
        return mimeparse.best_match(_MEDIA_TYPES, accept) or APPLICATION_JSON
    except ValueError:
        return APPLICATION_JSON


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing executed: the document did not parse or validate, or the variables did not coerce.

    Field errors carry a path; these errors belong to the request as a whole.
    """
    return result.data is None and bool(result.errors) and all(error.path is None for error in result.errors or ())


def http_status(body: GraphQLHTTPResponse, media_type: str) -> int:
    """GraphQL over HTTP's status for a response.

    Legacy application/json clients get 200 for every well-formed request and
    read errors from the body; application/graphql-response+json says with a
    4xx or 5xx that nothing executed (a response without `data`). Refusals
    of the key, a rate limit used up or a scope it lacks, are 429 and 403 in
    both, as a missing key is 401.
    """
    errors: list[Any] = body.get("errors") or []  # formatted errors: JSON objects
    codes = {error.get("extensions", {}).get("code") for error in errors}
    if "RATE_LIMITED" in codes:
        return 429
    if "FORBIDDEN" in codes:
        return 403
    if media_type == APPLICATION_JSON or "data" in body:
        return 200
    return 500 if "INTERNAL_SERVER_ERROR" in codes else 400


def _replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` with the body read already handed out first, for Strawberry's view to read again."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def connection_token(params: Any) -> str | None:
    """The key of a connection_init payload: {"Authorization": "Bearer <key>"}, as the HTTP header carries it."""
    if not isinstance(params, dict):
        return None
    values = [v for k, v in params.items() if isinstance(k, str) and k.lower() == "authorization"]
    if len(values) != 1 or not isinstance(values[0], str):
        return None
    scheme, _, token = values[0].partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames; the view's JSON encoder makes bytes for HTTP bodies."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as closed:
            raise WebSocketDisconnected from closed


class TransportWSHandler(BaseGraphQLTransportWSHandler[GraphQLContext, None]):
    """graphql-transport-ws, refusing documents outside the manifest when only trusted documents run."""

    view: GraphQLView

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = cast(Any, RefusalsAsErrors(self.schema))

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        refusal = self.view.persisted.untrusted(message["payload"].get("query"))
        if refusal is None or not self.connection_acknowledged:
            await super().handle_subscribe(message)
            return
        error = GraphQLError(refusal.message, extensions={"code": refusal.code})
        await self.send_message(ErrorMessage(id=message["id"], type="error", payload=[error.formatted]))


@dataclass
class WebSocketContext(GraphQLContext):
    """A WebSocket connection's context: one for all its operations, filled in once its key is admitted."""

    address: str = ""
    # connection_init's payload, set by Strawberry before on_ws_connect.
    connection_params: Any = None


class GraphQLView(GraphQL[GraphQLContext, None]):
    """Strawberry's ASGI view, with the request path Switchboard needs.

    The seam with Strawberry: documented hooks (get_context, process_result,
    encode_json, graphql_ide_html) where one exists; each override of an
    internal says below what it changes and why, and
    tests/api/test_strawberry_seam.py fails when Strawberry changes one of them
    (its parameters, or what the direct path answers compared with its own).
    """

    websocket_adapter_class = TextWebSocketAdapter
    graphql_transport_ws_handler_class = TransportWSHandler
    # Switchboard's Schema (Strawberry's, with the known documents the direct path runs); Strawberry
    # types it BaseSchema.
    schema: Schema

    def __init__(
        self,
        schema: Schema,
        secrets: SecretBox,
        gate: Gate,
        policy: Policy,
        *,
        graphiql_html: str | None,
        allowed_origins: tuple[str, ...] = (),
        persisted_documents: PersistedDocuments | None = None,
        compiled_execution: bool = True,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql_html else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
            # Subscriptions over WebSocket speak graphql-transport-ws only; the older graphql-ws
            # protocol is refused (4406).
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=CONNECTION_INIT_SECONDS),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
            # Pages on these origins may open a WebSocket, as SWITCHBOARD_CORS_ORIGINS lets them call over HTTP.
            allowed_origins=allowed_origins,
        )
        self.secrets = secrets
        self.gate = gate
        self.policy = policy
        self.graphiql_html = graphiql_html or ""
        # Documents sent by their hash (switchboard/http/persisted.py).
        self.persisted = persisted_documents or PersistedDocuments()
        # Known documents' operations run compiled (switchboard/http/compiler/); False: on graphql-core's executor.
        self.compiled_execution = compiled_execution

    def encode_json(self, data: object) -> bytes:
        # Documented hook: orjson, which also refuses what JSON cannot hold.
        return orjson.dumps(data)

    @property
    def graphql_ide_html(self) -> str:
        # Documented hook: the page with pinned, hashed CDN files (switchboard/graphiql.py).
        return self.graphiql_html

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Internal, overridden: authentication and the rate limit come before
        # Strawberry reads anything, and a known document's query or mutation
        # is answered here without Strawberry's per-request machinery.
        if scope["type"] == "websocket":
            # The key comes in connection_init's payload: on_ws_connect admits it.
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            # The explorer page loads without a key; its requests carry one.
            await super().__call__(scope, receive, send)
            return
        admission = await self.gate.admit(request)
        if isinstance(admission, Denied):
            refusal = graphql_refusal(
                admission.status,
                admission.message,
                admission.code,
                headers=admission.headers,
                extensions=admission.extensions,
            )
            await refusal(scope, receive, send)
            return
        # Known documents' queries and mutations run on graphql-core directly (switchboard/http/execution.py).
        if request.method == "POST":
            body = await request.body()
            try:
                json_body = parse_content_type(request.headers.get("content-type", ""))[0] == APPLICATION_JSON
                data = parse_json(body) if json_body else None
            except ValueError:
                data = None  # Strawberry's view answers either
            resolved = self.persisted.resolve(data)
            if isinstance(resolved, persisted.Refused):
                await self._refused(request, resolved)(scope, receive, send)
                return
            if resolved is not data:
                body = orjson.dumps(resolved)  # the document a hash stood for, for either path
            response = await self._run_known(request, resolved)
            if response is not None:
                await response(scope, receive, send)
                return
            receive = _replaying(body, receive)
        elif request.method == "GET":
            # A query's hash in the query string, as Apollo's link sends it with useGETForHashedQueries.
            query_string = self.persisted.resolve_query_string(scope["query_string"])
            if isinstance(query_string, persisted.Refused):
                await self._refused(request, query_string)(scope, receive, send)
                return
            scope = {**scope, "query_string": query_string}
        await super().__call__(scope, receive, send)

    def _refused(self, request: Request, refusal: persisted.Refused) -> Response:
        media_type = response_media_type(request.headers.get("accept", ""))
        body: GraphQLHTTPResponse = {"errors": [{"message": refusal.message, "extensions": {"code": refusal.code}}]}
        return graphql_refusal(http_status(body, media_type), refusal.message, refusal.code, media_type=media_type)

    async def _run_known(self, request: Request, data: Any) -> Response | None:
        """The answer for a known document's query or mutation, run directly; None for Strawberry's path."""
        known = execution.known_operation(self.schema, request.headers.get("content-type", ""), data)
        if known is None:
            return None
        media_type = response_media_type(request.headers.get("accept", ""))
        context = await self.get_context(request, None)
        assert context is not None, "an admitted request has a principal"
        result = await execution.run(self.schema, known, context, compiled=self.compiled_execution)
        response_data = await self.process_result(request, result)  # type: ignore[arg-type]
        content = self.encode_json(response_data)
        if len(content) > MAX_RESPONSE_BYTES:
            return self._too_large(request, len(content), media_type)
        response = Response(content, status_code=http_status(response_data, media_type), media_type=media_type)
        if response.status_code == 429:
            # The JSON just built from a rate_limited error: an error object with its extensions.
            errors = cast(list[dict[str, Any]], response_data["errors"])
            response.headers["Retry-After"] = str(errors[0]["extensions"]["retryAfter"])
        return response

    async def get_context(self, request: Request | WebSocket, response: Any) -> GraphQLContext | None:  # type: ignore[override]
        # Documented hook: the admitted caller's context; the direct path builds it here too.
        if isinstance(request, WebSocket):
            # Nobody's until on_ws_connect admits the key of connection_init.
            return WebSocketContext(
                organization_id=uuid.UUID(int=0),
                secrets=self.secrets,
                request_id=uuid.uuid4().hex,
                policy=self.policy,
                address=client_address(request),
            )
        if not hasattr(request.state, "principal"):
            return None  # the explorer page, which runs no operation
        context = GraphQLContext(
            organization_id=request.state.organization_id,
            principal=request.state.principal,
            secrets=self.secrets,
            request_id=request.state.request_id,
            policy=self.policy,
            charge=request.state.charge,
        )
        # RequestLogMiddleware reads the operation name from it afterwards.
        request.state.request_context = context
        return context

    async def on_ws_connect(self, context: GraphQLContext) -> UnsetType:
        """Admit the key in connection_init's payload as the Authorization header is admitted; else close with 4403."""
        assert isinstance(context, WebSocketContext)
        token = connection_token(context.connection_params)
        admission = await self.gate.admit_token(token, context.address)
        if isinstance(admission, Denied):
            raise ConnectionRejectionError({"message": admission.message, "code": admission.code})
        assert token is not None
        principal = admission.principal
        context.principal, context.organization_id, context.charge = (
            principal,
            principal.organization_id,
            admission.charge,
        )
        authenticator = self.gate.authenticator

        async def authorized() -> bool:
            return await authenticator.authenticate(token) is not None

        context.authorized = authorized
        # Strawberry declares UNSET as Any; it is the one UnsetType instance.
        return cast(UnsetType, UNSET)

    # Ignored override check below: Strawberry's run is two overloads (a Request answers a Response, a WebSocket
    # a WebSocket), which one method typed with their unions cannot restate.
    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        """Answer malformed requests as GraphQL responses too, in the media type the client accepts.

        Internal, overridden: Strawberry answers them as plain text, with 405
        and no Allow header for a mutation over GET. A WebSocket goes to
        Strawberry's own handling untouched.
        """
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        media_type = response_media_type(request.headers.get("accept", ""))
        try:
            response = await super().run(request, context, root_value)
        except HTTPException as error:
            status, headers = error.status_code, None
            if isinstance(error.__cause__, InvalidOperationTypeError):
                status, headers = 405, {"Allow": "POST"}  # a mutation over GET
            elif status == 405:
                headers = {"Allow": "GET, POST"}
            # Strawberry's reasons can quote the request (an unknown operation name).
            reason = withhold_values(error.reason)
            return graphql_refusal(status, reason, HTTPStatus(status).name, media_type=media_type, headers=headers)
        if len(response.body) > MAX_RESPONSE_BYTES:
            return self._too_large(request, len(response.body), media_type)
        return response

    def _too_large(self, request: Request, size: int, media_type: str) -> Response:
        """The cost limit keeps queries' answers far below MAX_RESPONSE_BYTES; this catches any other."""
        request_id = request.state.request_id
        log.error("withheld a response of %d bytes, over %d (request id %s)", size, MAX_RESPONSE_BYTES, request_id)
        message = f"The response would be {size} bytes; at most {MAX_RESPONSE_BYTES} are sent (request id {request_id})"
        return graphql_refusal(500, message, "RESPONSE_TOO_LARGE", media_type=media_type)

    def parse_json(self, data: str | bytes) -> Any:
        # Overridden: orjson's stricter parser (see parse_json above).
        try:
            return parse_json(data)
        except ValueError:
            raise HTTPException(400, "Unable to parse request body as JSON") from None

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        # Internal, overridden: Strawberry reads a body of any media type as JSON;
        # multipart uploads are off, so a POST body is JSON or nothing we read.
        if request.method == "POST" and parse_content_type(request.content_type or "")[0] != APPLICATION_JSON:
            raise HTTPException(415, "Unsupported media type: send the body as application/json")
        return await super().parse_http_body(request)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        # Internal, overridden: the response's media type is negotiated from Accept
        # (Strawberry always answers application/json).
        sub_response = await super().get_sub_response(request)
        # Negotiated here, where the request is at hand; create_response reads it.
        sub_response.media_type = response_media_type(request.headers.get("accept", ""))
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Documented hook: errors masked, at most MAX_ERRORS, no `data` when nothing ran.
        request_error = is_request_error(result)
        if result.errors and len(result.errors) > MAX_ERRORS:
            # Every failing field of a large answer would add an error, each with its whole path.
            left_out = len(result.errors) - MAX_ERRORS + 1
            result.errors = [*result.errors[: MAX_ERRORS - 1], GraphQLError(f"{left_out} more errors were left out")]
        if result.errors:
            result.errors = [self._public_error(request, error) for error in result.errors]
        body = await super().process_result(request, result)
        if request_error:
            # The GraphQL spec: an error raised before execution leaves no `data` entry.
            body.pop("data", None)
        return body

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        # Internal, overridden: GraphQL over HTTP's status codes and the negotiated media type.
        assert isinstance(response_data, dict), "batching is off"
        media_type = sub_response.media_type or APPLICATION_JSON
        response = super().create_response(response_data, sub_response)
        response.status_code = http_status(response_data, media_type)
        response.headers["content-type"] = media_type
        if response.status_code == 429:
            errors: list[Any] = response_data.get("errors") or []  # formatted errors: JSON objects
            response.headers["Retry-After"] = str(errors[0]["extensions"]["retryAfter"])
        return response

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

"""What every REST endpoint shares: the gate, its cost and scope, error masking, the error shape.

An endpoint authenticates through switchboard/http/auth.py, as the GraphQL
view does, and answers a refusal in the REST error shape:
`{"error": ..., "details": [{"field": ..., "message": ...}]}`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from models.secrets import SecretBox
from resolvers.context import Policy, RequestContext
from schema.cost import MUTATION_COST, VERIFY_COST, page_size
from schema.cost import ROW_COST as READ_COST
from switchboard.http.auth import Denied, Gate, rate_limit_exceeded, scope_denied
from switchboard.http.bodies import parse_json
from switchboard.rest.openapi import openapi_document
from switchboard.rest.scopes import rest_scope

log = logging.getLogger("switchboard")

DEFAULT_LIMIT = 20
# A body of many small unknown fields would otherwise answer with a far larger list.
MAX_DETAILS = 50

Handler = Callable[[Request, RequestContext], Awaitable[Response]]


class Refusal(Exception):
    """A request the API answers with an error body instead of data."""

    def __init__(self, status: int, error: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.details = status, error, details or []

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "details": self.details}, status_code=self.status)


def detail(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def invalid(details: list[dict[str, str]]) -> Refusal:
    if len(details) > MAX_DETAILS:
        more = len(details) - MAX_DETAILS + 1
        details = [*details[: MAX_DETAILS - 1], detail("body", f"{more} more problems are not listed")]
    return Refusal(400, "Validation failed", details)


def timestamp(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


async def json_body(request: Request, resource: str) -> dict[str, Any]:
    """The body as a JSON object (of `resource` fields, as the refusal says), or a Refusal."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise Refusal(415, "Unsupported media type: send the body as application/json")
    try:
        body = parse_json(await request.body())
    except ValueError:
        raise invalid([detail("body", "The body is not valid JSON")]) from None
    if not isinstance(body, dict):
        raise invalid([detail("body", f"The body must be a JSON object of {resource} fields")])
    return body


# A row as REST answers it costs what GraphQL charges for it: reading it, the object and each of its fields.
ROW_COST = READ_COST + 1 + len(openapi_document()["components"]["schemas"]["PhoneNumber"]["properties"])


def cost(operation_id: str, request: Request) -> int:
    """What a request costs in the units GraphQL documents are charged, known before it runs."""
    if operation_id.startswith("list"):  # every list pages by `limit`
        try:
            limit: int | None = int(request.query_params.get("limit", ""))
        except ValueError:
            limit = None  # refused below, or the default
        return 1 + page_size(limit, DEFAULT_LIMIT) * ROW_COST
    if operation_id.startswith("get"):
        return ROW_COST
    if operation_id == "verifyPhoneNumber":
        return MUTATION_COST + VERIFY_COST + ROW_COST
    if operation_id.startswith(("delete", "revoke")):
        return MUTATION_COST
    return MUTATION_COST + ROW_COST


def denied_response(denied: Denied) -> Response:
    return JSONResponse({"error": denied.message, "details": []}, status_code=denied.status, headers=denied.headers)


def endpoint(
    operations: dict[str, tuple[str, Handler]],
    secrets: SecretBox,
    gate: Gate,
    policy: Policy,
) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, charge the key's rate limit the request's cost, check the key's scope, then run the handler of the request's method.

    `operations` maps each method to its OpenAPI operationId and handler;
    Starlette also answers HEAD wherever GET is allowed.
    """

    async def run(request: Request) -> Response:
        admission = await gate.admit(request)
        if isinstance(admission, Denied):
            return denied_response(admission)
        principal = admission.principal
        operation_id, handler = operations["GET" if request.method == "HEAD" else request.method]
        retry_after = await admission.charge(cost(operation_id, request))
        if retry_after is not None:
            return denied_response(rate_limit_exceeded(retry_after))
        if (refused := scope_denied(principal, rest_scope(operation_id), operation_id)) is not None:
            return denied_response(refused)
        # `"verify": true` is charged once the body is read (phone_numbers._charge_check).
        request.state.charge = admission.charge
        ctx = RequestContext(
            organization_id=principal.organization_id,
            secrets=secrets,
            request_id=request.state.request_id,
            operation_name=operation_id,
            policy=policy,
            principal=principal,
        )
        # RequestLogMiddleware reads the operation name from it afterwards.
        request.state.request_context = ctx
        try:
            return await handler(request, ctx)
        except Refusal as refusal:
            return refusal.response()
        except Exception:
            log.exception("unexpected error in %s %s (request id %s)", request.method, request.url.path, ctx.request_id)
            return JSONResponse({"error": f"Internal server error (request id {ctx.request_id})", "details": []}, status_code=500)

    return run

"""/v1/phone-numbers: the reference REST API, as a thin layer over resolvers/.

Requests are checked for shape here (JSON types, known fields, fields that
apply to the chosen provider); every rule of the resource is the resolvers'
own, so GraphQL and REST refuse exactly the same things.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models import PhoneNumber, Provider, SipMode
from models.secrets import SecretBox
from resolvers import phone_numbers
from resolvers.context import Policy, RequestContext
from resolvers.errors import ErrorCode, FieldPath, UserError
from resolvers.pagination import PAGE_SIZE_MAX
from resolvers.rules import OMITTED, OrOmitted, excerpt, parse_uuid
from schema.cost import MUTATION_COST, page_size
from schema.cost import ROW_COST as READ_COST
from switchboard import rest_scopes
from switchboard.etags import MalformedEntityTags, etag, parse_if_match
from switchboard.http import Denied, Gate, parse_json, rate_limit_exceeded
from switchboard.openapi import MAX_OFFSET, openapi_document
from switchboard.rest_fields import BY_NAME, CONFIG_FIELDS, FIELDS, Config

log = logging.getLogger("switchboard")

IDEMPOTENCY_HEADER = "Idempotency-Key"
IF_MATCH_HEADER = "If-Match"
DEFAULT_LIMIT = 20
_JSON_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "object": (dict, list, str, int, float, bool)}
_INPUTS: dict[Config, type[phone_numbers.ProviderConfigInput]] = {
    (spec.provider, spec.sip_mode): input_type for input_type, spec in phone_numbers.SPECS.items()
}


def _rest_names() -> dict[FieldPath, str]:
    names: dict[FieldPath, str] = {(f.name,): f.name for f in FIELDS if not f.configs}
    for rest_field in CONFIG_FIELDS:
        for config in rest_field.configs:
            spec = phone_numbers.SPECS[_INPUTS[config]]
            name = next(f.name for f in spec.fields if f.attr == rest_field.attr)
            names[spec.path + (name,)] = rest_field.name
    names[("idempotencyKey",)] = IDEMPOTENCY_HEADER
    names[("expectedVersion",)] = IF_MATCH_HEADER
    return names


REST_NAMES = _rest_names()


class Refusal(Exception):
    """A request the API answers with an error body instead of data."""

    def __init__(self, status: int, error: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.details = status, error, details or []

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "details": self.details}, status_code=self.status)


def _detail(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


# A body of many small unknown fields would otherwise answer with a far larger list.
MAX_DETAILS = 50


def _invalid(details: list[dict[str, str]]) -> Refusal:
    if len(details) > MAX_DETAILS:
        more = len(details) - MAX_DETAILS + 1
        details = [*details[: MAX_DETAILS - 1], _detail("body", f"{more} more problems are not listed")]
    return Refusal(400, "Validation failed", details)


# --- responses ----------------------------------------------------------------


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def phone_number_body(row: PhoneNumber) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "name": row.name,
        "number": row.number,
        "provider": row.provider.value,
        "sipMode": row.sip_mode.value if row.sip_mode else None,
        "agentId": str(row.agent_id) if row.agent_id else None,
        "createdAt": _timestamp(row.created_at),
        "updatedAt": _timestamp(row.updated_at),
    }


def _refusal_for(errors: list[UserError]) -> Refusal:
    if any(e.field == ("id",) and e.code is ErrorCode.NOT_FOUND for e in errors):
        return Refusal(404, "Not found")
    details = [_detail(_rest_name(e.field), e.message) for e in errors]
    if any(e.field == ("expectedVersion",) and e.code is ErrorCode.CONFLICT for e in errors):
        return Refusal(412, "Precondition failed", details)
    for error in errors:
        if error.code is ErrorCode.LIMIT_REACHED:
            return Refusal(409, error.message)
        if error.code is ErrorCode.CONFLICT:
            return Refusal(409, "Conflict", details)
    conflicts = {ErrorCode.TAKEN, ErrorCode.IDEMPOTENCY_KEY_REUSED}
    if all(e.code in conflicts or e.field == ("idempotencyKey",) for e in errors):
        if all(e.code is ErrorCode.TAKEN for e in errors):
            return Refusal(409, "Phone number already exists", details)
        return Refusal(409, "Idempotency key conflict", details)
    return _invalid(details)


def _rest_name(path: FieldPath) -> str:
    if path in REST_NAMES:
        return REST_NAMES[path]
    return ".".join(path)  # metadata keys: "metadata.<key>"


# --- requests -----------------------------------------------------------------


async def _json_body(request: Request) -> dict[str, Any]:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise Refusal(415, "Unsupported media type: send the body as application/json")
    try:
        body = parse_json(await request.body())
    except ValueError:
        raise _invalid([_detail("body", "The body is not valid JSON")]) from None
    if not isinstance(body, dict):
        raise _invalid([_detail("body", "The body must be a JSON object of phone number fields")])
    return body


def _check_shape(body: Mapping[str, Any]) -> list[dict[str, str]]:
    details = []
    for name, value in body.items():
        field = BY_NAME.get(name)
        if field is None:
            details.append(_detail(excerpt(name), f"{excerpt(name)} is not a field of a phone number"))
        elif value is None:
            if not field.nullable:
                details.append(_detail(name, f"{name} can't be null"))
        elif not isinstance(value, _JSON_TYPES[field.json_type]) or isinstance(value, bool) and field.json_type != "object":
            details.append(_detail(name, f"{name} must be {'an' if field.json_type == 'integer' else 'a'} {field.json_type}"))
        elif field.enum is not None and value not in field.enum:
            details.append(_detail(name, f"{name} must be one of: {', '.join(field.enum)}"))
    return details


def _target(body: Mapping[str, Any], current: PhoneNumber | None) -> tuple[Config, list[dict[str, str]]]:
    """The provider and SIP mode the request leaves the number with."""
    provider = Provider(body.get("provider") or (current.provider.value if current else "twilio"))
    details = []
    mode: SipMode | None = None
    if provider is Provider.SIP:
        kept = current.sip_mode if current is not None and current.provider is Provider.SIP else None
        mode = SipMode(body["sipMode"]) if body.get("sipMode") else kept or SipMode.REGISTRATION
    elif "sipMode" in body:
        details.append(_detail("sipMode", "sipMode applies only when provider is 'sip'"))
    return (provider, mode), details


def _where(config: Config) -> str:
    provider, mode = config
    return f"provider '{provider.value}'" + (f" in sipMode '{mode.value}'" if mode else "")


def _config_input(
    body: Mapping[str, Any], config: Config
) -> tuple[phone_numbers.ProviderConfigInput, list[dict[str, str]]]:
    details = [
        _detail(f.name, f"{f.name} does not apply to {_where(config)}")
        for f in CONFIG_FIELDS
        if f.name in body and config not in f.configs
    ]
    values = {f.attr: body[f.name] for f in CONFIG_FIELDS if f.name in body and config in f.configs}
    return _INPUTS[config](**values), details


def _top_level(body: Mapping[str, Any], field: str) -> Any:
    return body.get(field, OMITTED)


def _create_input(body: dict[str, Any], idempotency_key: str | None) -> phone_numbers.CreatePhoneNumberInput:
    details = _check_shape(body)
    if details:
        raise _invalid(details)
    config, details = _target(body, None)
    provider_input, not_applicable = _config_input(body, config)
    if details + not_applicable:
        raise _invalid(details + not_applicable)
    return phone_numbers.CreatePhoneNumberInput(
        number=body.get("number"),
        provider=provider_input,
        name=_top_level(body, "name"),
        agent_id=_top_level(body, "agentId"),
        metadata=_top_level(body, "metadata"),
        idempotency_key=OMITTED if idempotency_key is None else idempotency_key,
    )


def _update_input(
    id: str, body: dict[str, Any], current: PhoneNumber, expected_versions: frozenset[int] | None
) -> phone_numbers.UpdatePhoneNumberInput:
    details = _check_shape(body)
    if details:
        raise _invalid(details)
    provider: OrOmitted[phone_numbers.ProviderConfigInput] = OMITTED
    if any(name in body for name in ("provider", "sipMode", *(f.name for f in CONFIG_FIELDS))):
        config, details = _target(body, current)
        provider, not_applicable = _config_input(body, config)
        if details + not_applicable:
            raise _invalid(details + not_applicable)
    return phone_numbers.UpdatePhoneNumberInput(
        id=id,
        number=_top_level(body, "number"),
        name=_top_level(body, "name"),
        agent_id=_top_level(body, "agentId"),
        metadata=_top_level(body, "metadata"),
        provider=provider,
        expected_versions=expected_versions,
    )


def _list_arguments(params: Mapping[str, str]) -> tuple[int, int, phone_numbers.PhoneNumberFilter]:
    details = [
        _detail(excerpt(name), f"{excerpt(name)} is not a query parameter of this list")
        for name in params
        if name not in {"limit", "offset", "provider", "agentId"}
    ]

    def integer(name: str, default: int, low: int, high: int) -> int:
        raw = params.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            details.append(_detail(name, f"{name} must be an integer between {low} and {high}"))
            return default
        return value

    limit = integer("limit", DEFAULT_LIMIT, 1, PAGE_SIZE_MAX)
    offset = integer("offset", 0, 0, MAX_OFFSET)
    provider = params.get("provider")
    if provider is not None and provider not in {p.value for p in Provider}:
        details.append(_detail("provider", f"provider must be one of: {', '.join(p.value for p in Provider)}"))
    agent_id = params.get("agentId")
    if agent_id is not None and parse_uuid(agent_id) is None:
        details.append(_detail("agentId", "agentId must be a UUID"))
    if details:
        raise _invalid(details)
    return limit, offset, phone_numbers.PhoneNumberFilter(provider=Provider(provider) if provider else None, agent_id=agent_id)


# --- endpoints ------------------------------------------------------------------

Handler = Callable[[Request, RequestContext], Awaitable[Response]]


# A row as REST answers it costs what GraphQL charges for it: reading it, the object and each of its fields.
ROW_COST = READ_COST + 1 + len(openapi_document()["components"]["schemas"]["PhoneNumber"]["properties"])


def _cost(operation_id: str, request: Request) -> int:
    """What a request costs in the units GraphQL documents are charged, known before it runs."""
    if operation_id.startswith("list"):  # every list pages by `limit`
        try:
            limit: int | None = int(request.query_params.get("limit", ""))
        except ValueError:
            limit = None  # refused below, or the default
        return 1 + page_size(limit, DEFAULT_LIMIT) * ROW_COST
    if operation_id.startswith("get"):
        return ROW_COST
    if operation_id.startswith(("delete", "revoke")):
        return MUTATION_COST
    return MUTATION_COST + ROW_COST


def _denied(denied: Denied) -> Response:
    return JSONResponse({"error": denied.message, "details": []}, status_code=denied.status, headers=denied.headers)


def _endpoint(
    operations: dict[str, tuple[str, Handler]],
    secrets: SecretBox,
    gate: Gate,
    policy: Policy,
) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, charge the key's rate limit the request's cost, check the key's scope, then run the
    handler of the request's method.

    `operations` maps each method to its OpenAPI operationId and handler;
    Starlette also answers HEAD wherever GET is allowed.
    """

    async def endpoint(request: Request) -> Response:
        admission = await gate.admit(request)
        if isinstance(admission, Denied):
            return _denied(admission)
        principal = admission.principal
        operation_id, handler = operations["GET" if request.method == "HEAD" else request.method]
        retry_after = await admission.charge(_cost(operation_id, request))
        if retry_after is not None:
            return _denied(rate_limit_exceeded(retry_after))
        request.state.principal = principal
        request.state.organization_id = principal.organization_id
        if (refused := rest_scopes.forbidden(principal, operation_id)) is not None:
            return refused
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

    return endpoint


def _answer(row: PhoneNumber, status_code: int = 200, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A number, with its version as the ETag."""
    headers = {"ETag": etag(row.version), **(headers or {})}
    return JSONResponse({"data": phone_number_body(row)}, status_code=status_code, headers=headers)


async def create(request: Request, ctx: RequestContext) -> Response:
    data = _create_input(await _json_body(request), request.headers.get(IDEMPOTENCY_HEADER))
    result = await phone_numbers.create_phone_number(ctx, data)
    if result.phone_number is None:
        raise _refusal_for(result.errors)
    row = result.phone_number
    return _answer(row, 201, {"Location": f"/v1/phone-numbers/{row.id}"})


async def list_(request: Request, ctx: RequestContext) -> Response:
    limit, offset, where = _list_arguments(request.query_params)
    rows = await phone_numbers.list_phone_numbers_by_offset(ctx, limit, offset, where)
    total = await phone_numbers.count_phone_numbers(ctx, where)
    return JSONResponse(
        {"data": [phone_number_body(r) for r in rows], "pagination": {"total": total, "limit": limit, "offset": offset}}
    )


async def _existing(ctx: RequestContext, id: str) -> PhoneNumber:
    row = await phone_numbers.get_phone_number(ctx, id)
    if row is None:
        raise Refusal(404, "Not found")
    return row


def _if_match(request: Request, current: PhoneNumber) -> frozenset[int] | None:
    """The versions If-Match allows the request on (None: any), once `current` is known to exist.

    A number that is already at none of them is refused here, before the
    body is read; the resolvers check again as they write.
    """
    lines = request.headers.getlist(IF_MATCH_HEADER)
    if not lines:
        return None
    try:
        versions = parse_if_match(lines)
    except MalformedEntityTags:
        raise _invalid(
            [_detail(IF_MATCH_HEADER, 'If-Match must be * or a comma-separated list of entity tags, such as "3" (an ETag this API sent)')]
        ) from None
    if versions is not None and current.version not in versions:
        raise _refusal_for([phone_numbers.version_conflict(current, versions)])
    return versions


async def read(request: Request, ctx: RequestContext) -> Response:
    row = await _existing(ctx, request.path_params["id"])
    _if_match(request, row)
    return _answer(row)


async def update(request: Request, ctx: RequestContext) -> Response:
    id = request.path_params["id"]
    current = await _existing(ctx, id)
    expected_versions = _if_match(request, current)
    data = _update_input(id, await _json_body(request), current, expected_versions)
    result = await phone_numbers.update_phone_number(ctx, data)
    if result.phone_number is None:
        raise _refusal_for(result.errors)
    return _answer(result.phone_number)


async def delete(request: Request, ctx: RequestContext) -> Response:
    id = request.path_params["id"]
    expected_versions = _if_match(request, await _existing(ctx, id)) if IF_MATCH_HEADER in request.headers else None
    result = await phone_numbers.delete_phone_number(ctx, id, expected_versions)
    if result.deleted_id is None:
        raise _refusal_for(result.errors)
    return Response(status_code=204)


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


def routes(secrets: SecretBox, gate: Gate, policy: Policy) -> list[Route]:
    return [
        Route("/v1/openapi.json", openapi, methods=["GET"]),
        Route(
            "/v1/phone-numbers",
            _endpoint(
                {"GET": ("listPhoneNumbers", list_), "POST": ("createPhoneNumber", create)}, secrets, gate, policy
            ),
            methods=["GET", "POST"],
        ),
        Route(
            "/v1/phone-numbers/{id}",
            _endpoint(
                {"GET": ("getPhoneNumber", read), "PATCH": ("updatePhoneNumber", update), "DELETE": ("deletePhoneNumber", delete)},
                secrets,
                gate,
                policy,
            ),
            methods=["GET", "PATCH", "DELETE"],
        ),
    ]


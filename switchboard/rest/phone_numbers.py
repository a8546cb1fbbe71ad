"""/v1/phone-numbers: the reference REST API, as a thin layer over resolvers/.

Requests are checked for shape here (JSON types, known fields, fields that
apply to the chosen provider); every rule of the resource is the resolvers'
own, so GraphQL and REST refuse exactly the same things.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models import PhoneNumber, PhoneNumberHealth, Provider, SipMode
from models.secrets import SecretBox
from resolvers import health, phone_numbers
from resolvers.context import Policy, RequestContext
from resolvers.errors import ErrorCode, FieldPath, UserError
from resolvers.pagination import MAX_OFFSET, PAGE_SIZE_MAX
from resolvers.providers import SPECS, ProviderConfigInput
from resolvers.rules import OMITTED, excerpt, parse_uuid
from schema.cost import VERIFY_COST
from switchboard.http.auth import Gate, rate_limit_exceeded
from switchboard.rest.endpoint import DEFAULT_LIMIT, Refusal, detail, endpoint, invalid, json_body, timestamp
from switchboard.rest.etags import MalformedEntityTags, etag, parse_if_match
from switchboard.rest.fields import BY_NAME, CONFIG_FIELDS, FIELDS, Config
from switchboard.rest.openapi import openapi_document

IDEMPOTENCY_HEADER = "Idempotency-Key"
IF_MATCH_HEADER = "If-Match"
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict, list, str, int, float, bool),
}
_INPUTS: dict[Config, type] = {(spec.provider, spec.sip_mode): input_type for input_type, spec in SPECS.items()}


def _rest_names() -> dict[FieldPath, str]:
    names: dict[FieldPath, str] = {(f.name,): f.name for f in FIELDS if not f.configs}
    for spec in SPECS.values():
        for field in spec.fields:
            names[spec.path + (field.name,)] = field.rest
    names[("idempotencyKey",)] = IDEMPOTENCY_HEADER
    names[("expectedVersion",)] = IF_MATCH_HEADER
    return names


REST_NAMES = _rest_names()


# --- responses ----------------------------------------------------------------


def health_body(row: PhoneNumberHealth | None) -> dict[str, Any] | None:
    """What checks found, as GraphQL's PhoneNumberHealth; null until the number is checked."""
    if row is None or row.state is None:
        return None
    assert row.checked_at is not None and row.since is not None
    return {
        "state": row.state.value,
        "detail": row.detail,
        "sipStatusCode": row.sip_status_code,
        "latencyMs": row.latency_ms,
        "checkedAt": timestamp(row.checked_at),
        "since": timestamp(row.since),
    }


def phone_number_body(row: PhoneNumber, health: PhoneNumberHealth | None) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "name": row.name,
        "number": row.number,
        "provider": row.provider.value,
        "sipMode": row.sip_mode.value if row.sip_mode else None,
        "agentId": str(row.agent_id) if row.agent_id else None,
        "createdAt": timestamp(row.created_at),
        "updatedAt": timestamp(row.updated_at),
        "health": health_body(health),
    }


def _refusal_for(errors: list[UserError]) -> Refusal:
    if any(e.field == ("id",) and e.code is ErrorCode.NOT_FOUND for e in errors):
        return Refusal(404, "Not found")
    failed = [e for e in errors if e.code is ErrorCode.VERIFICATION_FAILED]
    if failed:
        return Refusal(400, "Verification failed", [detail("verify", e.message) for e in failed])
    details = [detail(_rest_name(e.field), e.message) for e in errors]
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
    return invalid(details)


def _rest_name(path: FieldPath) -> str:
    if path in REST_NAMES:
        return REST_NAMES[path]
    return ".".join(path)  # metadata keys: "metadata.<key>"


# --- requests -----------------------------------------------------------------


def _check_shape(body: Mapping[str, Any]) -> list[dict[str, str]]:
    details = []
    for name, value in body.items():
        field = BY_NAME.get(name)
        if field is None:
            details.append(detail(excerpt(name), f"{excerpt(name)} is not a field of a phone number"))
        elif value is None:
            if not field.nullable:
                details.append(detail(name, f"{name} can't be null"))
        elif (
            not isinstance(value, _JSON_TYPES[field.json_type])
            or isinstance(value, bool)
            and field.json_type not in ("object", "boolean")
        ):
            details.append(
                detail(name, f"{name} must be {'an' if field.json_type == 'integer' else 'a'} {field.json_type}")
            )
        elif field.enum is not None and value not in field.enum:
            details.append(detail(name, f"{name} must be one of: {', '.join(field.enum)}"))
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
        details.append(detail("sipMode", "sipMode applies only when provider is 'sip'"))
    return (provider, mode), details


def _where(config: Config) -> str:
    provider, mode = config
    return f"provider '{provider.value}'" + (f" in sipMode '{mode.value}'" if mode else "")


def _config_input(body: Mapping[str, Any], config: Config) -> tuple[ProviderConfigInput, list[dict[str, str]]]:
    details = [
        detail(f.name, f"{f.name} does not apply to {_where(config)}")
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
        raise invalid(details)
    config, details = _target(body, None)
    provider_input, not_applicable = _config_input(body, config)
    if details + not_applicable:
        raise invalid(details + not_applicable)
    return phone_numbers.CreatePhoneNumberInput(
        number=body.get("number"),
        provider=provider_input,
        name=_top_level(body, "name"),
        agent_id=_top_level(body, "agentId"),
        metadata=_top_level(body, "metadata"),
        idempotency_key=OMITTED if idempotency_key is None else idempotency_key,
        verify=body.get("verify") is True,
    )


def _update_input(
    id: str, body: dict[str, Any], current: PhoneNumber, expected_versions: frozenset[int] | None
) -> phone_numbers.UpdatePhoneNumberInput:
    details = _check_shape(body)
    if details:
        raise invalid(details)
    provider: Any = OMITTED
    if any(name in body for name in ("provider", "sipMode", *(f.name for f in CONFIG_FIELDS))):
        config, details = _target(body, current)
        provider, not_applicable = _config_input(body, config)
        if details + not_applicable:
            raise invalid(details + not_applicable)
    return phone_numbers.UpdatePhoneNumberInput(
        id=id,
        number=_top_level(body, "number"),
        name=_top_level(body, "name"),
        agent_id=_top_level(body, "agentId"),
        metadata=_top_level(body, "metadata"),
        provider=provider,
        expected_versions=expected_versions,
        verify=body.get("verify") is True,
    )


def _list_arguments(params: Mapping[str, str]) -> tuple[int, int, phone_numbers.PhoneNumberFilter]:
    details = [
        detail(excerpt(name), f"{excerpt(name)} is not a query parameter of this list")
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
            details.append(detail(name, f"{name} must be an integer between {low} and {high}"))
            return default
        return value

    limit = integer("limit", DEFAULT_LIMIT, 1, PAGE_SIZE_MAX)
    offset = integer("offset", 0, 0, MAX_OFFSET)
    provider = params.get("provider")
    if provider is not None and provider not in {p.value for p in Provider}:
        details.append(detail("provider", f"provider must be one of: {', '.join(p.value for p in Provider)}"))
    agent_id = params.get("agentId")
    if agent_id is not None and parse_uuid(agent_id) is None:
        details.append(detail("agentId", "agentId must be a UUID"))
    if details:
        raise invalid(details)
    return (
        limit,
        offset,
        phone_numbers.PhoneNumberFilter(provider=Provider(provider) if provider else None, agent_id=agent_id),
    )


# --- endpoints ------------------------------------------------------------------


async def _health(ctx: RequestContext, row: PhoneNumber) -> PhoneNumberHealth | None:
    return (await health.health_by_number(ctx, [row.id])).get(row.id)


async def _answer(ctx: RequestContext, row: PhoneNumber) -> JSONResponse:
    return _number(row, await _health(ctx, row))


def _number(
    row: PhoneNumber, health: PhoneNumberHealth | None, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A number, with its version as the ETag."""
    headers = {"ETag": etag(row.version), **(headers or {})}
    return JSONResponse({"data": phone_number_body(row, health)}, status_code=status_code, headers=headers)


async def _charge_check(request: Request, verify: bool) -> None:
    """`"verify": true` costs what a verify does, taken before the check runs."""
    if verify:
        retry_after = await request.state.charge(VERIFY_COST)
        if retry_after is not None:
            raise _RateLimited(retry_after)


class _RateLimited(Refusal):
    def __init__(self, retry_after: int) -> None:
        denied = rate_limit_exceeded(retry_after)
        super().__init__(denied.status, denied.message)
        self.headers = denied.headers

    def response(self) -> JSONResponse:
        response = super().response()
        response.headers.update(self.headers)
        return response


async def create(request: Request, ctx: RequestContext) -> Response:
    data = _create_input(await json_body(request, "phone number"), request.headers.get(IDEMPOTENCY_HEADER))
    await _charge_check(request, data.verify)
    result = await phone_numbers.create_phone_number(ctx, data)
    if result.phone_number is None:
        raise _refusal_for(result.errors)
    row = result.phone_number
    # A number this request inserted has only the health its own check stored; a replayed one is read.
    found = result.health if result.inserted else await _health(ctx, row)
    return _number(row, found, 201, {"Location": f"/v1/phone-numbers/{row.id}"})


async def list_(request: Request, ctx: RequestContext) -> Response:
    limit, offset, where = _list_arguments(request.query_params)
    rows = await phone_numbers.list_phone_numbers_by_offset(ctx, limit, offset, where)
    total = await phone_numbers.count_phone_numbers(ctx, where)
    found = await health.health_by_number(ctx, [r.id for r in rows])
    return JSONResponse(
        {
            "data": [phone_number_body(r, found.get(r.id)) for r in rows],
            "pagination": {"total": total, "limit": limit, "offset": offset},
        }
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
        raise invalid(
            [
                detail(
                    IF_MATCH_HEADER,
                    'If-Match must be * or a comma-separated list of entity tags, such as "3" (an ETag this API sent)',
                )
            ]
        ) from None
    if versions is not None and current.version not in versions:
        raise _refusal_for([phone_numbers.version_conflict(current, versions)])
    return versions


async def read(request: Request, ctx: RequestContext) -> Response:
    row = await _existing(ctx, request.path_params["id"])
    _if_match(request, row)
    return await _answer(ctx, row)


async def update(request: Request, ctx: RequestContext) -> Response:
    id = request.path_params["id"]
    current = await _existing(ctx, id)
    expected_versions = _if_match(request, current)
    data = _update_input(id, await json_body(request, "phone number"), current, expected_versions)
    await _charge_check(request, data.verify)
    result = await phone_numbers.update_phone_number(ctx, data)
    if result.phone_number is None:
        raise _refusal_for(result.errors)
    return await _answer(ctx, result.phone_number)


async def verify(request: Request, ctx: RequestContext) -> Response:
    result = await phone_numbers.verify_phone_number(ctx, request.path_params["id"])
    if result.phone_number is None:
        raise _refusal_for(result.errors)
    return JSONResponse({"data": health_body(result.health)})


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
            endpoint(
                {"GET": ("listPhoneNumbers", list_), "POST": ("createPhoneNumber", create)}, secrets, gate, policy
            ),
            methods=["GET", "POST"],
        ),
        Route(
            "/v1/phone-numbers/{id}",
            endpoint(
                {
                    "GET": ("getPhoneNumber", read),
                    "PATCH": ("updatePhoneNumber", update),
                    "DELETE": ("deletePhoneNumber", delete),
                },
                secrets,
                gate,
                policy,
            ),
            methods=["GET", "PATCH", "DELETE"],
        ),
        Route(
            "/v1/phone-numbers/{id}/verify",
            endpoint({"POST": ("verifyPhoneNumber", verify)}, secrets, gate, policy),
            methods=["POST"],
        ),
    ]

"""/v1/api-keys: listing, creating and revoking keys over REST, as a thin layer over resolvers/api_keys.py.

Shares every endpoint's wrapper (switchboard/rest/endpoint.py: authentication,
rate limit, scope check, error masking) and error shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models import ApiKey, ApiKeyScope
from models.secrets import SecretBox
from resolvers import api_keys
from resolvers.context import Policy, RequestContext
from resolvers.errors import ErrorCode, UserError
from resolvers.pagination import MAX_OFFSET, PAGE_SIZE_MAX
from switchboard.http.auth import Gate
from switchboard.rest.endpoint import DEFAULT_LIMIT, Refusal, detail, endpoint, invalid, json_body, timestamp

FIELDS = ("name", "scopes", "expiresAt")
SCOPE_VALUES = tuple(scope.value for scope in ApiKeyScope)


def api_key_body(row: ApiKey) -> dict[str, Any]:
    """A key as REST and `switchboard list-api-keys --json` show it: never the key itself."""
    return {
        "id": str(row.id),
        "name": row.name,
        "prefix": row.display_prefix,
        "scopes": [scope.value for scope in api_keys.stored_scopes(row)],
        "createdAt": timestamp(row.created_at),
        "expiresAt": timestamp(row.expires_at) if row.expires_at else None,
        "lastUsedAt": timestamp(row.last_used_at) if row.last_used_at else None,
        "revokedAt": timestamp(row.revoked_at) if row.revoked_at else None,
    }


# --- requests -------------------------------------------------------------------


def _create_input(body: Mapping[str, Any]) -> api_keys.CreateApiKeyInput:
    details = [detail(name, f"{name} is not a field of an API key") for name in body if name not in FIELDS]
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        details.append(detail("name", "name must be a string"))
    scopes = body.get("scopes", [])
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s in SCOPE_VALUES for s in scopes):
        details.append(detail("scopes", f"scopes must be an array of: {', '.join(SCOPE_VALUES)}"))
    expires_at = _expires_at(body.get("expiresAt"), details)
    if details:
        raise invalid(details)
    return api_keys.CreateApiKeyInput(name=name, scopes=[ApiKeyScope(s) for s in scopes], expires_at=expires_at)


def _expires_at(value: Any, details: list[dict[str, str]]) -> datetime | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return datetime.fromisoformat(value)
    except ValueError:
        details.append(detail("expiresAt", "expiresAt must be a date-time such as 2030-01-31T12:00:00Z, or null"))
        return None


def _page_arguments(params: Mapping[str, str]) -> tuple[int, int]:
    details = [detail(name, f"{name} is not a query parameter of this list") for name in params if name not in {"limit", "offset"}]

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
        return value

    limit, offset = integer("limit", DEFAULT_LIMIT, 1, PAGE_SIZE_MAX), integer("offset", 0, 0, MAX_OFFSET)
    if details:
        raise invalid(details)
    return limit, offset


def _refusal_for(errors: list[UserError]) -> Refusal:
    codes = {e.code for e in errors}
    details = [detail(".".join(e.field), e.message) for e in errors]
    if ErrorCode.NOT_FOUND in codes:
        return Refusal(404, "Not found")
    if ErrorCode.ALREADY_REVOKED in codes:
        return Refusal(409, "API key already revoked", details)
    if ErrorCode.LAST_ADMIN_KEY in codes:
        return Refusal(409, "Last active ADMIN key", details)
    return invalid(details)


# --- endpoints ------------------------------------------------------------------


async def list_(request: Request, ctx: RequestContext) -> Response:
    limit, offset = _page_arguments(request.query_params)
    rows = await api_keys.list_api_keys_by_offset(ctx, limit, offset)
    total = await api_keys.count_api_keys(ctx)
    return JSONResponse({"data": [api_key_body(r) for r in rows], "pagination": {"total": total, "limit": limit, "offset": offset}})


async def create(request: Request, ctx: RequestContext) -> Response:
    result = await api_keys.create_api_key(ctx, _create_input(await json_body(request, "API key")))
    if result.api_key is None:
        raise _refusal_for(result.errors)
    return JSONResponse({"data": {**api_key_body(result.api_key), "secret": result.secret}}, status_code=201)


async def revoke(request: Request, ctx: RequestContext) -> Response:
    result = await api_keys.revoke_api_key(ctx, request.path_params["id"])
    if result.api_key is None:
        raise _refusal_for(result.errors)
    return JSONResponse({"data": api_key_body(result.api_key)})


def routes(secrets: SecretBox, gate: Gate, policy: Policy) -> list[Route]:
    return [
        Route(
            "/v1/api-keys",
            endpoint({"GET": ("listApiKeys", list_), "POST": ("createApiKey", create)}, secrets, gate, policy),
            methods=["GET", "POST"],
        ),
        Route(
            "/v1/api-keys/{id}",
            endpoint({"DELETE": ("revokeApiKey", revoke)}, secrets, gate, policy),
            methods=["DELETE"],
        ),
    ]

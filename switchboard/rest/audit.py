"""/v1/audit-events: the audit log over REST, as a thin layer over resolvers/audit.py.

Pages by cursor, not offset: the log grows at its head (newest first) while
it is read, so offset pages would shift, repeating or skipping events, and
a deep offset reads every event before it. The cursors are GraphQL's, so one
made by either API reads on in the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models import AuditAction, AuditEvent
from models.secrets import SecretBox
from resolvers import audit
from resolvers.context import Policy, RequestContext
from resolvers.pagination import (
    PAGE_SIZE_MAX,
    PAGE_SIZE_MIN,
    InvalidArgument,
    decode_cursor,
    encode_cursor,
)
from resolvers.rules import excerpt
from switchboard.http.auth import Gate
from switchboard.rest.endpoint import DEFAULT_LIMIT, detail, endpoint, invalid, timestamp

PARAMETERS = ("limit", "after", "targetId", "actorKeyId", "action", "since", "until")
ACTIONS = tuple(action.value for action in AuditAction)


def audit_event_body(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "at": timestamp(row.created_at),
        "action": row.action.value,
        "actor": {
            "type": row.actor_type.value,
            "apiKeyId": str(row.actor_key_id) if row.actor_key_id else None,
            "name": row.actor_name,
            "prefix": row.actor_prefix,
        },
        "targetType": row.target_type.value,
        "targetId": str(row.target_id),
        "requestId": row.request_id,
        "changes": [change.as_json() for change in audit.event_changes(row)],
    }


def _arguments(params: Mapping[str, str]) -> tuple[int, str | None, audit.AuditEventFilter]:
    details = [
        detail(excerpt(name), f"{excerpt(name)} is not a query parameter of this list") for name in params if name not in PARAMETERS
    ]
    limit = _limit(params.get("limit"), details)
    action = params.get("action")
    if action is not None and action not in ACTIONS:
        details.append(detail("action", f"action must be one of: {', '.join(ACTIONS)}"))
    since, until = _moment(params, "since", details), _moment(params, "until", details)
    if details:
        raise invalid(details)
    where = audit.AuditEventFilter(
        target_id=params.get("targetId"),
        actor_key_id=params.get("actorKeyId"),
        action=AuditAction(action) if action else None,
        since=since,
        until=until,
    )
    return limit, params.get("after"), where


def _limit(raw: str | None, details: list[dict[str, str]]) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not PAGE_SIZE_MIN <= value <= PAGE_SIZE_MAX:
        details.append(detail("limit", f"limit must be an integer between {PAGE_SIZE_MIN} and {PAGE_SIZE_MAX}"))
    return value


def _moment(params: Mapping[str, str], name: str, details: list[dict[str, str]]) -> datetime | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        details.append(detail(name, f"{name} must be a date-time such as 2030-01-31T12:00:00Z (send + as %2B)"))
        return None


async def list_(request: Request, ctx: RequestContext) -> Response:
    limit, after, where = _arguments(request.query_params)
    try:
        position = decode_cursor(ctx.secrets, audit.LIST_KIND, ctx.organization_id, after)
        page = await audit.list_audit_events(ctx, limit, position, where)
    except InvalidArgument as error:
        # GraphQL's argument names, as the query parameters spell them.
        raise invalid([detail(error.argument.removeprefix("filter."), str(error).replace("filter.", ""))]) from None
    next_cursor = encode_cursor(ctx.secrets, audit.LIST_KIND, ctx.organization_id, page.rows[-1]) if page.has_next_page else None
    return JSONResponse(
        {"data": [audit_event_body(row) for row in page.rows], "pagination": {"limit": limit, "nextCursor": next_cursor}}
    )


def routes(secrets: SecretBox, gate: Gate, policy: Policy) -> list[Route]:
    return [
        Route(
            "/v1/audit-events",
            endpoint({"GET": ("listAuditEvents", list_)}, secrets, gate, policy),
            methods=["GET"],
        )
    ]

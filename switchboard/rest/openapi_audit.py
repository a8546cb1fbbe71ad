"""/v1/audit-events in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from models import AuditAction, AuditActorType, AuditTargetType
from resolvers.pagination import CURSOR_MAX_LENGTH, PAGE_SIZE_MAX
from switchboard.rest.openapi_common import BODY_ERRORS, KEY_ERRORS, data_response, query


def paths() -> dict[str, Any]:
    moment = {"type": "string", "format": "date-time"}
    return {
        "/v1/audit-events": {
            "get": {
                "operationId": "listAuditEvents",
                "summary": "Your organization's audit log, newest first (ADMIN)",
                "description": "Every change to the organization's phone numbers, agents and API keys, one event each. "
                "Pages by cursor: pass `pagination.nextCursor` as `after` for the next page (null on the last). "
                "Cursors are GraphQL's, so one from `auditEvents` reads on here too.",
                "parameters": [
                    query("limit", {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE_MAX, "default": 20}, "Events per page"),
                    query("after", {"type": "string", "maxLength": CURSOR_MAX_LENGTH}, "A `nextCursor` this list answered"),
                    query("targetId", {"type": "string", "format": "uuid"}, "A phone number's, agent's or API key's id"),
                    query("actorKeyId", {"type": "string", "format": "uuid"}, "Changes made with this API key"),
                    query("action", {"type": "string", "enum": [a.value for a in AuditAction]}, "One kind of change"),
                    query("since", moment, "Made at or after this time, with a UTC offset (send + as %2B)"),
                    query("until", moment, "Made before this time, with a UTC offset"),
                ],
                "responses": {
                    "200": data_response("A page of events", {"$ref": "#/components/schemas/AuditEventList"}),
                    "400": BODY_ERRORS["400"],
                    **KEY_ERRORS,
                },
            },
        },
    }


def schemas() -> dict[str, Any]:
    nullable_string = {"type": ["string", "null"]}
    change = {
        "type": "object",
        "required": ["field", "before", "after", "secretChanged"],
        "additionalProperties": False,
        "properties": {
            "field": {"type": "string", "description": "As GraphQL spells it, e.g. name, provider, authToken"},
            "before": {"description": "Any JSON value, as GraphQL shows it; null when there was none"},
            "after": {"description": "Any JSON value; null when there is none"},
            "secretChanged": {
                "type": "boolean",
                "description": "A secret (authToken, password) was set, replaced or cleared; before and after are then null",
            },
        },
    }
    actor = {
        "type": "object",
        "required": ["type", "apiKeyId", "name", "prefix"],
        "additionalProperties": False,
        "properties": {
            "type": {"type": "string", "enum": [t.value for t in AuditActorType]},
            "apiKeyId": {"type": ["string", "null"], "format": "uuid"},
            "name": {"type": "string", "description": "The key's name then, or the `switchboard` command"},
            "prefix": nullable_string,
        },
    }
    event_properties: dict[str, Any] = {
        "id": {"type": "string", "format": "uuid"},
        "at": {"type": "string", "format": "date-time"},
        "action": {"type": "string", "enum": [a.value for a in AuditAction]},
        "actor": actor,
        "targetType": {"type": "string", "enum": [t.value for t in AuditTargetType]},
        "targetId": {"type": "string", "format": "uuid"},
        "requestId": nullable_string,
        "changes": {"type": "array", "items": change},
    }
    return {
        "AuditEvent": {
            "type": "object",
            "required": list(event_properties),
            "additionalProperties": False,
            "properties": event_properties,
        },
        "AuditEventList": {
            "type": "object",
            "required": ["data", "pagination"],
            "properties": {
                "data": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEvent"}},
                "pagination": {
                    "type": "object",
                    "required": ["limit", "nextCursor"],
                    "properties": {"limit": {"type": "integer", "minimum": 1}, "nextCursor": nullable_string},
                },
            },
        },
    }

"""Pieces the OpenAPI document's parts share: the error shape, responses, offset pages, the id parameter."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}


def error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def data_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


PAGINATION = {
    "type": "object",
    "required": ["total", "limit", "offset"],
    "properties": {
        "total": {"type": "integer", "minimum": 0},
        "limit": {"type": "integer", "minimum": 1},
        "offset": {"type": "integer", "minimum": 0},
    },
}
ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The phone number's id.",
}
BODY_ERRORS = {
    "400": error_response("Validation failed: `details` names each field (or header) and the rule it broke"),
    "401": error_response("Missing or invalid API key"),
    "409": error_response(
        "The number already exists in the organization, the Idempotency-Key was used with other input, "
        "or the organization has as many numbers as it may (SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION)"
    ),
    "403": error_response("The API key lacks the scope this operation needs: `error` names it"),
    "413": error_response("The body is larger than 64 KiB"),
    "415": error_response("The body is not application/json"),
    "429": {
        **error_response("The API key's rate limit is used up"),
        "headers": {"Retry-After": {"description": "Seconds until the request can succeed", "schema": {"type": "integer"}}},
    },
}
KEY_ERRORS = {code: BODY_ERRORS[code] for code in ("401", "403", "429")}


def wrapped(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["data"], "properties": {"data": schema}}


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}

"""/v1/api-keys in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from resolvers.api_keys import MAX_LIFETIME, NAME_MAX_LENGTH
from resolvers.pagination import MAX_OFFSET, PAGE_SIZE_MAX
from switchboard.rest.openapi_common import BODY_ERRORS, ID, KEY_ERRORS, PAGINATION, data_response, error_response, wrapped

_API_KEY = {"$ref": "#/components/schemas/ApiKey"}
_SCOPES = ["read", "write", "admin"]


def paths() -> dict[str, Any]:
    return {
        "/v1/api-keys": {
            "get": {
                "operationId": "listApiKeys",
                "summary": "List your organization's API keys, newest first, revoked and expired ones included (ADMIN)",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE_MAX, "default": 20}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}},
                ],
                "responses": {
                    "200": data_response("A page of keys", {"$ref": "#/components/schemas/ApiKeyList"}),
                    "400": BODY_ERRORS["400"],
                    **KEY_ERRORS,
                },
            },
            "post": {
                "operationId": "createApiKey",
                "summary": "Create an API key (ADMIN); the answer's `secret` is the only time the key is shown",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiKeyCreate"}}},
                },
                "responses": {
                    "201": {
                        **data_response("Created", wrapped({"$ref": "#/components/schemas/ApiKeyCreated"})),
                        "links": {"Revoke": {"operationId": "revokeApiKey", "parameters": {"id": "$response.body#/data/id"}}},
                    },
                    "400": BODY_ERRORS["400"],
                    **KEY_ERRORS,
                    "413": BODY_ERRORS["413"],
                    "415": BODY_ERRORS["415"],
                },
            },
        },
        "/v1/api-keys/{id}": {
            "parameters": [{**ID, "description": "The API key's id."}],
            "delete": {
                "operationId": "revokeApiKey",
                "summary": "Revoke an API key (ADMIN): every server refuses it within a second",
                "responses": {
                    "200": data_response("The revoked key", wrapped(_API_KEY)),
                    **KEY_ERRORS,
                    "404": error_response("No such key in your organization"),
                    "409": error_response("The key is already revoked, or is the organization's last active ADMIN key"),
                },
            },
        },
    }


def schemas() -> dict[str, Any]:
    key_properties: dict[str, Any] = {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "prefix": {"type": "string", "description": "The key's first characters: enough to recognise it, not to use it"},
        "scopes": {"type": "array", "items": {"type": "string", "enum": _SCOPES}},
        "createdAt": {"type": "string", "format": "date-time"},
        "expiresAt": {"type": ["string", "null"], "format": "date-time"},
        "lastUsedAt": {"type": ["string", "null"], "format": "date-time", "description": "Recorded at most once a minute"},
        "revokedAt": {"type": ["string", "null"], "format": "date-time"},
    }
    return {
        "ApiKey": {"type": "object", "required": list(key_properties), "additionalProperties": False, "properties": key_properties},
        "ApiKeyCreated": {
            "type": "object",
            "required": [*key_properties, "secret"],
            "additionalProperties": False,
            "properties": {
                **key_properties,
                "secret": {"type": "string", "description": "The key, for `Authorization: Bearer <key>`: shown here only"},
            },
        },
        "ApiKeyCreate": {
            "type": "object",
            "required": ["name", "scopes"],
            "additionalProperties": False,
            "properties": {
                "name": {
                    "type": "string",
                    "maxLength": NAME_MAX_LENGTH,
                    "description": f"1 to {NAME_MAX_LENGTH} characters after trimming",
                },
                "scopes": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "enum": _SCOPES},
                    "description": "read: reads; write: read, and changing phone numbers and agents; admin: everything",
                },
                "expiresAt": {
                    "type": ["string", "null"],
                    "format": "date-time",
                    "description": f"With a UTC offset, in the future, at most {MAX_LIFETIME.days} days ahead; "
                    "null or absent: never expires",
                },
            },
        },
        "ApiKeyList": {
            "type": "object",
            "required": ["data", "pagination"],
            "properties": {
                "data": {"type": "array", "items": _API_KEY},
                "pagination": PAGINATION,
            },
        },
    }

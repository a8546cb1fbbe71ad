"""The OpenAPI 3.1 document of the REST API, built from the same field table."""

from __future__ import annotations

from functools import cache
from typing import Any

from models import AuditAction, AuditActorType, AuditTargetType
from resolvers.api_keys import MAX_LIFETIME, NAME_MAX_LENGTH
from resolvers.pagination import CURSOR_MAX_LENGTH, PAGE_SIZE_MAX
from switchboard.rest_fields import FIELDS

# Offsets beyond this overflow the databases' integers; no organization has that many rows.
MAX_OFFSET = 2**31 - 1

_ERROR = {"$ref": "#/components/schemas/Error"}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _data_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_PHONE_NUMBER = {"$ref": "#/components/schemas/PhoneNumber"}
_PAGINATION = {
    "type": "object",
    "required": ["total", "limit", "offset"],
    "properties": {
        "total": {"type": "integer", "minimum": 0},
        "limit": {"type": "integer", "minimum": 1},
        "offset": {"type": "integer", "minimum": 0},
    },
}
_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The phone number's id.",
}
_ETAG = {
    "ETag": {
        "description": 'The number\'s version as a strong entity tag, e.g. `"3"`: send it back in If-Match to change '
        "or delete the number only if it has not changed since.",
        "schema": {"type": "string"},
    }
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": 'One or more ETags of this number (`"3"` or `"3", "4"`), or `*`: the request runs only if the '
    "number is at one of them now, and is refused with 412 otherwise. Weak tags (`W/\"3\"`) never match; a value "
    "that is not a list of entity tags is refused with 400.",
}
_PRECONDITION_FAILED = _error_response("If-Match names none of the number's current ETag: it has changed since; nothing was done")
_BODY_ERRORS = {
    "400": _error_response("Validation failed: `details` names each field (or header) and the rule it broke"),
    "401": _error_response("Missing or invalid API key"),
    "409": _error_response(
        "The number already exists in the organization, the Idempotency-Key was used with other input, "
        "or the organization has as many numbers as it may (SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION)"
    ),
    "403": _error_response("The API key lacks the scope this operation needs: `error` names it"),
    "413": _error_response("The body is larger than 64 KiB"),
    "415": _error_response("The body is not application/json"),
    "429": {
        **_error_response("The API key's rate limit is used up"),
        "headers": {"Retry-After": {"description": "Seconds until the request can succeed", "schema": {"type": "integer"}}},
    },
}


# What a client can do next with a created number's id.
_LINKS = {
    name: {"operationId": operation, "parameters": {"id": "$response.body#/data/id"}}
    for name, operation in (("Read", "getPhoneNumber"), ("Update", "updatePhoneNumber"), ("Delete", "deletePhoneNumber"))
}


def _request_schema(required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {f.name: f.json_schema() for f in FIELDS},
        "required": required,
        "additionalProperties": False,
    }


@cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard REST API",
            "version": "1.0.0",
            "description": "Phone numbers for voice-AI agents. Compatible with the `/v1/phone-numbers` REST API; "
            "the GraphQL API at /graphql serves the same resource with the same rules.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/v1/phone-numbers": {
                "post": {
                    "operationId": "createPhoneNumber",
                    "summary": "Create a new phone number",
                    "description": "Register a new phone number. For Twilio, provide account credentials. For SIP, "
                    "choose between 'registration' mode (Switchboard registers TO your PBX) or 'ip_allowlist' mode "
                    "(your PBX IP is allowlisted). SIP numbers support outbound proxy and auth user options in "
                    "registration mode. Fields that do not apply to the chosen provider or mode are refused.",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 255},
                            "description": "A retry with the same key and body within 24 hours returns the number the "
                            "first request created, creating nothing. twilioAuthToken and sipPassword are "
                            "compared only "
                            "as given or not: a retry with another secret returns the original number, its secret "
                            "unchanged. Shared with GraphQL's idempotencyKey.",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PhoneNumberCreate"}}},
                    },
                    "responses": {
                        "201": {**_data_response("Created", _wrapped(_PHONE_NUMBER)), "headers": _ETAG, "links": _LINKS},
                        **_BODY_ERRORS,
                    },
                },
                "get": {
                    "operationId": "listPhoneNumbers",
                    "summary": "List phone numbers, newest first",
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE_MAX, "default": 20}},
                        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}},
                        {"name": "provider", "in": "query", "schema": {"type": "string", "enum": ["twilio", "sip", "voximplant", "jambonz"]}},
                        {"name": "agentId", "in": "query", "schema": {"type": "string", "format": "uuid"}},
                    ],
                    "responses": {
                        "200": _data_response("A page of numbers", {"$ref": "#/components/schemas/PhoneNumberList"}),
                        "400": _BODY_ERRORS["400"],
                        "401": _BODY_ERRORS["401"],
                        "403": _BODY_ERRORS["403"],
                        "429": _BODY_ERRORS["429"],
                    },
                },
            },
            "/v1/phone-numbers/{id}": {
                "parameters": [_ID],
                "get": {
                    "operationId": "getPhoneNumber",
                    "summary": "Read a phone number",
                    "parameters": [_IF_MATCH],
                    "responses": {
                        "200": {**_data_response("The number", _wrapped(_PHONE_NUMBER)), "headers": _ETAG},
                        "400": _error_response("If-Match is not a list of entity tags"),
                        "401": _BODY_ERRORS["401"],
                        "403": _BODY_ERRORS["403"],
                        "404": _error_response("No such number in your organization"),
                        "412": _PRECONDITION_FAILED,
                        "429": _BODY_ERRORS["429"],
                    },
                },
                "patch": {
                    "operationId": "updatePhoneNumber",
                    "summary": "Update a phone number",
                    "description": "Same fields as create, all optional. Omitted fields keep their value; null clears "
                    "a nullable one. Keeping the provider and SIP mode changes only the fields given (a secret can be "
                    "rotated alone); another provider or mode needs its required fields and erases the old "
                    "configuration. "
                    "Send If-Match with the ETag of your last read to apply the change only if nobody has changed the "
                    "number since.",
                    "parameters": [_IF_MATCH],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PhoneNumberUpdate"}}},
                    },
                    "responses": {
                        "200": {**_data_response("The updated number", _wrapped(_PHONE_NUMBER)), "headers": _ETAG},
                        **_BODY_ERRORS,
                        "404": _error_response("No such number in your organization"),
                        "409": _error_response(
                            "The number already exists in the organization, or the number kept changing while the "
                            "update was applied (retry)"
                        ),
                        "412": _PRECONDITION_FAILED,
                    },
                },
                "delete": {
                    "operationId": "deletePhoneNumber",
                    "summary": "Delete a phone number and its stored secrets",
                    "parameters": [_IF_MATCH],
                    "responses": {
                        "204": {"description": "Deleted"},
                        "400": _error_response("If-Match is not a list of entity tags"),
                        "401": _BODY_ERRORS["401"],
                        "403": _BODY_ERRORS["403"],
                        "404": _error_response("No such number in your organization"),
                        "409": _error_response("The number kept changing while the delete was applied (retry)"),
                        "412": _PRECONDITION_FAILED,
                        "429": _BODY_ERRORS["429"],
                    },
                },
            },
            **_api_key_paths(),
            **_audit_paths(),
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "API key"}},
            "schemas": {
                "PhoneNumberCreate": _request_schema(["number"]),
                "PhoneNumberUpdate": _request_schema([]),
                "PhoneNumber": {
                    "type": "object",
                    "required": ["id", "name", "number", "provider", "sipMode", "agentId", "createdAt", "updatedAt"],
                    "additionalProperties": False,
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "name": {"type": ["string", "null"]},
                        "number": {"type": "string", "description": "E.164"},
                        "provider": {"type": "string", "enum": ["twilio", "sip", "voximplant", "jambonz"]},
                        "sipMode": {"type": ["string", "null"], "enum": ["registration", "ip_allowlist", None]},
                        "agentId": {"type": ["string", "null"], "format": "uuid"},
                        "createdAt": {"type": "string", "format": "date-time"},
                        "updatedAt": {"type": "string", "format": "date-time"},
                    },
                },
                "PhoneNumberList": {
                    "type": "object",
                    "required": ["data", "pagination"],
                    "properties": {
                        "data": {"type": "array", "items": _PHONE_NUMBER},
                        "pagination": _PAGINATION,
                    },
                },
                **_api_key_schemas(),
                **_audit_schemas(),
                "Error": {
                    "type": "object",
                    "required": ["error", "details"],
                    "properties": {
                        "error": {"type": "string"},
                        "details": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["field", "message"],
                                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                            },
                        },
                    },
                },
            },
        },
    }


def _wrapped(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["data"], "properties": {"data": schema}}


# --- /v1/api-keys -----------------------------------------------------------------

_API_KEY = {"$ref": "#/components/schemas/ApiKey"}
_SCOPES = ["read", "write", "admin"]
_KEY_ERRORS = {code: _BODY_ERRORS[code] for code in ("401", "403", "429")}


def _api_key_paths() -> dict[str, Any]:
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
                    "200": _data_response("A page of keys", {"$ref": "#/components/schemas/ApiKeyList"}),
                    "400": _BODY_ERRORS["400"],
                    **_KEY_ERRORS,
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
                        **_data_response("Created", _wrapped({"$ref": "#/components/schemas/ApiKeyCreated"})),
                        "links": {"Revoke": {"operationId": "revokeApiKey", "parameters": {"id": "$response.body#/data/id"}}},
                    },
                    "400": _BODY_ERRORS["400"],
                    **_KEY_ERRORS,
                    "413": _BODY_ERRORS["413"],
                    "415": _BODY_ERRORS["415"],
                },
            },
        },
        "/v1/api-keys/{id}": {
            "parameters": [{**_ID, "description": "The API key's id."}],
            "delete": {
                "operationId": "revokeApiKey",
                "summary": "Revoke an API key (ADMIN): every server refuses it within a second",
                "responses": {
                    "200": _data_response("The revoked key", _wrapped(_API_KEY)),
                    **_KEY_ERRORS,
                    "404": _error_response("No such key in your organization"),
                    "409": _error_response("The key is already revoked, or is the organization's last active ADMIN key"),
                },
            },
        },
    }


def _api_key_schemas() -> dict[str, Any]:
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
                "pagination": _PAGINATION,
            },
        },
    }


# --- /v1/audit-events -------------------------------------------------------------


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _audit_paths() -> dict[str, Any]:
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
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE_MAX, "default": 20}, "Events per page"),
                    _query("after", {"type": "string", "maxLength": CURSOR_MAX_LENGTH}, "A `nextCursor` this list answered"),
                    _query("targetId", {"type": "string", "format": "uuid"}, "A phone number's, agent's or API key's id"),
                    _query("actorKeyId", {"type": "string", "format": "uuid"}, "Changes made with this API key"),
                    _query("action", {"type": "string", "enum": [a.value for a in AuditAction]}, "One kind of change"),
                    _query("since", moment, "Made at or after this time, with a UTC offset (send + as %2B)"),
                    _query("until", moment, "Made before this time, with a UTC offset"),
                ],
                "responses": {
                    "200": _data_response("A page of events", {"$ref": "#/components/schemas/AuditEventList"}),
                    "400": _BODY_ERRORS["400"],
                    **_KEY_ERRORS,
                },
            },
        },
    }


def _audit_schemas() -> dict[str, Any]:
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
                "description": "A secret (authToken, password) was set, replaced or cleared; "
                "before and after are then null",
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

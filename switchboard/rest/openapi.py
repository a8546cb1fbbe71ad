"""The OpenAPI 3.1 document of the REST API, built from the same field table."""

from __future__ import annotations

from functools import cache
from typing import Any

from models import HealthState, Provider, SipMode
from resolvers.pagination import MAX_OFFSET, PAGE_SIZE_MAX
from switchboard.rest import openapi_api_keys, openapi_audit
from switchboard.rest.fields import FIELDS
from switchboard.rest.openapi_common import BODY_ERRORS, ID, PAGINATION, data_response, error_response, wrapped

_PROVIDERS = [p.value for p in Provider]
_SIP_MODES = [m.value for m in SipMode]

_PHONE_NUMBER = {"$ref": "#/components/schemas/PhoneNumber"}
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
_PRECONDITION_FAILED = error_response("If-Match names none of the number's current ETag: it has changed since; nothing was done")


# What a client can do next with a created number's id.
_LINKS = {
    name: {"operationId": operation, "parameters": {"id": "$response.body#/data/id"}}
    for name, operation in (
        ("Read", "getPhoneNumber"),
        ("Update", "updatePhoneNumber"),
        ("Delete", "deletePhoneNumber"),
        ("Verify", "verifyPhoneNumber"),
    )
}
_HEALTH = {"$ref": "#/components/schemas/PhoneNumberHealth"}
_VERIFY_FAILED = (
    "; or `verify` was true and the provider check did not answer ok (error `Verification failed`, one detail "
    "naming `verify` with what was tried and what answered): nothing was saved"
)


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
                            "first request created, creating nothing. twilioAuthToken and sipPassword are compared only "
                            "as given or not: a retry with another secret returns the original number, its secret "
                            "unchanged. Shared with GraphQL's idempotencyKey.",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PhoneNumberCreate"}}},
                    },
                    "responses": {
                        "201": {**data_response("Created", wrapped(_PHONE_NUMBER)), "headers": _ETAG, "links": _LINKS},
                        **BODY_ERRORS,
                        "400": error_response(BODY_ERRORS["400"]["description"] + _VERIFY_FAILED),
                    },
                },
                "get": {
                    "operationId": "listPhoneNumbers",
                    "summary": "List phone numbers, newest first",
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE_MAX, "default": 20}},
                        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}},
                        {"name": "provider", "in": "query", "schema": {"type": "string", "enum": _PROVIDERS}},
                        {"name": "agentId", "in": "query", "schema": {"type": "string", "format": "uuid"}},
                    ],
                    "responses": {
                        "200": data_response("A page of numbers", {"$ref": "#/components/schemas/PhoneNumberList"}),
                        "400": BODY_ERRORS["400"],
                        "401": BODY_ERRORS["401"],
                        "403": BODY_ERRORS["403"],
                        "429": BODY_ERRORS["429"],
                    },
                },
            },
            "/v1/phone-numbers/{id}": {
                "parameters": [ID],
                "get": {
                    "operationId": "getPhoneNumber",
                    "summary": "Read a phone number",
                    "parameters": [_IF_MATCH],
                    "responses": {
                        "200": {**data_response("The number", wrapped(_PHONE_NUMBER)), "headers": _ETAG},
                        "400": error_response("If-Match is not a list of entity tags"),
                        "401": BODY_ERRORS["401"],
                        "403": BODY_ERRORS["403"],
                        "404": error_response("No such number in your organization"),
                        "412": _PRECONDITION_FAILED,
                        "429": BODY_ERRORS["429"],
                    },
                },
                "patch": {
                    "operationId": "updatePhoneNumber",
                    "summary": "Update a phone number",
                    "description": "Same fields as create, all optional. Omitted fields keep their value; null clears "
                    "a nullable one. Keeping the provider and SIP mode changes only the fields given (a secret can be "
                    "rotated alone); another provider or mode needs its required fields and erases the old configuration. "
                    "Send If-Match with the ETag of your last read to apply the change only if nobody has changed the "
                    "number since.",
                    "parameters": [_IF_MATCH],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PhoneNumberUpdate"}}},
                    },
                    "responses": {
                        "200": {**data_response("The updated number", wrapped(_PHONE_NUMBER)), "headers": _ETAG},
                        **BODY_ERRORS,
                        "400": error_response(BODY_ERRORS["400"]["description"] + _VERIFY_FAILED),
                        "404": error_response("No such number in your organization"),
                        "409": error_response(
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
                        "400": error_response("If-Match is not a list of entity tags"),
                        "401": BODY_ERRORS["401"],
                        "403": BODY_ERRORS["403"],
                        "404": error_response("No such number in your organization"),
                        "409": error_response("The number kept changing while the delete was applied (retry)"),
                        "412": _PRECONDITION_FAILED,
                        "429": BODY_ERRORS["429"],
                    },
                },
            },
            "/v1/phone-numbers/{id}/verify": {
                "parameters": [ID],
                "post": {
                    "operationId": "verifyPhoneNumber",
                    "summary": "Check a number's provider configuration now",
                    "description": "Runs the provider check now, within SWITCHBOARD_VERIFY_TIMEOUT (5 s by default), "
                    "and stores the result as the number's `health`. SIP registration mode: REGISTER with digest "
                    "credentials (the check's own binding is removed after); ip_allowlist mode: OPTIONS; Twilio: the "
                    "account's IncomingPhoneNumbers lookup; voximplant and jambonz: unsupported. No body. Charged "
                    "more than other requests: it connects to a host outside. The same as GraphQL's verifyPhoneNumber.",
                    "responses": {
                        "200": data_response("What the check found, now the number's health", wrapped(_HEALTH)),
                        "401": BODY_ERRORS["401"],
                        "403": BODY_ERRORS["403"],
                        "404": error_response("No such number in your organization"),
                        "409": error_response(
                            "The number's provider configuration changed while it was being checked: nothing was "
                            "stored; verify it again"
                        ),
                        "429": BODY_ERRORS["429"],
                    },
                },
            },
            **openapi_api_keys.paths(),
            **openapi_audit.paths(),
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "API key"}},
            "schemas": {
                "PhoneNumberCreate": _request_schema(["number"]),
                "PhoneNumberUpdate": _request_schema([]),
                "PhoneNumber": {
                    "type": "object",
                    "required": ["id", "name", "number", "provider", "sipMode", "agentId", "createdAt", "updatedAt", "health"],
                    "additionalProperties": False,
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "name": {"type": ["string", "null"]},
                        "number": {"type": "string", "description": "E.164"},
                        "provider": {"type": "string", "enum": _PROVIDERS},
                        "sipMode": {"type": ["string", "null"], "enum": [*_SIP_MODES, None]},
                        "agentId": {"type": ["string", "null"], "format": "uuid"},
                        "createdAt": {"type": "string", "format": "date-time"},
                        "updatedAt": {"type": "string", "format": "date-time"},
                        "health": {
                            "anyOf": [_HEALTH, {"type": "null"}],
                            "description": "What the last provider check found: null until the number is first "
                            "checked, and again once its number or provider configuration changes.",
                        },
                    },
                },
                "PhoneNumberHealth": {
                    "type": "object",
                    "required": ["state", "detail", "sipStatusCode", "latencyMs", "checkedAt", "since"],
                    "additionalProperties": False,
                    "properties": {
                        "state": {
                            "type": "string",
                            "enum": [s.value for s in HealthState],
                            "description": "ok: the provider accepted the configuration. auth_failed: it refused the "
                            "credentials. rejected: it answered and refused something else. unreachable: nothing usable "
                            "answered in time, or the target is not allowed. unsupported: voximplant and jambonz offer "
                            "nothing to check.",
                        },
                        "detail": {"type": "string", "description": "What was tried and what answered. Never holds a secret."},
                        "sipStatusCode": {"type": ["integer", "null"], "description": "The final SIP response that decided it."},
                        "latencyMs": {"type": ["integer", "null"], "minimum": 0},
                        "checkedAt": {"type": "string", "format": "date-time", "description": "When the last check finished."},
                        "since": {"type": "string", "format": "date-time", "description": "When `state` last changed."},
                    },
                },
                "PhoneNumberList": {
                    "type": "object",
                    "required": ["data", "pagination"],
                    "properties": {
                        "data": {"type": "array", "items": _PHONE_NUMBER},
                        "pagination": PAGINATION,
                    },
                },
                **openapi_api_keys.schemas(),
                **openapi_audit.schemas(),
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

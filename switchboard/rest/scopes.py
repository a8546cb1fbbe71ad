"""The scope each REST operation needs: that of the GraphQL root field doing the same thing.

So schema/scopes.py stays the one declaration of scopes; tests/api/test_scopes.py
fails when an operation of the OpenAPI document has no line here.
"""

from __future__ import annotations

from models import ApiKeyScope
from schema.scopes import needed_scope

REST_OPERATIONS: dict[str, str] = {
    "listPhoneNumbers": "Query.phoneNumbers",
    "getPhoneNumber": "Query.phoneNumber",
    "createPhoneNumber": "Mutation.createPhoneNumber",
    "updatePhoneNumber": "Mutation.updatePhoneNumber",
    "deletePhoneNumber": "Mutation.deletePhoneNumber",
    "verifyPhoneNumber": "Mutation.verifyPhoneNumber",
    "listApiKeys": "Query.apiKeys",
    "createApiKey": "Mutation.createApiKey",
    "revokeApiKey": "Mutation.revokeApiKey",
    "listAuditEvents": "Query.auditEvents",
}


def rest_scope(operation_id: str) -> ApiKeyScope:
    """The scope an operation needs; the strictest for one nobody declared."""
    return needed_scope(REST_OPERATIONS.get(operation_id, ""))

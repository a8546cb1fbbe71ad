"""The audit log: one row per change, written in the change's own transaction."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.organizations import Organization


class AuditAction(str, Enum):
    PHONE_NUMBER_CREATED = "phone_number_created"
    PHONE_NUMBER_UPDATED = "phone_number_updated"
    PHONE_NUMBER_DELETED = "phone_number_deleted"
    # A provider check changed what is known of the number's provider (its health).
    PHONE_NUMBER_VERIFIED = "phone_number_verified"
    AGENT_CREATED = "agent_created"
    AGENT_UPDATED = "agent_updated"
    AGENT_DELETED = "agent_deleted"
    API_KEY_CREATED = "api_key_created"
    API_KEY_REVOKED = "api_key_revoked"


class AuditTargetType(str, Enum):
    PHONE_NUMBER = "phone_number"
    AGENT = "agent"
    API_KEY = "api_key"


class AuditActorType(str, Enum):
    API_KEY = "api_key"
    COMMAND_LINE = "command_line"


class AuditEvent(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="audit_events", on_delete=fields.CASCADE
    )
    # When the change was made; `at` in the API. Named as the other lists' sort key.
    created_at = fields.DatetimeField()
    action = fields.CharEnumField(AuditAction, max_length=32)
    target_type = fields.CharEnumField(AuditTargetType, max_length=16)
    target_id = fields.UUIDField()
    actor_type = fields.CharEnumField(AuditActorType, max_length=16)
    # The key's id, name and prefix as they were: no foreign key, so the event
    # outlives the key and keeps naming it as it was called then.
    actor_key_id = fields.UUIDField(null=True)
    actor_name = fields.CharField(max_length=100)
    actor_prefix = fields.CharField(max_length=16, null=True)
    request_id = fields.CharField(max_length=128, null=True)
    # [{"field", "before", "after", "secretChanged"}]: never a secret's value or ciphertext.
    changes: fields.JSONField[list[dict[str, Any]]] = fields.JSONField()

    organization_id: uuid.UUID

    class Meta:
        table = "audit_events"
        # One per filter of the list, so each is a scan of one index range in
        # the list's order; the last serves the retention sweep.
        indexes = (
            ("organization_id", "created_at", "id"),
            ("organization_id", "target_id", "created_at", "id"),
            ("organization_id", "actor_key_id", "created_at", "id"),
            ("organization_id", "action", "created_at", "id"),
            ("created_at", "id"),
        )

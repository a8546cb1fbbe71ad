"""Idempotency keys: a retried create returns the number the first try made."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from models.organizations import Organization
from models.phone_numbers import PhoneNumber


class IdempotencyKey(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="idempotency_keys", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=255)
    # A keyed hash of the validated input (secrets included), never the input.
    fingerprint = fields.CharField(max_length=80)
    phone_number: fields.ForeignKeyNullableRelation[PhoneNumber] = fields.ForeignKeyField(
        "models.PhoneNumber", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    organization_id: uuid.UUID
    phone_number_id: uuid.UUID | None

    class Meta:
        table = "idempotency_keys"
        unique_together = (("organization_id", "key"),)

"""Organizations and the API keys that act for them."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model


class Organization(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    name = fields.CharField(max_length=100, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organizations"


class ApiKey(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="api_keys", on_delete=fields.CASCADE
    )
    # SHA-256 of the whole key; the key itself is shown once and never stored.
    key_hash = fields.CharField(max_length=64, unique=True)
    # The first characters of the key, so people can tell their keys apart.
    display_prefix = fields.CharField(max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)

    organization_id: uuid.UUID

    class Meta:
        table = "api_keys"

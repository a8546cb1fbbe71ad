"""Organizations and the API keys that act for them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

from tortoise import fields
from tortoise.models import Model


class Organization(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    name = fields.CharField(max_length=100, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # How many numbers and agents the organization has, kept by triggers on
    # their tables (migration 0007) in the transaction of each insert and
    # delete, however it is made. A create claims its place against the
    # limit with one conditional UPDATE of these (resolvers/owned.py).
    # Never written from here: only filtered updates touch the row.
    phone_number_count = fields.IntField(default=0, db_default=0)
    agent_count = fields.IntField(default=0, db_default=0)

    class Meta:
        table = "organizations"


class ApiKeyScope(str, Enum):
    """What a key may do; each scope includes the ones before it."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class ApiKey(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="api_keys", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    # SHA-256 of the whole key; the key itself is shown once and never stored.
    key_hash = fields.CharField(max_length=64, unique=True)
    # The first characters of the key, so people can tell their keys apart.
    display_prefix = fields.CharField(max_length=16)
    # ApiKeyScope values, e.g. ["read"].
    scopes: fields.JSONField[list[str]] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)
    # Written at most once a minute per key, not on every request.
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    organization_id: uuid.UUID

    class Meta:
        table = "api_keys"
        indexes = (("organization_id", "created_at", "id"),)

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

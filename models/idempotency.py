"""Idempotency keys: a retried create returns the number the first try made."""

from __future__ import annotations

import hashlib
import hmac
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
    # A digest of the validated input, never the input: see `fingerprint`.
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


FINGERPRINT_PREFIX = "sha256:"


def fingerprint(message: str) -> str:
    """A digest that tells one request's input from another's.

    The message holds no secret's value (secrets count only as given or not),
    only what a phone number's row holds in the clear, so a key would guard
    nothing; unkeyed, it also outlives every rotation of the encryption keys.
    """
    return FINGERPRINT_PREFIX + hashlib.sha256(message.encode()).hexdigest()


def fingerprint_matches(stored: str, message: str) -> bool:
    return hmac.compare_digest(stored, fingerprint(message))


def is_legacy_fingerprint(stored: str) -> bool:
    """Written before fingerprints left secrets out; see SecretBox.legacy_fingerprint_matches."""
    return not stored.startswith(FINGERPRINT_PREFIX)

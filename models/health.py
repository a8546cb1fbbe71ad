"""What checks of a number's provider found: its current health and each change of it."""

from __future__ import annotations

import uuid
from enum import Enum

from tortoise import fields
from tortoise.models import Model

from models.organizations import Organization
from models.phone_numbers import PhoneNumber


class HealthState(str, Enum):
    OK = "ok"
    # The provider answered, and refused the stored credentials.
    AUTH_FAILED = "auth_failed"
    # The provider answered, and refused something other than the credentials.
    REJECTED = "rejected"
    # Nothing usable answered: no route, no reply, no handshake, or a target the rules refuse.
    UNREACHABLE = "unreachable"
    # The provider offers nothing to check from outside.
    UNSUPPORTED = "unsupported"


class PhoneNumberHealth(Model):
    """One row per number once monitoring or a check has seen it.

    Kept apart from `phone_numbers` so that a check never moves the number's
    `version` or `updatedAt` (a client's If-Match stays valid while monitors
    write). `state` is null until the first check has finished; `failures`
    and `successes` count the consecutive results against it (hysteresis);
    `next_check_at` and `lease_until` let one monitor among many claim a
    number per interval.
    """

    phone_number: fields.OneToOneRelation[PhoneNumber] = fields.OneToOneField(
        "models.PhoneNumber", related_name="health", on_delete=fields.CASCADE, primary_key=True
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="phone_number_health", on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(HealthState, max_length=16, null=True)
    detail = fields.TextField(null=True)
    sip_status_code = fields.IntField(null=True)
    latency_ms = fields.IntField(null=True)
    checked_at = fields.DatetimeField(null=True)
    since = fields.DatetimeField(null=True)
    # Consecutive results since the last change of `state`: failures while OK, successes while not.
    failures = fields.IntField(default=0)
    successes = fields.IntField(default=0)
    next_check_at = fields.DatetimeField(null=True)
    lease_until = fields.DatetimeField(null=True)

    phone_number_id: uuid.UUID
    organization_id: uuid.UUID

    class Meta:
        table = "phone_number_health"
        indexes = (("next_check_at",),)


class PhoneNumberHealthEvent(Model):
    """A change of a number's health state, recorded once however many monitors saw it."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="phone_number_health_events", on_delete=fields.CASCADE
    )
    phone_number: fields.ForeignKeyRelation[PhoneNumber] = fields.ForeignKeyField(
        "models.PhoneNumber", related_name="health_events", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField()
    from_state = fields.CharEnumField(HealthState, max_length=16, null=True)
    to_state = fields.CharEnumField(HealthState, max_length=16)
    detail = fields.TextField()
    sip_status_code = fields.IntField(null=True)
    latency_ms = fields.IntField(null=True)

    organization_id: uuid.UUID
    phone_number_id: uuid.UUID

    class Meta:
        table = "phone_number_health_events"
        indexes = (("phone_number_id", "at", "id"), ("organization_id", "at", "id"))

"""Agents and the phone numbers they answer and call from."""

from __future__ import annotations

import uuid
from enum import Enum

from tortoise import fields
from tortoise.models import Model

from models.organizations import Organization


class Provider(str, Enum):
    TWILIO = "twilio"
    SIP = "sip"
    VOXIMPLANT = "voximplant"
    JAMBONZ = "jambonz"


class SipMode(str, Enum):
    REGISTRATION = "registration"
    IP_ALLOWLIST = "ip_allowlist"


class SipTransport(str, Enum):
    UDP = "udp"
    TCP = "tcp"
    TLS = "tls"


class Agent(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="agents", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    organization_id: uuid.UUID

    class Meta:
        table = "agents"
        indexes = (("organization_id", "created_at", "id"),)


class PhoneNumber(Model):
    """One number and its provider configuration.

    Only the columns of the row's provider (and SIP mode) are set; the others
    stay NULL, so switching provider erases the old configuration with it.
    Secret columns hold `models.secrets.SecretBox` ciphertexts.
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="phone_numbers", on_delete=fields.CASCADE
    )
    agent: fields.ForeignKeyNullableRelation[Agent] = fields.ForeignKeyField(
        "models.Agent", related_name="phone_numbers", null=True, on_delete=fields.SET_NULL
    )
    number = fields.CharField(max_length=16)
    name = fields.CharField(max_length=100, null=True)
    metadata = fields.JSONField(null=True)
    provider = fields.CharEnumField(Provider, max_length=16)
    sip_mode = fields.CharEnumField(SipMode, max_length=16, null=True)

    twilio_account_sid = fields.CharField(max_length=34, null=True)
    twilio_auth_token_encrypted = fields.TextField(null=True)

    sip_username = fields.CharField(max_length=60, null=True)
    sip_password_encrypted = fields.TextField(null=True)
    sip_proxy = fields.CharField(max_length=100, null=True)
    sip_outbound_proxy = fields.CharField(max_length=100, null=True)
    sip_auth_user = fields.CharField(max_length=60, null=True)
    sip_ip = fields.CharField(max_length=255, null=True)
    sip_port = fields.IntField(null=True)
    # Registration transport in registration mode, protocol in allowlist mode.
    sip_transport = fields.CharEnumField(SipTransport, max_length=8, null=True)

    voximplant_application_id = fields.CharField(max_length=64, null=True)
    voximplant_rule_id = fields.CharField(max_length=64, null=True)
    jambonz_application_sid = fields.CharField(max_length=64, null=True)
    jambonz_carrier_sid = fields.CharField(max_length=64, null=True)

    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # 1 when created, one more with every change: a write names the version it
    # read and applies only if the row is still at it. The database default
    # gives rows that predate the column, or that an older server inserts, 1.
    version = fields.IntField(default=1, db_default=1)

    organization_id: uuid.UUID
    agent_id: uuid.UUID | None

    class Meta:
        table = "phone_numbers"
        unique_together = (("organization_id", "number"),)
        indexes = (("organization_id", "created_at", "id"), ("agent_id", "created_at", "id"))

"""Tortoise models; `models.migrations` holds the committed migrations."""

from models.audit import AuditAction, AuditActorType, AuditEvent, AuditTargetType
from models.health import HealthState, PhoneNumberHealth, PhoneNumberHealthEvent
from models.idempotency import IdempotencyKey
from models.organizations import ApiKey, ApiKeyScope, Organization
from models.phone_numbers import (
    Agent,
    InconsistentRow,
    JambonzColumns,
    PhoneNumber,
    Provider,
    ProviderColumns,
    SipIpAllowlistColumns,
    SipMode,
    SipRegistrationColumns,
    SipTransport,
    TwilioColumns,
    VoximplantColumns,
)

__all__ = [
    "Agent",
    "ApiKey",
    "ApiKeyScope",
    "AuditAction",
    "AuditActorType",
    "AuditEvent",
    "AuditTargetType",
    "HealthState",
    "IdempotencyKey",
    "InconsistentRow",
    "JambonzColumns",
    "Organization",
    "PhoneNumber",
    "PhoneNumberHealth",
    "PhoneNumberHealthEvent",
    "Provider",
    "ProviderColumns",
    "SipIpAllowlistColumns",
    "SipMode",
    "SipRegistrationColumns",
    "SipTransport",
    "TwilioColumns",
    "VoximplantColumns",
]

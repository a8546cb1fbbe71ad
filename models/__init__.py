"""Tortoise models; `models.migrations` holds the committed migrations."""

from models.audit import AuditAction, AuditActorType, AuditEvent, AuditTargetType
from models.health import HealthState, PhoneNumberHealth, PhoneNumberHealthEvent
from models.idempotency import IdempotencyKey
from models.organizations import ApiKey, ApiKeyScope, Organization
from models.phone_numbers import Agent, PhoneNumber, Provider, SipMode, SipTransport

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
    "Organization",
    "PhoneNumber",
    "PhoneNumberHealth",
    "PhoneNumberHealthEvent",
    "Provider",
    "SipMode",
    "SipTransport",
]

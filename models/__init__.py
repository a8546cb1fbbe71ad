"""Tortoise models; `models.migrations` holds the committed migrations."""

from models.audit import AuditAction, AuditActorType, AuditEvent, AuditTargetType
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
    "IdempotencyKey",
    "Organization",
    "PhoneNumber",
    "Provider",
    "SipMode",
    "SipTransport",
]

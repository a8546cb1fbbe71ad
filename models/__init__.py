"""Tortoise models; `models.migrations` holds the committed migrations."""

from models.idempotency import IdempotencyKey
from models.organizations import ApiKey, ApiKeyScope, Organization
from models.phone_numbers import Agent, PhoneNumber, Provider, SipMode, SipTransport

__all__ = ["Agent", "ApiKey", "ApiKeyScope", "IdempotencyKey", "Organization", "PhoneNumber", "Provider", "SipMode", "SipTransport"]

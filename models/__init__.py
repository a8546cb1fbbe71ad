"""Tortoise models; `models.migrations` holds the committed migrations."""

from models.idempotency import IdempotencyKey
from models.organizations import ApiKey, Organization
from models.phone_numbers import Agent, PhoneNumber, Provider, SipMode, SipTransport

__all__ = ["Agent", "ApiKey", "IdempotencyKey", "Organization", "PhoneNumber", "Provider", "SipMode", "SipTransport"]

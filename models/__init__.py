"""Tortoise models; `models.migrations` holds the committed migrations."""

from models.organizations import ApiKey, Organization
from models.phone_numbers import Agent, PhoneNumber, Provider, SipMode, SipTransport

__all__ = ["Agent", "ApiKey", "Organization", "PhoneNumber", "Provider", "SipMode", "SipTransport"]

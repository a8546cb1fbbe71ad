"""Agents and the phone numbers they answer and call from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

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


T = TypeVar("T")


class InconsistentRow(ValueError):
    """A row whose provider columns contradict its provider (a NULL where the provider needs a value)."""


# One configuration per provider (and SIP mode) as its columns hold it, with
# NULL only where the provider allows it. Secrets are told only as set or not.


@dataclass(frozen=True)
class TwilioColumns:
    account_sid: str
    auth_token_set: bool


@dataclass(frozen=True)
class SipRegistrationColumns:
    username: str
    proxy: str
    outbound_proxy: str | None
    auth_user: str | None
    port: int
    transport: SipTransport
    password_set: bool


@dataclass(frozen=True)
class SipIpAllowlistColumns:
    ip: str
    port: int
    protocol: SipTransport


@dataclass(frozen=True)
class VoximplantColumns:
    application_id: str | None
    rule_id: str | None


@dataclass(frozen=True)
class JambonzColumns:
    application_sid: str | None
    carrier_sid: str | None


ProviderColumns = TwilioColumns | SipRegistrationColumns | SipIpAllowlistColumns | VoximplantColumns | JambonzColumns


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
    # A JSON object as the caller sent it (resolvers.rules.metadata checks its shape).
    metadata: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
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

    # --- the configuration of the row's provider, typed ----------------------

    def provider_columns(self) -> ProviderColumns:
        """The configuration of the row's provider (and SIP mode); InconsistentRow when a column it needs is NULL."""
        match (self.provider, self.sip_mode):
            case (Provider.TWILIO, _):
                return self.twilio()
            case (Provider.SIP, SipMode.REGISTRATION):
                return self.sip_registration()
            case (Provider.SIP, SipMode.IP_ALLOWLIST):
                return self.sip_ip_allowlist()
            case (Provider.VOXIMPLANT, _):
                return self.voximplant()
            case (Provider.JAMBONZ, _):
                return self.jambonz()
        raise InconsistentRow(f"phone number {self.id} has an unknown provider configuration")

    def twilio(self) -> TwilioColumns:
        self._expect(Provider.TWILIO)
        return TwilioColumns(
            account_sid=self._needed("twilio_account_sid", self.twilio_account_sid),
            auth_token_set=self.twilio_auth_token_encrypted is not None,
        )

    def sip_registration(self) -> SipRegistrationColumns:
        self._expect(Provider.SIP, SipMode.REGISTRATION)
        return SipRegistrationColumns(
            username=self._needed("sip_username", self.sip_username),
            proxy=self._needed("sip_proxy", self.sip_proxy),
            outbound_proxy=self.sip_outbound_proxy,
            auth_user=self.sip_auth_user,
            port=self._needed("sip_port", self.sip_port),
            transport=self._needed("sip_transport", self.sip_transport),
            password_set=self.sip_password_encrypted is not None,
        )

    def sip_ip_allowlist(self) -> SipIpAllowlistColumns:
        self._expect(Provider.SIP, SipMode.IP_ALLOWLIST)
        return SipIpAllowlistColumns(
            ip=self._needed("sip_ip", self.sip_ip),
            port=self._needed("sip_port", self.sip_port),
            protocol=self._needed("sip_transport", self.sip_transport),
        )

    def voximplant(self) -> VoximplantColumns:
        self._expect(Provider.VOXIMPLANT)
        return VoximplantColumns(application_id=self.voximplant_application_id, rule_id=self.voximplant_rule_id)

    def jambonz(self) -> JambonzColumns:
        self._expect(Provider.JAMBONZ)
        return JambonzColumns(application_sid=self.jambonz_application_sid, carrier_sid=self.jambonz_carrier_sid)

    def _expect(self, provider: Provider, sip_mode: SipMode | None = None) -> None:
        if self.provider != provider or (sip_mode is not None and self.sip_mode != sip_mode):
            mode = f" in {SipMode(self.sip_mode).value} mode" if self.sip_mode else ""
            raise InconsistentRow(f"phone number {self.id} is a {Provider(self.provider).value} number{mode}")

    def _needed(self, column: str, value: T | None) -> T:
        if value is None:
            raise InconsistentRow(f"phone number {self.id} ({Provider(self.provider).value}) has no {column}")
        return value

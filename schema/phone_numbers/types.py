"""The PhoneNumber type, its enums and its provider configurations as read back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from models import JambonzColumns, SipIpAllowlistColumns, SipRegistrationColumns, TwilioColumns, VoximplantColumns
from models import PhoneNumber as PhoneNumberRow
from models import Provider as ProviderValue
from models import SipMode as SipModeValue
from models import SipTransport as SipTransportValue
from resolvers import phone_numbers
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.agents import Agent
from schema.context import GraphQLContext
from schema.health import PhoneNumberHealth, PhoneNumberHealthEventConnection, events_of, health_of
from schema.node import Node

Provider = Annotated[
    ProviderValue, strawberry.enum(name="Provider", description="The telephony provider behind a number.")
]
SipMode = Annotated[
    SipModeValue,
    strawberry.enum(
        name="SipMode",
        description="REGISTRATION: Switchboard registers to your PBX with a username and password. "
        "IP_ALLOWLIST: your PBX's IP address is allowlisted.",
    ),
]
SipTransport = Annotated[SipTransportValue, strawberry.enum(name="SipTransport", description="SIP transport protocol.")]

Info = strawberry.Info[GraphQLContext, None]

# --- provider configurations as read back (secrets are never returned) -------


@strawberry.type
class TwilioConfig:
    account_sid: str
    auth_token_set: bool = strawberry.field(
        description="Whether an auth token is stored. The token itself is never returned."
    )


@strawberry.type
class SipRegistrationConfig:
    username: str
    proxy: str = strawberry.field(description="SIP registrar host Switchboard registers to.")
    outbound_proxy: str | None
    auth_user: str | None
    port: int
    register_transport: SipTransport
    password_set: bool = strawberry.field(
        description="Whether a password is stored. The password itself is never returned."
    )


@strawberry.type
class SipIpAllowlistConfig:
    ip: str
    port: int
    protocol: SipTransport


@strawberry.type
class VoximplantConfig:
    application_id: str | None
    rule_id: str | None


@strawberry.type
class JambonzConfig:
    application_sid: str | None
    carrier_sid: str | None


ProviderConfig = Annotated[
    TwilioConfig | SipRegistrationConfig | SipIpAllowlistConfig | VoximplantConfig | JambonzConfig,
    strawberry.union("ProviderConfig"),
]


def _config(row: PhoneNumberRow) -> ProviderConfig:
    match row.provider_columns():
        case TwilioColumns() as twilio:
            return TwilioConfig(account_sid=twilio.account_sid, auth_token_set=twilio.auth_token_set)
        case SipRegistrationColumns() as sip:
            return SipRegistrationConfig(
                username=sip.username,
                proxy=sip.proxy,
                outbound_proxy=sip.outbound_proxy,
                auth_user=sip.auth_user,
                port=sip.port,
                register_transport=sip.transport,
                password_set=sip.password_set,
            )
        case SipIpAllowlistColumns() as sip:
            return SipIpAllowlistConfig(ip=sip.ip, port=sip.port, protocol=sip.protocol)
        case VoximplantColumns() as voximplant:
            return VoximplantConfig(application_id=voximplant.application_id, rule_id=voximplant.rule_id)
        case JambonzColumns() as jambonz:
            return JambonzConfig(application_sid=jambonz.application_sid, carrier_sid=jambonz.carrier_sid)


@strawberry.type(name="PhoneNumber", description="A phone number an agent answers and calls from.")
class PhoneNumber(Node):
    name: str | None
    number: str = strawberry.field(description="E.164, e.g. +14155550123.")
    provider: Provider
    sip_mode: SipMode | None = strawberry.field(description="Set only when provider is SIP.")
    agent_id: strawberry.ID | None
    metadata: JSON | None
    created_at: datetime
    updated_at: datetime
    version: int = strawberry.field(
        description="1 when created, one more with every change. Send it back as `expectedVersion` to change "
        "the number only if nobody else has since."
    )
    row: strawberry.Private[PhoneNumberRow]
    # A dry run's answer: the health the write would leave, instead of the stored one.
    preview: strawberry.Private[phone_numbers.HealthPreview | None] = None

    @strawberry.field
    def config(self) -> ProviderConfig:
        return _config(self.row)

    @strawberry.field(  # type: ignore[untyped-decorator]  # Strawberry types field(...) without a resolver as Any
        description="What the last check of the provider configuration found: null until the number is first checked, "
        "and again once its number or provider configuration changes (until the next check)."
    )
    async def health(self, info: Info) -> PhoneNumberHealth | None:
        if self.preview is not None:
            return PhoneNumberHealth.from_row(self.preview.health)
        return await health_of(info, self.row.id)

    @strawberry.field(description="Each change of `health.state`, newest first. `first` is 1 to 100; null is 20.")  # type: ignore[untyped-decorator]  # Strawberry types field(...) without a resolver as Any
    async def health_events(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> PhoneNumberHealthEventConnection:
        return await events_of(info, self.row.id, DEFAULT_PAGE_SIZE if first is None else first, after)

    @strawberry.field
    async def agent(self, info: Info) -> Agent | None:
        if self.row.agent_id is None:
            return None
        row = await info.context.loaders.agent.load(self.row.agent_id)
        return Agent.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: PhoneNumberRow, preview: phone_numbers.HealthPreview | None = None) -> PhoneNumber:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            number=row.number,
            provider=row.provider,
            sip_mode=row.sip_mode,
            agent_id=strawberry.ID(str(row.agent_id)) if row.agent_id else None,
            metadata=None if row.metadata is None else JSON(row.metadata),
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            row=row,
            preview=preview,
        )


def _phone_number(row: PhoneNumberRow | None, preview: phone_numbers.HealthPreview | None = None) -> PhoneNumber | None:
    return PhoneNumber.from_row(row, preview) if row else None

"""PhoneNumber type, its provider configurations, inputs and payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from models import PhoneNumber as PhoneNumberRow
from models import Provider as ProviderValue
from models import SipMode as SipModeValue
from models import SipTransport as SipTransportValue
from resolvers import agents, phone_numbers
from resolvers.context import RequestContext
from schema.agents import Agent
from schema.errors import UserError, user_errors

Provider = strawberry.enum(ProviderValue, name="Provider", description="The telephony provider behind a number.")
SipMode = strawberry.enum(
    SipModeValue,
    name="SipMode",
    description="REGISTRATION: Switchboard registers to your PBX with a username and password. "
    "IP_ALLOWLIST: your PBX's IP address is allowlisted.",
)
SipTransport = strawberry.enum(SipTransportValue, name="SipTransport", description="SIP transport protocol.")

Info = strawberry.Info[RequestContext, None]


def _unset_to_none(value: Any) -> Any:
    return None if value is strawberry.UNSET else value


# --- provider configurations as read back (secrets are never returned) -------


@strawberry.type
class TwilioConfig:
    account_sid: str
    auth_token_set: bool = strawberry.field(description="Whether an auth token is stored. The token itself is never returned.")


@strawberry.type
class SipRegistrationConfig:
    username: str
    proxy: str = strawberry.field(description="SIP registrar host Switchboard registers to.")
    outbound_proxy: str | None
    auth_user: str | None
    port: int
    register_transport: SipTransport
    password_set: bool = strawberry.field(description="Whether a password is stored. The password itself is never returned.")


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


def _config(row: PhoneNumberRow) -> Any:
    match (row.provider, row.sip_mode):
        case (ProviderValue.TWILIO, _):
            return TwilioConfig(
                account_sid=row.twilio_account_sid, auth_token_set=row.twilio_auth_token_encrypted is not None
            )
        case (ProviderValue.SIP, SipModeValue.REGISTRATION):
            return SipRegistrationConfig(
                username=row.sip_username,
                proxy=row.sip_proxy,
                outbound_proxy=row.sip_outbound_proxy,
                auth_user=row.sip_auth_user,
                port=row.sip_port,
                register_transport=row.sip_transport,
                password_set=row.sip_password_encrypted is not None,
            )
        case (ProviderValue.SIP, SipModeValue.IP_ALLOWLIST):
            return SipIpAllowlistConfig(ip=row.sip_ip, port=row.sip_port, protocol=row.sip_transport)
        case (ProviderValue.VOXIMPLANT, _):
            return VoximplantConfig(application_id=row.voximplant_application_id, rule_id=row.voximplant_rule_id)
        case (ProviderValue.JAMBONZ, _):
            return JambonzConfig(application_sid=row.jambonz_application_sid, carrier_sid=row.jambonz_carrier_sid)
    raise ValueError(f"phone number {row.id} has an unknown provider configuration")


@strawberry.type(name="PhoneNumber", description="A phone number an agent answers and calls from.")
class PhoneNumber:
    id: strawberry.ID
    name: str | None
    number: str = strawberry.field(description="E.164, e.g. +14155550123.")
    provider: Provider
    sip_mode: SipMode | None = strawberry.field(description="Set only when provider is SIP.")
    agent_id: strawberry.ID | None
    metadata: JSON | None
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[PhoneNumberRow]

    @strawberry.field
    def config(self) -> ProviderConfig:
        return _config(self.row)

    @strawberry.field
    async def agent(self, info: Info) -> Agent | None:
        if self.agent_id is None:
            return None
        row = await agents.get_agent(info.context, self.agent_id)
        return Agent.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: PhoneNumberRow) -> PhoneNumber:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            number=row.number,
            provider=row.provider,
            sip_mode=row.sip_mode,
            agent_id=strawberry.ID(str(row.agent_id)) if row.agent_id else None,
            metadata=row.metadata,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
        )


# --- inputs -------------------------------------------------------------------


@strawberry.input(description="A Twilio account. Both fields are required.")
class TwilioInput:
    account_sid: str = strawberry.field(description="'AC' followed by 32 hexadecimal digits.")
    auth_token: str = strawberry.field(description="At most 128 characters. Stored encrypted, never returned.")

    def to_domain(self) -> phone_numbers.TwilioConfigInput:
        return phone_numbers.TwilioConfigInput(account_sid=self.account_sid, auth_token=self.auth_token)


@strawberry.input(description="Registration mode: Switchboard registers TO your PBX with a username and password.")
class SipRegistrationInput:
    username: str = strawberry.field(description="At most 60 characters.")
    password: str = strawberry.field(description="At most 128 characters. Stored encrypted, never returned.")
    proxy: str = strawberry.field(
        description="SIP registrar host (e.g. 'pbx.example.com'), without 'sip:'. At most 100 characters. "
        "This is the host Switchboard registers TO."
    )
    outbound_proxy: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Optional SIP outbound proxy host, used when SIP traffic must route through a proxy "
        "instead of directly to the registrar. At most 100 characters.",
    )
    auth_user: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Optional SIP authentication username, if different from username. At most 60 characters.",
    )
    port: int | None = strawberry.field(default=5060, description="1 to 65535.")
    register_transport: SipTransport | None = strawberry.field(
        default=SipTransportValue.UDP, description="SIP registration transport protocol."
    )

    def to_domain(self) -> phone_numbers.SipRegistrationConfigInput:
        return phone_numbers.SipRegistrationConfigInput(
            username=self.username,
            password=self.password,
            proxy=self.proxy,
            outbound_proxy=_unset_to_none(self.outbound_proxy),
            auth_user=_unset_to_none(self.auth_user),
            port=phone_numbers.DEFAULT_SIP_PORT if self.port is None else self.port,
            register_transport=self.register_transport or SipTransportValue.UDP,
        )


@strawberry.input(description="IP allowlist mode: your PBX/SBC's IP address is allowlisted.")
class SipIpAllowlistInput:
    ip: str = strawberry.field(description="IPv4 or IPv6 address of your PBX/SBC. At most 255 characters.")
    port: int | None = strawberry.field(default=5060, description="1 to 65535.")
    protocol: SipTransport | None = strawberry.field(default=SipTransportValue.UDP, description="SIP transport protocol.")

    def to_domain(self) -> phone_numbers.SipIpAllowlistConfigInput:
        return phone_numbers.SipIpAllowlistConfigInput(
            ip=self.ip,
            port=phone_numbers.DEFAULT_SIP_PORT if self.port is None else self.port,
            protocol=self.protocol or SipTransportValue.UDP,
        )


@strawberry.input(one_of=True, description="A SIP trunk, in exactly one mode.")
class SipInput:
    registration: strawberry.Maybe[SipRegistrationInput]
    ip_allowlist: strawberry.Maybe[SipIpAllowlistInput]

    def to_domain(self) -> phone_numbers.ProviderConfigInput:
        chosen = self.registration or self.ip_allowlist
        assert chosen is not None  # @oneOf guarantees exactly one
        return chosen.value.to_domain()


@strawberry.input(description="Voximplant routing references; all optional, so {} selects Voximplant.")
class VoximplantInput:
    application_id: str | None = strawberry.field(default=strawberry.UNSET, description="At most 64 characters.")
    rule_id: str | None = strawberry.field(default=strawberry.UNSET, description="At most 64 characters.")

    def to_domain(self) -> phone_numbers.VoximplantConfigInput:
        return phone_numbers.VoximplantConfigInput(
            application_id=_unset_to_none(self.application_id), rule_id=_unset_to_none(self.rule_id)
        )


@strawberry.input(description="jambonz routing references (UUIDs); all optional, so {} selects jambonz.")
class JambonzInput:
    application_sid: str | None = strawberry.field(default=strawberry.UNSET)
    carrier_sid: str | None = strawberry.field(default=strawberry.UNSET)

    def to_domain(self) -> phone_numbers.JambonzConfigInput:
        return phone_numbers.JambonzConfigInput(
            application_sid=_unset_to_none(self.application_sid), carrier_sid=_unset_to_none(self.carrier_sid)
        )


@strawberry.input(one_of=True, description="The provider behind the number: exactly one.")
class ProviderInput:
    twilio: strawberry.Maybe[TwilioInput]
    sip: strawberry.Maybe[SipInput]
    voximplant: strawberry.Maybe[VoximplantInput]
    jambonz: strawberry.Maybe[JambonzInput]

    def to_domain(self) -> phone_numbers.ProviderConfigInput:
        chosen = self.twilio or self.sip or self.voximplant or self.jambonz
        assert chosen is not None  # @oneOf guarantees exactly one
        return chosen.value.to_domain()


@strawberry.input
class CreatePhoneNumberInput:
    number: str = strawberry.field(
        description="International form: + or 00, then the country code; spaces, dashes, dots and brackets "
        "are allowed. Stored and returned as E.164."
    )
    name: str | None = strawberry.field(default=strawberry.UNSET, description="At most 100 characters, trimmed.")
    agent_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="An agent of your organization."
    )
    metadata: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="A JSON object: at most 50 keys of at most 40 characters, string values of at most "
        "500 characters, 8 KiB in all.",
    )
    provider: ProviderInput

    def to_domain(self) -> phone_numbers.CreatePhoneNumberInput:
        return phone_numbers.CreatePhoneNumberInput(
            number=self.number,
            name=_unset_to_none(self.name),
            agent_id=_unset_to_none(self.agent_id),
            metadata=_unset_to_none(self.metadata),
            provider=self.provider.to_domain(),
        )


@strawberry.type
class CreatePhoneNumberPayload:
    phone_number: PhoneNumber | None
    user_errors: list[UserError]


# --- fields -------------------------------------------------------------------


async def create_phone_number(info: Info, input: CreatePhoneNumberInput) -> CreatePhoneNumberPayload:
    result = await phone_numbers.create_phone_number(info.context, input.to_domain())
    return CreatePhoneNumberPayload(
        phone_number=PhoneNumber.from_row(result.phone_number) if result.phone_number else None,
        user_errors=user_errors(result.errors),
    )


async def phone_number(info: Info, id: strawberry.ID) -> PhoneNumber | None:
    row = await phone_numbers.get_phone_number(info.context, id)
    return PhoneNumber.from_row(row) if row else None

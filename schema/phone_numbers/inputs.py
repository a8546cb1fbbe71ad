"""The @oneOf provider inputs of create and update, and the helpers that turn Strawberry's inputs into domain ones."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

import strawberry
from strawberry.types.unset import UnsetType

from resolvers import providers
from resolvers.provider_fields import ProviderSpec
from resolvers.rules import OMITTED, OrOmitted
from schema.phone_numbers.types import SipTransport

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Given(Protocol[T_co]):
    """What `strawberry.Maybe` holds when a field was sent (`Some`), read-only so that it is covariant."""

    @property
    def value(self) -> T_co: ...


class ProviderChoice(Protocol):
    """A member of a @oneOf provider input."""

    def to_domain(self) -> providers.ProviderConfigInput: ...


def maybe(value: Given[T] | None) -> OrOmitted[T]:
    """A `strawberry.Maybe` field: absent is OMITTED, null is None."""
    return OMITTED if value is None else value.value


def the_one(*members: Given[ProviderChoice] | None) -> providers.ProviderConfigInput:
    """The domain input of the member a @oneOf input was given (the schema guarantees exactly one)."""
    (chosen,) = (member for member in members if member is not None)
    return chosen.value.to_domain()


def optional(value: T | UnsetType) -> OrOmitted[T]:
    """A plain optional field (default UNSET): absent is OMITTED, null is None."""
    return OMITTED if isinstance(value, UnsetType) else value


# Descriptions and defaults of provider fields come from their specs (resolvers/providers.py).


def _create_field(spec: ProviderSpec, attr: str) -> Any:
    """A create input's field: required fields have no default, optional ones are UNSET or the spec's default."""
    f = providers.field_of(spec, attr)
    if f.required:
        return strawberry.field(description=f.graphql_description())
    return strawberry.field(
        default=strawberry.UNSET if f.default is None else f.default, description=f.graphql_description()
    )


def _update_field(spec: ProviderSpec, attr: str) -> Any:
    return strawberry.field(description=providers.field_of(spec, attr).graphql_update_description())


_TWILIO, _REGISTRATION, _ALLOWLIST = providers.TWILIO, providers.SIP_REGISTRATION, providers.SIP_IP_ALLOWLIST


@strawberry.input(description="A Twilio account. Both fields are required.")
class TwilioInput:
    account_sid: str = _create_field(_TWILIO, "account_sid")
    auth_token: str = _create_field(_TWILIO, "auth_token")

    def to_domain(self) -> providers.TwilioConfigInput:
        return providers.TwilioConfigInput(account_sid=self.account_sid, auth_token=self.auth_token)


@strawberry.input(description="Registration mode: Switchboard registers TO your PBX with a username and password.")
class SipRegistrationInput:
    username: str = _create_field(_REGISTRATION, "username")
    password: str = _create_field(_REGISTRATION, "password")
    proxy: str = _create_field(_REGISTRATION, "proxy")
    outbound_proxy: str | None = _create_field(_REGISTRATION, "outbound_proxy")
    auth_user: str | None = _create_field(_REGISTRATION, "auth_user")
    port: int | None = _create_field(_REGISTRATION, "port")
    register_transport: SipTransport | None = _create_field(_REGISTRATION, "register_transport")

    def to_domain(self) -> providers.SipRegistrationConfigInput:
        return providers.SipRegistrationConfigInput(
            username=self.username,
            password=self.password,
            proxy=self.proxy,
            outbound_proxy=optional(self.outbound_proxy),
            auth_user=optional(self.auth_user),
            port=self.port,
            register_transport=self.register_transport,
        )


@strawberry.input(description="IP allowlist mode: your PBX/SBC's IP address is allowlisted.")
class SipIpAllowlistInput:
    ip: str = _create_field(_ALLOWLIST, "ip")
    port: int | None = _create_field(_ALLOWLIST, "port")
    protocol: SipTransport | None = _create_field(_ALLOWLIST, "protocol")

    def to_domain(self) -> providers.SipIpAllowlistConfigInput:
        return providers.SipIpAllowlistConfigInput(ip=self.ip, port=self.port, protocol=self.protocol)


@strawberry.input(one_of=True, description="A SIP trunk, in exactly one mode.")
class SipInput:
    registration: strawberry.Maybe[SipRegistrationInput]
    ip_allowlist: strawberry.Maybe[SipIpAllowlistInput]

    def to_domain(self) -> providers.ProviderConfigInput:
        return the_one(self.registration, self.ip_allowlist)


@strawberry.input(description="Voximplant routing references; all optional, so {} selects Voximplant. Null clears one.")
class VoximplantInput:
    application_id: str | None = _create_field(providers.VOXIMPLANT, "application_id")
    rule_id: str | None = _create_field(providers.VOXIMPLANT, "rule_id")

    def to_domain(self) -> providers.VoximplantConfigInput:
        return providers.VoximplantConfigInput(
            application_id=optional(self.application_id), rule_id=optional(self.rule_id)
        )


@strawberry.input(
    description="jambonz routing references (UUIDs); all optional, so {} selects jambonz. Null clears one."
)
class JambonzInput:
    application_sid: str | None = _create_field(providers.JAMBONZ, "application_sid")
    carrier_sid: str | None = _create_field(providers.JAMBONZ, "carrier_sid")

    def to_domain(self) -> providers.JambonzConfigInput:
        return providers.JambonzConfigInput(
            application_sid=optional(self.application_sid), carrier_sid=optional(self.carrier_sid)
        )


@strawberry.input(one_of=True, description="The provider behind the number: exactly one.")
class ProviderInput:
    twilio: strawberry.Maybe[TwilioInput]
    sip: strawberry.Maybe[SipInput]
    voximplant: strawberry.Maybe[VoximplantInput]
    jambonz: strawberry.Maybe[JambonzInput]

    def to_domain(self) -> providers.ProviderConfigInput:
        return the_one(self.twilio, self.sip, self.voximplant, self.jambonz)


# Update inputs: every field optional. Keeping the provider and SIP mode
# changes only the fields given; another provider or mode needs the same
# required fields as create, and erases the old configuration.


@strawberry.input(description="Omitted fields keep their value; one secret can be rotated alone.")
class TwilioUpdateInput:
    account_sid: strawberry.Maybe[str] = _update_field(_TWILIO, "account_sid")
    auth_token: strawberry.Maybe[str] = _update_field(_TWILIO, "auth_token")

    def to_domain(self) -> providers.TwilioConfigInput:
        return providers.TwilioConfigInput(account_sid=maybe(self.account_sid), auth_token=maybe(self.auth_token))


@strawberry.input(description="Omitted fields keep their value; null clears outboundProxy and authUser.")
class SipRegistrationUpdateInput:
    username: strawberry.Maybe[str] = _update_field(_REGISTRATION, "username")
    password: strawberry.Maybe[str] = _update_field(_REGISTRATION, "password")
    proxy: strawberry.Maybe[str] = _update_field(_REGISTRATION, "proxy")
    outbound_proxy: strawberry.Maybe[str | None] = _update_field(_REGISTRATION, "outbound_proxy")
    auth_user: strawberry.Maybe[str | None] = _update_field(_REGISTRATION, "auth_user")
    port: strawberry.Maybe[int | None] = _update_field(_REGISTRATION, "port")
    register_transport: strawberry.Maybe[SipTransport | None] = _update_field(_REGISTRATION, "register_transport")

    def to_domain(self) -> providers.SipRegistrationConfigInput:
        return providers.SipRegistrationConfigInput(
            username=maybe(self.username),
            password=maybe(self.password),
            proxy=maybe(self.proxy),
            outbound_proxy=maybe(self.outbound_proxy),
            auth_user=maybe(self.auth_user),
            port=maybe(self.port),
            register_transport=maybe(self.register_transport),
        )


@strawberry.input(description="Omitted fields keep their value.")
class SipIpAllowlistUpdateInput:
    ip: strawberry.Maybe[str] = _update_field(_ALLOWLIST, "ip")
    port: strawberry.Maybe[int | None] = _update_field(_ALLOWLIST, "port")
    protocol: strawberry.Maybe[SipTransport | None] = _update_field(_ALLOWLIST, "protocol")

    def to_domain(self) -> providers.SipIpAllowlistConfigInput:
        return providers.SipIpAllowlistConfigInput(
            ip=maybe(self.ip), port=maybe(self.port), protocol=maybe(self.protocol)
        )


@strawberry.input(one_of=True)
class SipUpdateInput:
    registration: strawberry.Maybe[SipRegistrationUpdateInput]
    ip_allowlist: strawberry.Maybe[SipIpAllowlistUpdateInput]

    def to_domain(self) -> providers.ProviderConfigInput:
        return the_one(self.registration, self.ip_allowlist)


@strawberry.input(
    one_of=True, description="The provider to keep (fields to change) or to switch to (a whole configuration)."
)
class ProviderUpdateInput:
    twilio: strawberry.Maybe[TwilioUpdateInput]
    sip: strawberry.Maybe[SipUpdateInput]
    voximplant: strawberry.Maybe[VoximplantInput]
    jambonz: strawberry.Maybe[JambonzInput]

    def to_domain(self) -> providers.ProviderConfigInput:
        return the_one(self.twilio, self.sip, self.voximplant, self.jambonz)

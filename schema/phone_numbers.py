"""PhoneNumber type, its provider configurations, inputs, payloads and lists."""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime
from typing import Annotated, Any, Protocol, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types.unset import UnsetType

from models import (
    JambonzColumns,
    SipIpAllowlistColumns,
    SipRegistrationColumns,
    TwilioColumns,
    VoximplantColumns,
)
from models import PhoneNumber as PhoneNumberRow
from models import Provider as ProviderValue
from models import SipMode as SipModeValue
from models import SipTransport as SipTransportValue
from resolvers import phone_numbers, providers
from resolvers.pagination import DEFAULT_PAGE_SIZE, Page
from resolvers.rules import OMITTED, OrOmitted
from schema.agents import Agent
from schema.context import GraphQLContext
from schema.cost import VERIFY_COST
from schema.errors import UserError, user_errors
from schema.health import PhoneNumberHealth, PhoneNumberHealthEventConnection, events_of, health_of
from schema.limits import rate_limited
from schema.node import Node
from schema.pagination import Edge, PageInfo, argument_errors, edges_and_page_info, page_arguments

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
SipTransport = Annotated[
    SipTransportValue, strawberry.enum(name="SipTransport", description="SIP transport protocol.")
]

Info = strawberry.Info[GraphQLContext, None]


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Given(Protocol[T_co]):
    """What `strawberry.Maybe` holds when a field was sent (`Some`), read-only so that it is covariant."""

    @property
    def value(self) -> T_co: ...


class ProviderChoice(Protocol):
    """A member of a @oneOf provider input."""

    def to_domain(self) -> phone_numbers.ProviderConfigInput: ...


def maybe(value: Given[T] | None) -> OrOmitted[T]:
    """A `strawberry.Maybe` field: absent is OMITTED, null is None."""
    return OMITTED if value is None else value.value


def the_one(*members: Given[ProviderChoice] | None) -> phone_numbers.ProviderConfigInput:
    """The domain input of the member a @oneOf input was given (the schema guarantees exactly one)."""
    (chosen,) = (member for member in members if member is not None)
    return chosen.value.to_domain()


def optional(value: T | UnsetType) -> OrOmitted[T]:
    """A plain optional field (default UNSET): absent is OMITTED, null is None."""
    return OMITTED if isinstance(value, UnsetType) else value


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

    @strawberry.field(
        description="What the last check of the provider configuration found: null until the number is first checked, "
        "and again once its number or provider configuration changes (until the next check)."
    )
    async def health(self, info: Info) -> PhoneNumberHealth | None:
        if self.preview is not None:
            return PhoneNumberHealth.from_row(self.preview.health)
        return await health_of(info, self.row.id)

    @strawberry.field(description="Each change of `health.state`, newest first. `first` is 1 to 100.")
    async def health_events(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> PhoneNumberHealthEventConnection:
        return await events_of(info, self.row.id, first, after)

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


# --- lists ----------------------------------------------------------------------


@strawberry.input(description="All given conditions must hold.")
class PhoneNumberFilter:
    provider: Provider | None = None
    sip_mode: SipMode | None = None
    agent_id: strawberry.ID | None = None
    search: str | None = strawberry.field(
        default=None,
        description="Part of the number (digits, in any formatting) or of the name; case-insensitive. "
        "At most 100 characters, no control characters.",
    )

    def to_domain(self) -> phone_numbers.PhoneNumberFilter:
        return phone_numbers.PhoneNumberFilter(
            provider=self.provider, sip_mode=self.sip_mode, agent_id=self.agent_id, search=self.search
        )


PHONE_NUMBERS = "phone_numbers"
AGENT_PHONE_NUMBERS = "agent_phone_numbers"


@strawberry.type
class PhoneNumberConnection:
    edges: list[Edge[PhoneNumber]]
    page_info: PageInfo
    where: strawberry.Private[phone_numbers.PhoneNumberFilter | uuid.UUID]

    @strawberry.field(description="All numbers matching the filter, on every page.")  # type: ignore[untyped-decorator]  # Strawberry types field(...) without a resolver as Any
    async def total_count(self, info: Info) -> int:
        if isinstance(self.where, uuid.UUID):
            return await info.context.loaders.agent_number_count.load(self.where)
        return await phone_numbers.count_phone_numbers(info.context, self.where)

    @classmethod
    def build(
        cls,
        info: Info,
        kind: str,
        scope: uuid.UUID,
        page: Page[PhoneNumberRow],
        after: str | None,
        where: phone_numbers.PhoneNumberFilter | uuid.UUID,
    ) -> PhoneNumberConnection:
        edges, page_info = edges_and_page_info(
            info.context.secrets, kind, scope, page.rows, page.has_next_page, after, PhoneNumber.from_row
        )
        return cls(edges=edges, page_info=page_info, where=where)

    @classmethod
    async def of_agent(cls, info: Info, agent_id: uuid.UUID, first: int, after: str | None) -> PhoneNumberConnection:
        size, position = page_arguments(info.context.secrets, AGENT_PHONE_NUMBERS, agent_id, first, after)
        page = await info.context.loaders.agent_numbers.load((agent_id, size, position))
        return cls.build(info, AGENT_PHONE_NUMBERS, agent_id, page, after, agent_id)


async def phone_number_list(
    info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None, filter: PhoneNumberFilter | None = None
) -> PhoneNumberConnection:
    organization_id = info.context.organization_id
    size, position = page_arguments(info.context.secrets, PHONE_NUMBERS, organization_id, first, after)
    where = filter.to_domain() if filter else phone_numbers.PhoneNumberFilter()
    with argument_errors():
        page = await phone_numbers.list_phone_numbers(info.context, size, position, where)
    return PhoneNumberConnection.build(info, PHONE_NUMBERS, organization_id, page, after, where)


async def phone_number(info: Info, id: strawberry.ID) -> PhoneNumber | None:
    return _phone_number(await phone_numbers.get_phone_number(info.context, id))


# --- inputs -------------------------------------------------------------------
# Descriptions and defaults of provider fields come from their specs (resolvers/providers.py).


def _create_field(spec: providers.ProviderSpec, attr: str) -> Any:
    """A create input's field: required fields have no default, optional ones are UNSET or the spec's default."""
    f = providers.field_of(spec, attr)
    if f.required:
        return strawberry.field(description=f.graphql_description())
    return strawberry.field(default=strawberry.UNSET if f.default is None else f.default, description=f.graphql_description())


def _update_field(spec: providers.ProviderSpec, attr: str) -> Any:
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


@strawberry.input(description="jambonz routing references (UUIDs); all optional, so {} selects jambonz. Null clears one.")
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


_DRY_RUN = "Run every rule, uniqueness and agent lookup included, and answer as if saved, saving nothing."
_VERIFY = (
    "Check the provider configuration the write leaves (as verifyPhoneNumber does) before saving anything: unless "
    "the check answers OK, nothing is saved and the answer is a VERIFICATION_FAILED user error on "
    '["input", "provider"] saying what was tried and what answered (Voximplant and jambonz can\'t be checked, so '
    "they always fail it). When OK, the result is stored as the number's `health` with the write. With dryRun, the "
    "check runs and nothing is saved. Costs as much as verifyPhoneNumber."
)
_EXPECTED_VERSION = (
    "The number's `version` as you last read it: if it has changed since, nothing is written and the answer "
    "is a CONFLICT user error. Omit it to apply the change whatever the version."
)


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
        description="A JSON object: at most 50 keys of at most 40 characters in every object, nested ones "
        "included; string values of at most 500 characters; numbers finite and within ±(2^53 - 1); "
        "nesting at most 10 levels; 8 KiB in all.",
    )
    provider: ProviderInput
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="At most 255 characters. A retry with the same key and input within 24 hours returns "
        "the number the first request created, creating nothing. Secrets (authToken, password) are compared only "
        "as given or not: a retry with another secret returns the original number, its secret unchanged.",
    )
    dry_run: bool | None = strawberry.field(default=False, description=_DRY_RUN)
    verify: bool | None = strawberry.field(default=False, description=_VERIFY)

    def to_domain(self) -> phone_numbers.CreatePhoneNumberInput:
        return phone_numbers.CreatePhoneNumberInput(
            number=self.number,
            name=optional(self.name),
            agent_id=optional(self.agent_id),
            metadata=optional(self.metadata),
            provider=self.provider.to_domain(),
            idempotency_key=optional(self.idempotency_key),
            dry_run=bool(self.dry_run),
            verify=bool(self.verify),
        )


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


@strawberry.input(one_of=True, description="The provider to keep (fields to change) or to switch to (a whole configuration).")
class ProviderUpdateInput:
    twilio: strawberry.Maybe[TwilioUpdateInput]
    sip: strawberry.Maybe[SipUpdateInput]
    voximplant: strawberry.Maybe[VoximplantInput]
    jambonz: strawberry.Maybe[JambonzInput]

    def to_domain(self) -> providers.ProviderConfigInput:
        return the_one(self.twilio, self.sip, self.voximplant, self.jambonz)


@strawberry.input(description="Omitted fields keep their value; null clears name, agentId and metadata.")
class UpdatePhoneNumberInput:
    id: strawberry.ID
    number: strawberry.Maybe[str]
    name: strawberry.Maybe[str | None]
    agent_id: strawberry.Maybe[strawberry.ID | None]
    metadata: strawberry.Maybe[JSON | None]
    provider: strawberry.Maybe[ProviderUpdateInput]
    expected_version: int | None = strawberry.field(default=strawberry.UNSET, description=_EXPECTED_VERSION)
    dry_run: bool | None = strawberry.field(default=False, description=_DRY_RUN)
    verify: bool | None = strawberry.field(default=False, description=_VERIFY)

    def to_domain(self) -> phone_numbers.UpdatePhoneNumberInput:
        return phone_numbers.UpdatePhoneNumberInput(
            id=self.id,
            number=maybe(self.number),
            name=maybe(self.name),
            agent_id=maybe(self.agent_id),
            metadata=maybe(self.metadata),
            provider=self.provider.value.to_domain() if self.provider else OMITTED,
            expected_versions=_versions(self.expected_version),
            dry_run=bool(self.dry_run),
            verify=bool(self.verify),
        )


@strawberry.input
class DeletePhoneNumberInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.field(default=strawberry.UNSET, description=_EXPECTED_VERSION)


def _versions(expected_version: int | None) -> frozenset[int] | None:
    """Absent and null both mean: whatever the current version."""
    return None if expected_version is None or expected_version is strawberry.UNSET else frozenset({expected_version})


@strawberry.type
class CreatePhoneNumberPayload:
    phone_number: PhoneNumber | None
    user_errors: list[UserError]


@strawberry.type
class UpdatePhoneNumberPayload:
    phone_number: PhoneNumber | None
    user_errors: list[UserError]


@strawberry.input
class VerifyPhoneNumberInput:
    id: strawberry.ID


@strawberry.type
class VerifyPhoneNumberPayload:
    phone_number: PhoneNumber | None
    health: PhoneNumberHealth | None = strawberry.field(description="What this check found, now the number's health.")
    user_errors: list[UserError]


@strawberry.type
class DeletePhoneNumberPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


# --- mutations ----------------------------------------------------------------


async def charge_check(info: Info) -> None:
    """A check asked for with `verify: true` costs what verifyPhoneNumber does, taken before it runs.

    verifyPhoneNumber is charged in the document's cost; the flag can come in a variable, so it is charged here.
    """
    retry_after = await info.context.charge(VERIFY_COST)
    if retry_after is not None:
        raise rate_limited(retry_after)


def _forget_health(info: Info, row: PhoneNumberRow | None) -> None:
    """A write may change the number's health: read it afresh in the rest of the request."""
    if row is not None:
        with contextlib.suppress(KeyError):  # not read yet
            info.context.loaders.health.clear(row.id)


async def create_phone_number(info: Info, input: CreatePhoneNumberInput) -> CreatePhoneNumberPayload:
    data = input.to_domain()
    if data.verify:
        await charge_check(info)
    result = await phone_numbers.create_phone_number(info.context, data)
    _forget_health(info, result.phone_number)
    return CreatePhoneNumberPayload(
        phone_number=_phone_number(result.phone_number, result.preview), user_errors=user_errors(result.errors)
    )


async def update_phone_number(info: Info, input: UpdatePhoneNumberInput) -> UpdatePhoneNumberPayload:
    data = input.to_domain()
    if data.verify:
        await charge_check(info)
    result = await phone_numbers.update_phone_number(info.context, data)
    _forget_health(info, result.phone_number)
    return UpdatePhoneNumberPayload(
        phone_number=_phone_number(result.phone_number, result.preview), user_errors=user_errors(result.errors)
    )


async def verify_phone_number(info: Info, input: VerifyPhoneNumberInput) -> VerifyPhoneNumberPayload:
    result = await phone_numbers.verify_phone_number(info.context, input.id)
    _forget_health(info, result.phone_number)
    return VerifyPhoneNumberPayload(
        phone_number=_phone_number(result.phone_number),
        health=PhoneNumberHealth.from_row(result.health),
        user_errors=user_errors(result.errors),
    )


async def delete_phone_number(info: Info, input: DeletePhoneNumberInput) -> DeletePhoneNumberPayload:
    result = await phone_numbers.delete_phone_number(info.context, input.id, _versions(input.expected_version))
    deleted = strawberry.ID(str(result.deleted_id)) if result.deleted_id else None
    return DeletePhoneNumberPayload(deleted_id=deleted, user_errors=user_errors(result.errors))

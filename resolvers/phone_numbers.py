"""Phone numbers: the reference's rules and their persistence.

Inputs arrive as the plain dataclasses below, whichever transport built them;
every rule lives here once. Paths in errors start below the operation's
argument, e.g. ("provider", "sip", "registration", "username").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tortoise.exceptions import IntegrityError

from models import Agent, PhoneNumber, Provider, SipMode, SipTransport
from models.secrets import SecretBox
from resolvers import rules
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, Errors, FieldPath, UserError

DEFAULT_SIP_PORT = 5060
NAME_MAX_LENGTH = 100


@dataclass
class TwilioConfigInput:
    account_sid: str | None
    auth_token: str | None


@dataclass
class SipRegistrationConfigInput:
    username: str | None
    password: str | None
    proxy: str | None
    outbound_proxy: str | None = None
    auth_user: str | None = None
    port: int = DEFAULT_SIP_PORT
    register_transport: SipTransport = SipTransport.UDP


@dataclass
class SipIpAllowlistConfigInput:
    ip: str | None
    port: int = DEFAULT_SIP_PORT
    protocol: SipTransport = SipTransport.UDP


@dataclass
class VoximplantConfigInput:
    application_id: str | None = None
    rule_id: str | None = None


@dataclass
class JambonzConfigInput:
    application_sid: str | None = None
    carrier_sid: str | None = None


ProviderConfigInput = (
    TwilioConfigInput
    | SipRegistrationConfigInput
    | SipIpAllowlistConfigInput
    | VoximplantConfigInput
    | JambonzConfigInput
)


@dataclass
class CreatePhoneNumberInput:
    number: str | None
    provider: ProviderConfigInput
    name: str | None = None
    agent_id: str | None = None
    metadata: Any = None


@dataclass
class PhoneNumberResult:
    phone_number: PhoneNumber | None
    errors: list[UserError] = field(default_factory=list)


# --- provider configurations -------------------------------------------------

Check = Callable[[Errors, FieldPath, Any], Any]


@dataclass(frozen=True)
class ConfigField:
    attr: str  # attribute of the input dataclass
    name: str  # the field's name in paths
    column: str  # PhoneNumber column
    check: Check
    secret: bool = False


@dataclass(frozen=True)
class ProviderSpec:
    provider: Provider
    sip_mode: SipMode | None
    path: FieldPath
    fields: tuple[ConfigField, ...]


def _text(label: str, max_length: int, *, required: bool, strip: bool = True) -> Check:
    def check(errors: Errors, path: FieldPath, value: Any) -> Any:
        return rules.text(errors, path, value, label=label, max_length=max_length, required=required, strip=strip)

    return check


def _host(label: str, *, required: bool) -> Check:
    def check(errors: Errors, path: FieldPath, value: Any) -> Any:
        return rules.host(errors, path, value, label=label, max_length=100, required=required)

    return check


def _port(label: str) -> Check:
    def check(errors: Errors, path: FieldPath, value: Any) -> Any:
        return rules.port(errors, path, value, label=label)

    return check


def _transport(errors: Errors, path: FieldPath, value: Any) -> Any:
    return SipTransport(value)


def _account_sid(errors: Errors, path: FieldPath, value: Any) -> Any:
    checked = rules.text(errors, path, value, label="Twilio account SID", max_length=34, required=True)
    if checked is not None and not rules.TWILIO_ACCOUNT_SID.match(checked):
        errors.add(
            path,
            ErrorCode.INVALID,
            "Twilio account SID must be 'AC' followed by 32 hexadecimal digits (find it in the Twilio console)",
        )
        return None
    return checked


def _ip(errors: Errors, path: FieldPath, value: Any) -> Any:
    return rules.ip_address(errors, path, value, label="PBX IP address", max_length=255)


def _jambonz_sid(label: str) -> Check:
    def check(errors: Errors, path: FieldPath, value: Any) -> Any:
        checked = rules.text(errors, path, value, label=label, max_length=64, required=False)
        if checked is None:
            return None
        parsed = rules.parse_uuid(checked)
        if parsed is None:
            errors.add(path, ErrorCode.INVALID, f"{label} must be a UUID, as jambonz issues them")
            return None
        return str(parsed)

    return check


TWILIO = ProviderSpec(
    Provider.TWILIO,
    None,
    ("provider", "twilio"),
    (
        ConfigField("account_sid", "accountSid", "twilio_account_sid", _account_sid),
        ConfigField(
            "auth_token",
            "authToken",
            "twilio_auth_token",
            _text("Twilio auth token", 128, required=True, strip=False),
            secret=True,
        ),
    ),
)
SIP_REGISTRATION = ProviderSpec(
    Provider.SIP,
    SipMode.REGISTRATION,
    ("provider", "sip", "registration"),
    (
        ConfigField("username", "username", "sip_username", _text("SIP username", 60, required=True)),
        ConfigField(
            "password", "password", "sip_password", _text("SIP password", 128, required=True, strip=False), secret=True
        ),
        ConfigField("proxy", "proxy", "sip_proxy", _host("SIP registrar host (proxy)", required=True)),
        ConfigField("outbound_proxy", "outboundProxy", "sip_outbound_proxy", _host("SIP outbound proxy", required=False)),
        ConfigField("auth_user", "authUser", "sip_auth_user", _text("SIP auth user", 60, required=False)),
        ConfigField("port", "port", "sip_port", _port("SIP port")),
        ConfigField("register_transport", "registerTransport", "sip_transport", _transport),
    ),
)
SIP_IP_ALLOWLIST = ProviderSpec(
    Provider.SIP,
    SipMode.IP_ALLOWLIST,
    ("provider", "sip", "ipAllowlist"),
    (
        ConfigField("ip", "ip", "sip_ip", _ip),
        ConfigField("port", "port", "sip_port", _port("SIP port")),
        ConfigField("protocol", "protocol", "sip_transport", _transport),
    ),
)
VOXIMPLANT = ProviderSpec(
    Provider.VOXIMPLANT,
    None,
    ("provider", "voximplant"),
    (
        ConfigField("application_id", "applicationId", "voximplant_application_id", _text("Voximplant application ID", 64, required=False)),
        ConfigField("rule_id", "ruleId", "voximplant_rule_id", _text("Voximplant rule ID", 64, required=False)),
    ),
)
JAMBONZ = ProviderSpec(
    Provider.JAMBONZ,
    None,
    ("provider", "jambonz"),
    (
        ConfigField("application_sid", "applicationSid", "jambonz_application_sid", _jambonz_sid("jambonz application SID")),
        ConfigField("carrier_sid", "carrierSid", "jambonz_carrier_sid", _jambonz_sid("jambonz carrier SID")),
    ),
)

SPECS: dict[type, ProviderSpec] = {
    TwilioConfigInput: TWILIO,
    SipRegistrationConfigInput: SIP_REGISTRATION,
    SipIpAllowlistConfigInput: SIP_IP_ALLOWLIST,
    VoximplantConfigInput: VOXIMPLANT,
    JambonzConfigInput: JAMBONZ,
}

# Every configuration column, so that choosing one provider clears the others'.
CONFIG_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(f.column for spec in SPECS.values() for f in spec.fields)
)
SECRET_COLUMNS: dict[str, str] = {"twilio_auth_token": "twilio_auth_token_encrypted", "sip_password": "sip_password_encrypted"}


def _provider_columns(errors: Errors, config: ProviderConfigInput) -> dict[str, Any]:
    spec = SPECS[type(config)]
    columns: dict[str, Any] = dict.fromkeys(CONFIG_COLUMNS)
    columns["provider"] = spec.provider
    columns["sip_mode"] = spec.sip_mode
    for f in spec.fields:
        columns[f.column] = f.check(errors, spec.path + (f.name,), getattr(config, f.attr))
    return columns


def seal_secrets(columns: dict[str, Any], row_id: uuid.UUID, box: SecretBox) -> dict[str, Any]:
    """Replace plaintext secret columns by their ciphertext columns."""
    sealed = dict(columns)
    for plain, encrypted in SECRET_COLUMNS.items():
        value = sealed.pop(plain, None)
        sealed[encrypted] = None if value is None else box.encrypt(value, secret_context(row_id, encrypted))
    return sealed


def secret_context(row_id: uuid.UUID, column: str) -> str:
    return f"phone_numbers:{row_id}:{column}"


# --- operations ---------------------------------------------------------------


async def create_phone_number(ctx: RequestContext, data: CreatePhoneNumberInput) -> PhoneNumberResult:
    errors = Errors()
    number = rules.phone_number(errors, ("number",), data.number)
    name = rules.label_text(errors, ("name",), data.name, label="Name", max_length=NAME_MAX_LENGTH)
    agent_id = await _agent(errors, ctx, data.agent_id)
    metadata = rules.metadata(errors, ("metadata",), data.metadata)
    columns = _provider_columns(errors, data.provider)

    if errors:
        if number is not None and await _number_taken(ctx, number):
            _add_taken(errors, number)
        return PhoneNumberResult(None, errors.items)

    row_id = uuid.uuid4()
    row = PhoneNumber(
        id=row_id,
        organization_id=ctx.organization_id,
        agent_id=agent_id,
        number=number,
        name=name,
        metadata=metadata,
        **seal_secrets(columns, row_id, ctx.secrets),
    )
    try:
        await row.save(force_create=True)
    except IntegrityError:
        # The unique (organization, number) index decides races between
        # concurrent creates; anything else is a real fault.
        if number is None or not await _number_taken(ctx, number):
            raise
        _add_taken(errors, number)
        return PhoneNumberResult(None, errors.items)
    return PhoneNumberResult(row)


async def get_phone_number(ctx: RequestContext, phone_number_id: str) -> PhoneNumber | None:
    parsed = rules.parse_uuid(phone_number_id)
    if parsed is None:
        return None
    return await PhoneNumber.get_or_none(id=parsed, organization_id=ctx.organization_id)


async def _agent(errors: Errors, ctx: RequestContext, agent_id: str | None) -> uuid.UUID | None:
    if agent_id is None:
        return None
    parsed = rules.uuid_id(errors, ("agentId",), agent_id, label="Agent ID")
    if parsed is None:
        return None
    if not await Agent.filter(id=parsed, organization_id=ctx.organization_id).exists():
        errors.add(("agentId",), ErrorCode.NOT_FOUND, f"Agent {agent_id} does not exist")
        return None
    return parsed


async def _number_taken(ctx: RequestContext, number: str) -> bool:
    return await PhoneNumber.filter(organization_id=ctx.organization_id, number=number).exists()


def _add_taken(errors: Errors, number: str) -> None:
    errors.add(("number",), ErrorCode.TAKEN, f"Number {number} already exists in this organization")

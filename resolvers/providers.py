"""Provider configurations: each field's facts, declared once.

A field's label (in error messages), limit, required flag, default and
descriptions are written here and nowhere else. The GraphQL inputs take their
descriptions and defaults from these specs, the REST field table
(switchboard/rest_fields.py) and so the OpenAPI document are built from them,
docs/rules.md is generated from them, and tests/unit/test_provider_specs.py checks
every surface, the model's column lengths included, against them.

Descriptions are templates filled from the field's own facts: {max_length},
{min}, {max}, {default}, the shared rule texts {host} and {credential}, and,
in REST descriptions, {required} ("Required if provider is 'sip' and sipMode
is 'registration'."). What the fields are: resolvers/provider_fields.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models import PhoneNumber, Provider, SipMode, SipTransport
from resolvers.provider_fields import ConfigField, Kind, ProviderSpec
from resolvers.rules import OMITTED

# --- the configuration inputs, as every transport hands them to the resolvers ---


@dataclass
class TwilioConfigInput:
    account_sid: Any = OMITTED
    auth_token: Any = OMITTED


@dataclass
class SipRegistrationConfigInput:
    username: Any = OMITTED
    password: Any = OMITTED
    proxy: Any = OMITTED
    outbound_proxy: Any = OMITTED
    auth_user: Any = OMITTED
    port: Any = OMITTED
    register_transport: Any = OMITTED


@dataclass
class SipIpAllowlistConfigInput:
    ip: Any = OMITTED
    port: Any = OMITTED
    protocol: Any = OMITTED


@dataclass
class VoximplantConfigInput:
    application_id: Any = OMITTED
    rule_id: Any = OMITTED


@dataclass
class JambonzConfigInput:
    application_sid: Any = OMITTED
    carrier_sid: Any = OMITTED


ProviderConfigInput = (
    TwilioConfigInput
    | SipRegistrationConfigInput
    | SipIpAllowlistConfigInput
    | VoximplantConfigInput
    | JambonzConfigInput
)


# --- the specs -------------------------------------------------------------------

# One field of both SIP modes.
SIP_PORT = ConfigField(
    "port",
    "sip_port",
    "sipPort",
    "SIP port",
    Kind.PORT,
    default=5060,
    description="{min} to {max}; default {default}.",
    rest_description="SIP port number. Used in both 'registration' and 'ip_allowlist' modes.",
)

TWILIO = ProviderSpec(
    Provider.TWILIO,
    None,
    ("provider", "twilio"),
    (
        ConfigField(
            "account_sid",
            "twilio_account_sid",
            "twilioAccountSid",
            "Twilio account SID",
            Kind.TWILIO_ACCOUNT_SID,
            required=True,
            max_length=34,
            description="'AC' followed by 32 hexadecimal digits.",
            rest_description="{required} 'AC' followed by 32 hexadecimal digits.",
        ),
        ConfigField(
            "auth_token",
            "twilio_auth_token",
            "twilioAuthToken",
            "Twilio auth token",
            Kind.SECRET,
            required=True,
            max_length=128,
            description="At most {max_length} characters. Stored encrypted, never returned. {credential}",
            rest_description="{required} Stored encrypted; never returned.",
        ),
    ),
)
SIP_REGISTRATION = ProviderSpec(
    Provider.SIP,
    SipMode.REGISTRATION,
    ("provider", "sip", "registration"),
    (
        ConfigField(
            "username",
            "sip_username",
            "sipUsername",
            "SIP username",
            Kind.CREDENTIAL,
            required=True,
            max_length=60,
            description="At most {max_length} characters. {credential}",
            rest_description="{required}",
        ),
        ConfigField(
            "password",
            "sip_password",
            "sipPassword",
            "SIP password",
            Kind.SECRET,
            required=True,
            max_length=128,
            description="At most {max_length} characters; spaces are kept. Stored encrypted, never returned. "
            "{credential}",
            rest_description="{required} Stored encrypted; never returned.",
        ),
        ConfigField(
            "proxy",
            "sip_proxy",
            "sipProxy",
            "SIP registrar host (proxy)",
            Kind.HOST,
            required=True,
            max_length=100,
            description="SIP registrar host (e.g. 'pbx.example.com'): the host Switchboard registers TO. {host}",
            rest_description="SIP registrar host (e.g. 'pbx.example.com'), without 'sip:' or a port. {required} "
            "In registration mode, this is the host Switchboard registers TO.",
        ),
        ConfigField(
            "outbound_proxy",
            "sip_outbound_proxy",
            "sipOutboundProxy",
            "SIP outbound proxy",
            Kind.HOST,
            max_length=100,
            description="Optional SIP outbound proxy, used when SIP traffic must route through a proxy "
            "instead of directly to the registrar. {host}",
            rest_description="Optional SIP outbound proxy. Used when SIP traffic needs to route through a proxy "
            "instead of directly to the host. Only used in registration mode.",
        ),
        ConfigField(
            "auth_user",
            "sip_auth_user",
            "sipAuthUser",
            "SIP auth user",
            Kind.CREDENTIAL,
            max_length=60,
            description="Optional SIP authentication username, if different from username. "
            "At most {max_length} characters. {credential}",
            rest_description="Optional SIP authentication username, if different from sipUsername. "
            "Only used in registration mode.",
        ),
        SIP_PORT,
        ConfigField(
            "register_transport",
            "sip_transport",
            "sipRegisterTransport",
            "SIP registration transport",
            Kind.TRANSPORT,
            default=SipTransport.UDP,
            description="SIP registration transport protocol; default {default}.",
            rest_description="SIP registration transport protocol. Used when sipMode is 'registration'.",
        ),
    ),
)
SIP_IP_ALLOWLIST = ProviderSpec(
    Provider.SIP,
    SipMode.IP_ALLOWLIST,
    ("provider", "sip", "ipAllowlist"),
    (
        ConfigField(
            "ip",
            "sip_ip",
            "sipIp",
            "PBX IP address",
            Kind.IP,
            required=True,
            max_length=255,
            description="IPv4 or IPv6 address of your PBX/SBC, without an IPv6 zone ID. "
            "At most {max_length} characters. Not a loopback, link-local, multicast or other local address "
            "(private ranges are fine). "
            "Stored compressed and lower case, IPv4-mapped IPv6 as IPv4.",
            rest_description="IP address (IPv4 or IPv6) of your PBX/SBC. {required}",
        ),
        SIP_PORT,
        ConfigField(
            "protocol",
            "sip_transport",
            "sipProtocol",
            "SIP transport protocol",
            Kind.TRANSPORT,
            default=SipTransport.UDP,
            description="SIP transport protocol; default {default}.",
            rest_description="SIP transport protocol. Used when sipMode is 'ip_allowlist'.",
        ),
    ),
)
VOXIMPLANT = ProviderSpec(
    Provider.VOXIMPLANT,
    None,
    ("provider", "voximplant"),
    tuple(
        ConfigField(
            attr,
            f"voximplant_{attr}",
            rest,
            label,
            Kind.TEXT,
            max_length=64,
            description="At most {max_length} characters.",
            rest_description=f"Optional {label} (a Switchboard extension of the reference).",
        )
        for attr, rest, label in (
            ("application_id", "voximplantApplicationId", "Voximplant application ID"),
            ("rule_id", "voximplantRuleId", "Voximplant rule ID"),
        )
    ),
)
JAMBONZ = ProviderSpec(
    Provider.JAMBONZ,
    None,
    ("provider", "jambonz"),
    tuple(
        ConfigField(
            attr,
            f"jambonz_{attr}",
            rest,
            label,
            Kind.UUID,
            max_length=64,
            rest_description=f"Optional {label}, a UUID (a Switchboard extension of the reference).",
        )
        for attr, rest, label in (
            ("application_sid", "jambonzApplicationSid", "jambonz application SID"),
            ("carrier_sid", "jambonzCarrierSid", "jambonz carrier SID"),
        )
    ),
)

SPECS: dict[type, ProviderSpec] = {
    TwilioConfigInput: TWILIO,
    SipRegistrationConfigInput: SIP_REGISTRATION,
    SipIpAllowlistConfigInput: SIP_IP_ALLOWLIST,
    VoximplantConfigInput: VOXIMPLANT,
    JambonzConfigInput: JAMBONZ,
}

# Secrets are validated under a plain name and stored under an encrypted one.
SECRET_COLUMNS: dict[str, str] = {
    f.column: f"{f.column}_encrypted" for spec in SPECS.values() for f in spec.fields if f.secret
}
# Every configuration column, so that choosing a provider clears the others'.
CONFIG_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(f.column for spec in SPECS.values() for f in spec.fields))


def spec_of(row: PhoneNumber) -> ProviderSpec:
    return next(s for s in SPECS.values() if (s.provider, s.sip_mode) == (row.provider, row.sip_mode))


def field_of(spec: ProviderSpec, attr: str) -> ConfigField:
    return next(f for f in spec.fields if f.attr == attr)

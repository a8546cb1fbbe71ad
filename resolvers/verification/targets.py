"""What a check talks to: a number's provider configuration, and the addresses it may connect to.

A target is built from a stored row (its secrets decrypted here, in memory,
for the check only) or from a configuration not saved yet. Host names are
resolved once; every address they resolve to must pass the input rules'
`local_address_reason`, and the check connects to the address it checked,
so a second DNS answer can't send it elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from models import PhoneNumber, Provider, SipMode, SipTransport
from models.secrets import SecretBox
from resolvers.rules import IPAddress, local_address_reason


@dataclass(frozen=True)
class SipRegistrationTarget:
    number: str
    username: str
    password: str = field(repr=False)
    proxy: str
    outbound_proxy: str | None
    auth_user: str | None
    port: int
    transport: SipTransport


@dataclass(frozen=True)
class SipAllowlistTarget:
    number: str
    ip: str
    port: int
    transport: SipTransport


@dataclass(frozen=True)
class TwilioTarget:
    number: str
    account_sid: str
    auth_token: str = field(repr=False)


@dataclass(frozen=True)
class UncheckableTarget:
    number: str
    provider: Provider


CheckTarget = SipRegistrationTarget | SipAllowlistTarget | TwilioTarget | UncheckableTarget


def secrets_of(target: CheckTarget) -> list[str]:
    if isinstance(target, SipRegistrationTarget):
        return [target.password]
    if isinstance(target, TwilioTarget):
        return [target.auth_token]
    return []


def target_for_row(row: PhoneNumber, box: SecretBox) -> CheckTarget:
    """The stored configuration of a number. Raises SecretDecryptionError when a secret can't be opened."""
    return target_for_configuration(row.number, {}, current=row, box=box)


def target_for_configuration(
    number: str,
    columns: Mapping[str, Any],
    *,
    current: PhoneNumber | None = None,
    box: SecretBox | None = None,
) -> CheckTarget:
    """A configuration as `resolvers.phone_numbers.config._config_columns` returns it, secrets in plain text.

    Columns it leaves out (a patch of the same provider) come from `current`,
    whose secrets `box` decrypts. `number` is the number the check is for,
    in E.164.
    """

    # Imported here: resolvers.phone_numbers will call these checks itself.
    from resolvers.phone_numbers import secret_context
    from resolvers.providers import SECRET_COLUMNS

    def column(name: str) -> Any:
        if name in columns:
            return columns[name]
        if current is None:
            return None
        if name in SECRET_COLUMNS:
            sealed = getattr(current, SECRET_COLUMNS[name])
            if sealed is None:
                return None
            if box is None:
                raise ValueError("a SecretBox is needed to open the stored secrets")
            return box.decrypt(sealed, secret_context(current.id, SECRET_COLUMNS[name]))
        return getattr(current, name)

    provider = Provider(column("provider"))
    sip_mode = column("sip_mode")
    if provider is Provider.TWILIO:
        return TwilioTarget(number, _required(column, "twilio_account_sid"), _required(column, "twilio_auth_token"))
    if provider is Provider.SIP and sip_mode is not None and SipMode(sip_mode) is SipMode.REGISTRATION:
        return SipRegistrationTarget(
            number=number,
            username=_required(column, "sip_username"),
            password=_required(column, "sip_password"),
            proxy=_required(column, "sip_proxy"),
            outbound_proxy=column("sip_outbound_proxy"),
            auth_user=column("sip_auth_user"),
            port=int(_required(column, "sip_port")),
            transport=SipTransport(_required(column, "sip_transport")),
        )
    if provider is Provider.SIP:
        return SipAllowlistTarget(
            number=number,
            ip=_required(column, "sip_ip"),
            port=int(_required(column, "sip_port")),
            transport=SipTransport(_required(column, "sip_transport")),
        )
    return UncheckableTarget(number, provider)


def _required(column: Callable[[str], Any], name: str) -> Any:
    value = column(name)
    if value is None:
        raise ValueError(f"the configuration has no {name}")
    return value


# --- addresses ------------------------------------------------------------------

Resolver = Callable[[str, int, socket.SocketKind], Awaitable[list[IPAddress]]]


async def system_resolver(host: str, port: int, kind: socket.SocketKind) -> list[IPAddress]:
    """The host's addresses from the operating system's resolver, in its order of preference."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=kind)
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    return list(dict.fromkeys(addresses))


class TargetRefused(Exception):
    """A target the input rules don't allow; nothing was sent."""


class ResolutionFailed(Exception):
    pass


async def allowed_addresses(
    host: str, port: int, kind: socket.SocketKind, *, resolver: Resolver, allow_local: bool, role: str
) -> list[IPAddress]:
    """Every address of `host`, each allowed by the rules, or an exception saying why not.

    `role` names the host in messages, e.g. "registrar 'pbx.example.com'".
    """
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = await resolver(host, port, kind)
        except (socket.gaierror, UnicodeError) as error:
            why = error.strerror if isinstance(error, socket.gaierror) and error.strerror else "invalid name"
            raise ResolutionFailed(f"the DNS lookup of {role} failed ({why})") from None
        if not addresses:
            raise ResolutionFailed(f"the DNS lookup of {role} found no address") from None
    if not allow_local:
        for address in addresses:
            reason = local_address_reason(address)
            if reason is not None:
                resolved = "is" if str(address) == host else f"resolves to {address},"
                raise TargetRefused(f"{role} {resolved} {reason}, which is not allowed as a target")
    return addresses

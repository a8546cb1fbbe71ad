"""One check of a number's provider, whichever provider it is.

SIP registration mode: REGISTER as the number's user, answering the digest
challenge; 2xx is OK and the check then removes its own binding. SIP
IP-allowlist mode: OPTIONS; any final response is OK. Twilio: the account's
IncomingPhoneNumbers lookup. Voximplant and jambonz can't be checked from
outside.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass, replace

from models import Provider, SipTransport
from models.health import HealthState
from resolvers.rules import IPAddress
from resolvers.verification import sip
from resolvers.verification.challenges import RecentChallenges
from resolvers.verification.results import (
    CheckOptions,
    CheckResult,
    Progress,
    tls_context,
)
from resolvers.verification.targets import (
    CheckTarget,
    ResolutionFailed,
    SipAllowlistTarget,
    SipRegistrationTarget,
    TargetRefused,
    TwilioTarget,
    UncheckableTarget,
    allowed_addresses,
    secrets_of,
)
from resolvers.verification.twilio import check_twilio

log = logging.getLogger("switchboard.verification")

_REDACTED = "[redacted]"
# This process's registrars' recent challenges, answered at once by the next check of each.
RECENT_CHALLENGES = RecentChallenges()
# A secret shorter than this could match ordinary words of a detail by chance.
_MIN_REDACTED_LENGTH = 4


@dataclass(frozen=True)
class _Clock:
    started: float  # the event loop's clock
    deadline: float

    @classmethod
    def start(cls, timeout: float) -> _Clock:
        now = asyncio.get_running_loop().time()
        return cls(now, now + timeout)

    def elapsed_ms(self) -> int:
        return round((asyncio.get_running_loop().time() - self.started) * 1000)


async def check(target: CheckTarget, options: CheckOptions | None = None) -> CheckResult:
    """Check a provider configuration now, within options.timeout seconds.

    Never raises for anything the far end does or fails to do; the result
    says what happened, without any secret of the target.
    """
    options = options or CheckOptions()
    clock = _Clock.start(options.timeout)
    progress = Progress()
    try:
        result = await _dispatch(target, options, clock, progress)
    except TimeoutError:
        result = CheckResult(HealthState.UNREACHABLE, progress.no_answer(options.timeout))
    except TargetRefused as error:
        result = CheckResult(HealthState.UNREACHABLE, f"Not checked: {error}. Nothing was sent.")
    except ResolutionFailed as error:
        result = CheckResult(HealthState.UNREACHABLE, f"{_sentence(str(error))}.")
    except sip.SipError as error:
        result = CheckResult(HealthState.UNREACHABLE, f"{_sentence(progress.attempt)}: {error}.")
    result = _redacted(result, secrets_of(target))
    log.log(
        options.log_level,
        "provider check of %s: %s, %s",
        target.number,
        result.state.name,
        result.detail,
        extra={
            "health_state": result.state.name,
            "sip_status_code": result.sip_status_code,
            "latency_ms": result.latency_ms,
        },
    )
    return result


async def _dispatch(target: CheckTarget, options: CheckOptions, clock: _Clock, progress: Progress) -> CheckResult:
    if isinstance(target, SipRegistrationTarget):
        return await _registration(target, options, clock, progress)
    if isinstance(target, SipAllowlistTarget):
        return await _allowlist(target, options, clock, progress)
    if isinstance(target, TwilioTarget):
        async with asyncio.timeout_at(clock.deadline):
            return await check_twilio(target, options, clock.elapsed_ms, progress)
    return _uncheckable(target)


def _uncheckable(target: UncheckableTarget) -> CheckResult:
    name = {Provider.VOXIMPLANT: "Voximplant", Provider.JAMBONZ: "jambonz"}.get(target.provider, target.provider.value)
    return CheckResult(
        HealthState.UNSUPPORTED,
        f"{name} numbers can't be checked: {name} offers no way to test a number's configuration from "
        "outside. Nothing was sent.",
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _redacted(result: CheckResult, secrets: list[str]) -> CheckResult:
    """Defence in depth: no secret in the detail even if a far end echoed one back."""
    detail = result.detail
    for secret in secrets:
        if len(secret) >= _MIN_REDACTED_LENGTH:
            detail = detail.replace(secret, _REDACTED)
    return replace(result, detail=detail)


# --- SIP ------------------------------------------------------------------------


def _kind(transport: SipTransport) -> socket.SocketKind:
    return socket.SOCK_DGRAM if transport is SipTransport.UDP else socket.SOCK_STREAM


def _place(host: str, address: IPAddress, port: int, transport: SipTransport) -> str:
    shown = sip.format_host(host) if str(address) == host else f"{host} ({sip.format_host(address)})"
    return f"{shown}:{port} over {transport.value.upper()}"


async def _connect(
    host: str,
    addresses: list[IPAddress],
    port: int,
    transport: SipTransport,
    options: CheckOptions,
    progress: Progress,
    what: str,
) -> tuple[sip.Channel, IPAddress]:
    """A channel to the first address that takes a connection."""
    failure: sip.ConnectFailed | None = None
    for address in addresses:
        progress.attempt = f"{what} {_place(host, address, port, transport)}"
        progress.connecting = True
        try:
            tls = tls_context(options.tls_ca_file) if transport is SipTransport.TLS else None
            channel = await sip.open_channel(transport, address, port, tls=tls, server_name=host)
        except sip.ConnectFailed as error:
            failure = error
            continue
        progress.connecting = False
        return channel, address
    assert failure is not None
    raise failure


async def _registration(
    target: SipRegistrationTarget, options: CheckOptions, clock: _Clock, progress: Progress
) -> CheckResult:
    next_hop = target.outbound_proxy or target.proxy
    role = f"outbound proxy '{next_hop}'" if target.outbound_proxy else f"registrar '{next_hop}'"
    auth_user = target.auth_user or target.username
    what = f"REGISTER of {target.username}@{sip.format_host(target.proxy)}"
    what += " sent through the outbound proxy at" if target.outbound_proxy else " sent to"
    async with asyncio.timeout_at(clock.deadline):
        progress.attempt = f"the DNS lookup of {role}"
        addresses = await allowed_addresses(
            next_hop,
            target.port,
            _kind(target.transport),
            resolver=options.resolver,
            allow_local=options.allow_local_targets,
            role=role,
        )
        channel, address = await _connect(next_hop, addresses, target.port, target.transport, options, progress, what)
    try:
        registration = sip.Registration(
            user=target.username,
            domain=target.proxy,
            port=target.port,
            transport=target.transport,
            auth_user=auth_user,
            password=target.password,
            outbound_proxy=target.outbound_proxy,
        )
        session = sip.RegisterSession(channel, registration, recent=RECENT_CHALLENGES, registrar=str(address))
        async with asyncio.timeout_at(clock.deadline):
            outcome = await session.register(session.expires, progress)
        result = _registration_result(outcome, _sentence(progress.attempt), auth_user, clock.elapsed_ms())
        if result.state is HealthState.OK:
            result = replace(result, detail=result.detail + " " + await _remove_binding(session, clock, progress))
        return result
    finally:
        channel.close()


def _registration_result(outcome: sip.RegisterOutcome, attempt: str, auth_user: str, latency: int) -> CheckResult:
    response = outcome.response
    answered = f"{attempt} was answered {response.summary}"
    credentials = f"digest credentials for '{auth_user}'"
    if outcome.algorithms:
        credentials += f" ({', '.join(outcome.algorithms)})"
    if 200 <= response.status < 300:
        how = f"after {credentials}" if outcome.algorithms else "without asking for credentials"
        return CheckResult(HealthState.OK, f"{answered} {how}.", response.status, latency)
    if outcome.refused_credentials or response.status == 403:
        sent = f" to {credentials}" if outcome.algorithms else ""
        return CheckResult(
            HealthState.AUTH_FAILED,
            f"{answered}{sent}: the registrar refused the username or password.",
            response.status,
            latency,
        )
    if outcome.unanswerable is not None:
        return CheckResult(HealthState.REJECTED, f"{answered} with {outcome.unanswerable}.", response.status, latency)
    if response.status < 400:
        return CheckResult(
            HealthState.REJECTED, f"{answered}, a redirect, which the check does not follow.", response.status, latency
        )
    return CheckResult(HealthState.REJECTED, f"{answered}.", response.status, latency)


async def _remove_binding(session: sip.RegisterSession, clock: _Clock, progress: Progress) -> str:
    """REGISTER with Expires: 0 for the check's own Contact only, never `*`: the number's
    real bindings stay. A failure here doesn't change the result; the binding then lapses."""
    lapse = f"it lapses by itself within {session.expires} s"
    try:
        async with asyncio.timeout_at(clock.deadline):
            outcome = await session.register(0, progress)
    except TimeoutError:
        return f"Removing the check's own binding got no answer in time; {lapse}."
    except sip.SipError as error:
        return f"Removing the check's own binding failed ({error}); {lapse}."
    if 200 <= outcome.response.status < 300:
        return "The check's own binding was removed."
    return f"Removing the check's own binding was answered {outcome.response.summary}; {lapse}."


async def _allowlist(
    target: SipAllowlistTarget, options: CheckOptions, clock: _Clock, progress: Progress
) -> CheckResult:
    async with asyncio.timeout_at(clock.deadline):
        progress.attempt = f"the DNS lookup of PBX address '{target.ip}'"
        addresses = await allowed_addresses(
            target.ip,
            target.port,
            _kind(target.transport),
            resolver=options.resolver,
            allow_local=options.allow_local_targets,
            role=f"PBX address '{target.ip}'",
        )
        channel, _ = await _connect(
            target.ip, addresses, target.port, target.transport, options, progress, "OPTIONS sent to"
        )
        try:
            response = await sip.options(channel, target.ip, target.port, progress)
        finally:
            channel.close()
    return CheckResult(
        HealthState.OK,
        f"{_sentence(progress.attempt)} was answered {response.summary}.",
        response.status,
        clock.elapsed_ms(),
    )

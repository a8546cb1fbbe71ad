"""Provider checks against real components: Kamailio as registrar and outbound proxy, and a
stand-in for Twilio's API, all on 127.0.0.1. Targets come from stored rows and from unsaved
configurations, as the API will build them."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from models import PhoneNumber, Provider, SipTransport
from models.health import HealthState
from models.secrets import SecretBox
from resolvers.context import Policy
from resolvers.errors import Errors
from resolvers.phone_numbers import _config_columns
from resolvers.providers import SipRegistrationConfigInput
from resolvers.rules import IPAddress
from resolvers.verification import (
    CheckOptions,
    CheckResult,
    SipAllowlistTarget,
    SipRegistrationTarget,
    TwilioTarget,
    UncheckableTarget,
    check,
    target_for_configuration,
    target_for_row,
)
from switchboard.settings import Settings
from tests.support.app import api_client, running_app
from tests.support.graphql_ops import CREATE_PHONE_NUMBER
from tests.support.kamailio import PROXY_REALM, REGISTRAR_REALM, Kamailio, SipUser, TlsCertificates
from tests.support.secret_sweep import SWEEP
from tests.support.sip_standin import UdpStandin
from tests.support.twilio_standin import Account, TwilioStandin, serving

# Kamailio listens on 127.0.0.1, which only development and tests may name.
LOCAL = Policy(allow_local_targets=True)

pytest_plugins = ("tests.support.provider_fixtures",)  # the `kamailio` and `certificates` fixtures

NUMBER = "+14155550123"
PASSWORD = "pw-Alice-4f0b2c9e"
AUTH_PASSWORD = "pw-AuthId-77d1e3a5"
TWILIO_SID = "AC" + "5f" * 16
TWILIO_TOKEN = "tok-Twilio-0c9a7e51b2"
for secret in (PASSWORD, AUTH_PASSWORD, TWILIO_TOKEN):
    SWEEP.add_secret(secret)

USERS = [SipUser("alice", PASSWORD), SipUser("authid", AUTH_PASSWORD, aors=(NUMBER,))]
TRANSPORTS = [SipTransport.UDP, SipTransport.TCP, SipTransport.TLS]

Start = Callable[..., Kamailio]


def options(certificates: TlsCertificates, **overrides: Any) -> CheckOptions:
    values: dict[str, Any] = dict(allow_local_targets=True, timeout=3.0, tls_ca_file=str(certificates.ca_file))
    return CheckOptions(**{**values, **overrides})


def port_of(instance: Kamailio, transport: SipTransport) -> int:
    if transport is SipTransport.TLS and not instance.tls:
        pytest.skip("Kamailio's TLS module is not installed")
    return instance.tls_port if transport is SipTransport.TLS else instance.port


def registration(
    instance: Kamailio, transport: SipTransport = SipTransport.UDP, **overrides: Any
) -> SipRegistrationTarget:
    values: dict[str, Any] = dict(
        number=NUMBER,
        username="alice",
        password=PASSWORD,
        proxy="127.0.0.1",
        outbound_proxy=None,
        auth_user=None,
        port=port_of(instance, transport),
        transport=transport,
    )
    values.update(overrides)
    return SipRegistrationTarget(**values)


def without_secrets(result: CheckResult) -> CheckResult:
    for secret in (PASSWORD, AUTH_PASSWORD, TWILIO_TOKEN):
        assert secret not in result.detail
    return result


def resolver_for(names: dict[str, list[str]]) -> Callable[..., Any]:
    """A resolver answering from a table, as DNS would; a name not in it fails as NXDOMAIN does."""
    asked: list[str] = []

    async def resolve(host: str, port: int, kind: socket.SocketKind) -> list[IPAddress]:
        asked.append(host)
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(a) for a in names[host]]

    # A function attribute: what the resolver was asked, for the test to read.
    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


# --- SIP registration -----------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_right_password_registers_and_removes_its_binding(
    kamailio: Start, certificates: TlsCertificates, transport: SipTransport, algorithm: str
) -> None:
    registrar = kamailio(users=USERS, algorithm=algorithm)
    # Another device of the number's user is registered already: the check must leave it alone.
    registrar.add_contact("alice", "sip:alice@192.0.2.7:5060")
    result = without_secrets(await check(registration(registrar, transport), options(certificates)))
    assert (result.state, result.sip_status_code) == (HealthState.OK, 200), result.detail
    assert f"({algorithm})" in result.detail and "binding was removed" in result.detail
    assert result.latency_ms is not None and result.latency_ms >= 0
    stored = [e for e in registrar.events() if "store" in e]
    assert [(e["store"], e["au"], e["expires"]) for e in stored] == [("alice", "alice", "60"), ("alice", "alice", "0")]
    assert {e["proto"] for e in registrar.events() if "method" in e} == {transport.value}
    assert registrar.contacts("alice") == ["sip:alice@192.0.2.7:5060"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_next_check_answers_the_registrars_last_challenge_at_once(
    kamailio: Start, certificates: TlsCertificates, transport: SipTransport
) -> None:
    """Kamailio takes a nonce it issued to an earlier check (qop=auth, a rising nc): two REGISTERs, not three."""
    registrar = kamailio(users=USERS)
    first = without_secrets(await check(registration(registrar, transport), options(certificates)))
    sent_by_first = len([e for e in registrar.events() if "method" in e])
    second = without_secrets(await check(registration(registrar, transport), options(certificates)))
    assert (first.state, second.state, second.sip_status_code) == (HealthState.OK, HealthState.OK, 200), second.detail
    requests = [e for e in registrar.events() if "method" in e]
    assert (sent_by_first, len(requests) - sent_by_first) == (3, 2)
    # Both of the second check's REGISTERs carried credentials Kamailio took: each was stored.
    assert all(e["au"] == "alice" for e in requests[sent_by_first:])
    stored = [(e["store"], e["expires"]) for e in registrar.events() if "store" in e]
    assert stored == [("alice", "60"), ("alice", "0")] * 2


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_wrong_password_is_auth_failed(
    kamailio: Start, certificates: TlsCertificates, transport: SipTransport
) -> None:
    registrar = kamailio(users=USERS)
    wrong = "pw-Wrong-91ab03cd"
    SWEEP.add_secret(wrong)
    result = without_secrets(await check(registration(registrar, transport, password=wrong), options(certificates)))
    assert (result.state, result.sip_status_code) == (HealthState.AUTH_FAILED, 401), result.detail
    assert wrong not in result.detail
    assert registrar.contacts("alice") == []


async def test_the_auth_user_not_the_username_answers_the_challenge(
    kamailio: Start, certificates: TlsCertificates
) -> None:
    registrar = kamailio(users=USERS)
    target = registration(registrar, username=NUMBER, auth_user="authid", password=AUTH_PASSWORD)
    result = without_secrets(await check(target, options(certificates)))
    assert result.state is HealthState.OK, result.detail
    assert "digest credentials for 'authid'" in result.detail
    assert [(e["store"], e["au"]) for e in registrar.events() if "store" in e] == [
        (NUMBER, "authid"),
        (NUMBER, "authid"),
    ]
    wire = registrar.wire_with('username="authid"', f"To: <sip:{NUMBER}@127.0.0.1>")
    assert 'username="authid"' in wire and f"To: <sip:{NUMBER}@127.0.0.1>" in wire
    registrar.stop()
    # Without the auth user the number itself would be the digest username, which Kamailio doesn't know.
    registrar.start()
    result = await check(dataclasses.replace(target, auth_user=None), options(certificates))
    assert (result.state, result.sip_status_code) == (HealthState.AUTH_FAILED, 401)


async def test_registering_an_address_the_credentials_do_not_own_is_auth_failed_403(
    kamailio: Start, certificates: TlsCertificates
) -> None:
    registrar = kamailio(users=USERS)
    result = await check(
        registration(registrar, username="+14155550999", auth_user="authid", password=AUTH_PASSWORD),
        options(certificates),
    )
    assert (result.state, result.sip_status_code) == (HealthState.AUTH_FAILED, 403)
    assert "403 Forbidden auth ID" in result.detail


async def test_a_refusal_other_than_credentials_is_rejected_with_its_code(
    kamailio: Start, certificates: TlsCertificates
) -> None:
    registrar = kamailio(users=USERS, rejects={"alice": (404, "Not Found")})
    result = await check(registration(registrar), options(certificates))
    assert (result.state, result.sip_status_code) == (HealthState.REJECTED, 404)
    assert result.detail.endswith("was answered 404 Not Found.")


async def test_interval_too_brief_is_retried_with_the_registrars_minimum(
    kamailio: Start, certificates: TlsCertificates
) -> None:
    registrar = kamailio(users=USERS, min_expires=120, reply_423=True)
    result = await check(registration(registrar), options(certificates))
    assert (result.state, result.sip_status_code) == (HealthState.OK, 200), result.detail
    # The first REGISTER asked for 60 s and got 423; the check asked again for 120 s, then removed it.
    assert [e["expires"] for e in registrar.events() if "store" in e] == ["60", "120", "0"]
    wire = registrar.wire_with("SIP/2.0 423 Interval Too Brief", "Min-Expires: 120")
    assert "SIP/2.0 423 Interval Too Brief" in wire and "Min-Expires: 120" in wire


@pytest.mark.parametrize("transport", [SipTransport.UDP, SipTransport.TCP])
async def test_an_outbound_proxy_takes_the_register_for_the_registrar(
    kamailio: Start, certificates: TlsCertificates, transport: SipTransport
) -> None:
    registrar = kamailio(users=USERS)
    proxy = kamailio(users=USERS, outbound_proxy=True, forward={"registrar.test": registrar.port})
    # Only the outbound proxy is resolved and connected to; it routes the registrar's domain itself.
    target = registration(registrar, transport, proxy="registrar.test", outbound_proxy="127.0.0.1", port=proxy.port)
    result = without_secrets(await check(target, options(certificates, resolver=resolver_for({}))))
    assert (result.state, result.sip_status_code) == (HealthState.OK, 200), result.detail
    assert result.detail.startswith(
        f"REGISTER of alice@registrar.test sent through the outbound proxy at 127.0.0.1:{proxy.port} over {transport.value.upper()}"
    )
    assert [(e["store"], e["expires"]) for e in registrar.events() if "store" in e] == [("alice", "60"), ("alice", "0")]
    assert {e["ruri"] for e in proxy.events() if "ruri" in e} == {
        f"sip:registrar.test:{proxy.port}" + _transport_parameter(transport)
    }
    # Challenged by both: the proxy's 407 and the registrar's 401, relayed; each answered.
    expected = [
        f'Proxy-Authenticate: Digest realm="{PROXY_REALM}"',
        f'WWW-Authenticate: Digest realm="{REGISTRAR_REALM}"',
        f"Route: <sip:127.0.0.1:{proxy.port}",
        f'Proxy-Authorization: Digest username="alice", realm="{PROXY_REALM}"',
    ]
    wire = proxy.wire_with(*expected)
    assert [text for text in expected if text not in wire] == []
    assert registrar.contacts("alice") == []


def _transport_parameter(transport: SipTransport) -> str:
    return "" if transport is SipTransport.UDP else f";transport={transport.value}"


# --- unreachable ------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_closed_port_is_unreachable(certificates: TlsCertificates, transport: SipTransport) -> None:
    port = _closed_port()
    target = SipRegistrationTarget(NUMBER, "alice", PASSWORD, "127.0.0.1", None, None, port, transport)
    result = without_secrets(await check(target, options(certificates)))
    assert (result.state, result.sip_status_code, result.latency_ms) == (HealthState.UNREACHABLE, None, None)
    assert result.detail.endswith("the connection was refused.")


async def test_no_answer_is_unreachable_within_the_timeout(certificates: TlsCertificates) -> None:
    async with UdpStandin(lambda request: []) as silent:
        target = SipRegistrationTarget(
            NUMBER, "alice", PASSWORD, "127.0.0.1", None, None, silent.port, SipTransport.UDP
        )
        result = await check(target, options(certificates, timeout=1.0))
    assert result.state is HealthState.UNREACHABLE
    assert result.detail.startswith(
        f"No answer within 1 s to REGISTER of alice@127.0.0.1 sent to 127.0.0.1:{silent.port} over UDP"
    )
    assert silent.requests, "the REGISTER was sent"


async def test_a_dns_failure_is_unreachable_and_says_so(certificates: TlsCertificates) -> None:
    target = SipRegistrationTarget(
        NUMBER, "alice", PASSWORD, "pbx.does-not-exist.test", None, None, 5060, SipTransport.UDP
    )
    result = await check(target, options(certificates, resolver=resolver_for({})))
    assert result.state is HealthState.UNREACHABLE
    assert result.detail == "The DNS lookup of registrar 'pbx.does-not-exist.test' failed (Name or service not known)."


async def test_a_dns_lookup_without_an_answer_is_unreachable_within_the_timeout(certificates: TlsCertificates) -> None:
    async def hanging(host: str, port: int, kind: socket.SocketKind) -> list[IPAddress]:
        await asyncio.sleep(60)
        return []

    target = SipRegistrationTarget(NUMBER, "alice", PASSWORD, "pbx.example.test", None, None, 5060, SipTransport.UDP)
    result = await check(target, options(certificates, timeout=0.5, resolver=hanging))
    assert result.state is HealthState.UNREACHABLE
    assert result.detail == "No answer within 0.5 s to the DNS lookup of registrar 'pbx.example.test'."


async def test_a_connection_never_established_is_unreachable_within_the_timeout(certificates: TlsCertificates) -> None:
    with socket.socket() as full, socket.socket() as first:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        first.connect(full.getsockname())  # fills the accept queue: later SYNs go unanswered
        port = full.getsockname()[1]
        target = SipRegistrationTarget(NUMBER, "alice", PASSWORD, "127.0.0.1", None, None, port, SipTransport.TCP)
        result = await check(target, options(certificates, timeout=0.5))
    assert result.state is HealthState.UNREACHABLE
    assert result.detail == (
        f"No answer within 0.5 s to REGISTER of alice@127.0.0.1 sent to 127.0.0.1:{port} over TCP: "
        "the connection was not established."
    )


async def test_a_name_is_resolved_once_and_its_checked_address_is_the_one_connected(
    kamailio: Start, certificates: TlsCertificates
) -> None:
    registrar = kamailio(users=USERS)
    # Only the check's resolver knows this name: connecting by name would fail the DNS lookup.
    resolver = resolver_for({"kamailio.test": ["127.0.0.1"]})
    for transport in (SipTransport.UDP, SipTransport.TLS):
        target = registration(registrar, transport, proxy="kamailio.test")
        result = await check(target, options(certificates, resolver=resolver))
        assert result.state is HealthState.OK, result.detail
        assert "kamailio.test (127.0.0.1)" in result.detail
    # The attribute the stand-in resolver keeps (see above).
    assert resolver.asked == ["kamailio.test", "kamailio.test"]  # type: ignore[attr-defined]


async def test_tls_verifies_the_certificate_against_the_host_name(
    kamailio: Start, certificates: TlsCertificates
) -> None:
    registrar = kamailio(users=USERS)
    resolver = resolver_for({"kamailio.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    untrusted = await check(registration(registrar, SipTransport.TLS), CheckOptions(allow_local_targets=True))
    assert untrusted.state is HealthState.UNREACHABLE
    assert "the TLS handshake failed: unable to get local issuer certificate" in untrusted.detail
    wrong_name = await check(
        registration(registrar, SipTransport.TLS, proxy="other.test"), options(certificates, resolver=resolver)
    )
    assert wrong_name.state is HealthState.UNREACHABLE
    assert "the TLS handshake failed: Hostname mismatch" in wrong_name.detail
    assert [e for e in registrar.events() if "method" in e] == []


# --- targets the rules refuse ------------------------------------------------------------


@pytest.mark.parametrize(
    "host, names, refused",
    [
        ("127.0.0.1", {}, "registrar '127.0.0.1' is a loopback address"),
        (
            "pbx.example.test",
            {"pbx.example.test": ["192.0.2.10", "127.0.0.1"]},
            "resolves to 127.0.0.1, a loopback address",
        ),
        ("pbx.example.test", {"pbx.example.test": ["::ffff:127.0.0.1"]}, "a loopback address"),
        ("pbx.example.test", {"pbx.example.test": ["169.254.169.254"]}, "a link-local address"),
        ("pbx.example.test", {"pbx.example.test": ["0.0.0.0"]}, "an unspecified address"),
    ],
)
async def test_targets_the_rules_refuse_get_no_packet(
    certificates: TlsCertificates, host: str, names: dict[str, list[str]], refused: str
) -> None:
    async with UdpStandin(lambda request: []) as listener:
        target = SipRegistrationTarget(NUMBER, "alice", PASSWORD, host, None, None, listener.port, SipTransport.UDP)
        result = await check(target, CheckOptions(timeout=1.0, resolver=resolver_for(names)))
    assert result.state is HealthState.UNREACHABLE
    assert (
        result.detail.startswith("Not checked: ")
        and refused in result.detail
        and result.detail.endswith("Nothing was sent.")
    )
    assert listener.requests == []


async def test_an_outbound_proxy_on_a_refused_address_gets_no_packet(certificates: TlsCertificates) -> None:
    async with UdpStandin(lambda request: []) as listener:
        target = SipRegistrationTarget(
            NUMBER, "alice", PASSWORD, "pbx.example.test", "127.0.0.1", None, listener.port, SipTransport.UDP
        )
        result = await check(target, CheckOptions(timeout=1.0, resolver=resolver_for({})))
    assert "outbound proxy '127.0.0.1' is a loopback address" in result.detail
    assert listener.requests == []


async def test_an_allowlisted_pbx_on_a_refused_address_gets_no_packet() -> None:
    async with UdpStandin(lambda request: []) as listener:
        result = await check(
            SipAllowlistTarget(NUMBER, "127.0.0.1", listener.port, SipTransport.UDP), CheckOptions(timeout=1.0)
        )
    assert result.state is HealthState.UNREACHABLE and "PBX address '127.0.0.1' is a loopback address" in result.detail
    assert listener.requests == []


# --- SIP IP allowlist --------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_options_to_kamailio_is_ok(
    kamailio: Start, certificates: TlsCertificates, transport: SipTransport
) -> None:
    registrar = kamailio(users=USERS)
    target = SipAllowlistTarget(NUMBER, "127.0.0.1", port_of(registrar, transport), transport)
    result = await check(target, options(certificates))
    assert (result.state, result.sip_status_code) == (HealthState.OK, 200), result.detail
    assert [e["method"] for e in registrar.events()] == ["OPTIONS"]


async def test_options_to_a_stopped_kamailio_is_unreachable_and_ok_again_once_restarted(
    kamailio: Start, certificates: TlsCertificates
) -> None:
    registrar = kamailio(users=USERS)
    target = SipAllowlistTarget(NUMBER, "127.0.0.1", registrar.port, SipTransport.UDP)
    registrar.stop()
    stopped = await check(target, options(certificates, timeout=1.0))
    assert stopped.state is HealthState.UNREACHABLE
    registrar.start()
    assert (await check(target, options(certificates))).state is HealthState.OK


# --- Twilio ------------------------------------------------------------------------------


@pytest.fixture
def twilio(certificates: TlsCertificates) -> Iterator[tuple[TwilioStandin, str]]:
    standin = TwilioStandin({TWILIO_SID: Account(TWILIO_TOKEN, [NUMBER, "+14155550124"])})
    with serving(standin, certificates) as port:
        yield standin, f"https://twilio.test:{port}"
    for request in standin.requests:
        SWEEP.add_text("twilio stand-in request", request.path, repr(request))


def twilio_options(certificates: TlsCertificates, url: str, **overrides: Any) -> CheckOptions:
    return options(certificates, twilio_api_url=url, resolver=resolver_for({"twilio.test": ["127.0.0.1"]}), **overrides)


async def test_twilio_number_in_the_account_is_ok(
    twilio: tuple[TwilioStandin, str], certificates: TlsCertificates
) -> None:
    standin, url = twilio
    result = without_secrets(
        await check(TwilioTarget(NUMBER, TWILIO_SID, TWILIO_TOKEN), twilio_options(certificates, url))
    )
    assert result.state is HealthState.OK, result.detail
    assert result.sip_status_code is None and result.latency_ms is not None
    (seen,) = standin.requests
    assert seen.path == f"/2010-04-01/Accounts/{TWILIO_SID}/IncomingPhoneNumbers.json"
    assert "PhoneNumber=%2B14155550123" in seen.query
    assert seen.host == url.removeprefix("https://")  # the name, though the connection went to 127.0.0.1


async def test_twilio_number_not_in_the_account_is_rejected(
    twilio: tuple[TwilioStandin, str], certificates: TlsCertificates
) -> None:
    _, url = twilio
    # +1415555012 partially matches both numbers of the account: only an exact match counts.
    for number in ("+14155550199", "+1415555012"):
        result = await check(TwilioTarget(number, TWILIO_SID, TWILIO_TOKEN), twilio_options(certificates, url))
        assert result.state is HealthState.REJECTED
        assert result.detail.endswith(f"{number} is not a number of this Twilio account.")


async def test_twilio_wrong_token_is_auth_failed(
    twilio: tuple[TwilioStandin, str], certificates: TlsCertificates
) -> None:
    _, url = twilio
    wrong = "tok-Wrong-44be1f0a9c"
    SWEEP.add_secret(wrong)
    result = await check(TwilioTarget(NUMBER, TWILIO_SID, wrong), twilio_options(certificates, url))
    assert result.state is HealthState.AUTH_FAILED
    assert "answered 401" in result.detail and wrong not in result.detail


@pytest.mark.parametrize(
    "status, body, headers, state, said",
    [
        (503, b"down", {}, HealthState.UNREACHABLE, "a server error"),
        (
            302,
            b"",
            {"Location": "http://127.0.0.2/elsewhere"},
            HealthState.UNREACHABLE,
            "a redirect, which is not followed",
        ),
        (200, b"<html>not json</html>", {}, HealthState.UNREACHABLE, "not with the documented JSON"),
        (200, b'{"incoming_phone_numbers": "nope"}', {}, HealthState.UNREACHABLE, "not with the documented JSON"),
        (200, b"{}", {"Content-Encoding": "gzip"}, HealthState.UNREACHABLE, "not with the documented JSON"),
        (404, b"{}", {}, HealthState.REJECTED, "answered 404"),
    ],
)
async def test_twilio_other_answers(
    twilio: tuple[TwilioStandin, str],
    certificates: TlsCertificates,
    status: int,
    body: bytes,
    headers: dict[str, str],
    state: HealthState,
    said: str,
) -> None:
    standin, url = twilio
    standin.override = (status, body, headers)
    result = await check(TwilioTarget(NUMBER, TWILIO_SID, TWILIO_TOKEN), twilio_options(certificates, url))
    assert result.state is state and said in result.detail
    assert len(standin.requests) == 1


async def test_twilio_too_large_an_answer_is_not_read_whole(
    twilio: tuple[TwilioStandin, str], certificates: TlsCertificates
) -> None:
    standin, url = twilio
    standin.override = (200, b'{"incoming_phone_numbers": [' + b'{"phone_number": "+1"},' * 60_000 + b"{}]}", {})
    result = await check(TwilioTarget(NUMBER, TWILIO_SID, TWILIO_TOKEN), twilio_options(certificates, url))
    assert result.state is HealthState.UNREACHABLE and "not with the documented JSON" in result.detail


async def test_twilio_unreachable_and_untrusted(certificates: TlsCertificates) -> None:
    closed = f"https://twilio.test:{_closed_port()}"
    result = await check(TwilioTarget(NUMBER, TWILIO_SID, TWILIO_TOKEN), twilio_options(certificates, closed))
    assert result.state is HealthState.UNREACHABLE and result.detail.endswith("the connection was refused.")
    standin = TwilioStandin({})
    with serving(standin, certificates) as port:
        untrusted = CheckOptions(allow_local_targets=True, twilio_api_url=f"https://127.0.0.1:{port}")
        result = await check(TwilioTarget(NUMBER, TWILIO_SID, TWILIO_TOKEN), untrusted)
    assert result.state is HealthState.UNREACHABLE and "the TLS handshake failed" in result.detail
    assert standin.requests == []


async def test_twilio_silence_is_unreachable_within_the_timeout(certificates: TlsCertificates) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections, never answers
        url = f"https://twilio.test:{silent.getsockname()[1]}"
        result = await check(
            TwilioTarget(NUMBER, TWILIO_SID, TWILIO_TOKEN), twilio_options(certificates, url, timeout=1.0)
        )
    assert result.state is HealthState.UNREACHABLE
    assert result.detail.startswith(f"No answer within 1 s to the lookup of {NUMBER} in account {TWILIO_SID}")


async def test_twilio_on_a_refused_address_gets_no_request(
    twilio: tuple[TwilioStandin, str], certificates: TlsCertificates
) -> None:
    standin, url = twilio
    refused = dataclasses.replace(twilio_options(certificates, url), allow_local_targets=False)
    result = await check(TwilioTarget(NUMBER, TWILIO_SID, TWILIO_TOKEN), refused)
    assert result.state is HealthState.UNREACHABLE
    assert result.detail == (
        "Not checked: Twilio's API host 'twilio.test' resolves to 127.0.0.1, a loopback address, "
        "which is not allowed as a target. Nothing was sent."
    )
    assert standin.requests == []


# --- providers without a check -----------------------------------------------------------


@pytest.mark.parametrize("provider, name", [(Provider.VOXIMPLANT, "Voximplant"), (Provider.JAMBONZ, "jambonz")])
async def test_voximplant_and_jambonz_are_unsupported(provider: Provider, name: str) -> None:
    result = await check(UncheckableTarget(NUMBER, provider), CheckOptions())
    assert (result.state, result.sip_status_code, result.latency_ms) == (HealthState.UNSUPPORTED, None, None)
    assert result.detail.startswith(f"{name} numbers can't be checked") and "Nothing was sent" in result.detail


# --- targets from stored rows and unsaved configurations ----------------------------------


async def test_a_stored_number_is_checked_with_its_decrypted_password(
    settings: Settings, kamailio: Start, certificates: TlsCertificates
) -> None:
    registrar = kamailio(users=USERS)
    local = dataclasses.replace(settings, allow_local_targets=True)
    async with running_app(local) as app, api_client(app) as api:
        provider = {
            "sip": {
                "registration": {
                    "username": "alice",
                    "password": PASSWORD,
                    "proxy": "127.0.0.1",
                    "port": registrar.port,
                }
            }
        }
        created = (await api.gql(CREATE_PHONE_NUMBER, {"input": {"number": NUMBER, "provider": provider}}))[
            "createPhoneNumber"
        ]
        assert created["userErrors"] == []
        row = await PhoneNumber.get(id=created["phoneNumber"]["id"])
        box = SecretBox(local.encryption_keys)
        target = target_for_row(row, box)
        assert PASSWORD not in repr(target)
        assert (await check(target, options(certificates))).state is HealthState.OK

        # An update's patch: the given columns over the stored ones, the stored password opened when not given.
        errors = Errors()
        new_password = _config_columns(errors, SipRegistrationConfigInput(password="pw-Changed-5e6f7a8b"), row, LOCAL)
        SWEEP.add_secret("pw-Changed-5e6f7a8b")
        assert not errors and set(new_password) == {"sip_password"}
        changed = await check(
            target_for_configuration(NUMBER, new_password, current=row, box=box), options(certificates)
        )
        assert changed.state is HealthState.AUTH_FAILED
        new_transport = _config_columns(
            errors, SipRegistrationConfigInput(register_transport=SipTransport.TCP), row, LOCAL
        )
        same_password = await check(
            target_for_configuration(NUMBER, new_transport, current=row, box=box), options(certificates)
        )
        assert same_password.state is HealthState.OK and "over TCP" in same_password.detail


async def test_an_unsaved_configuration_is_checked_as_given(kamailio: Start, certificates: TlsCertificates) -> None:
    registrar = kamailio(users=USERS)
    errors = Errors()
    config = SipRegistrationConfigInput(
        username=NUMBER, password=AUTH_PASSWORD, proxy="127.0.0.1", auth_user="authid", port=registrar.port
    )
    columns = _config_columns(errors, config, None, LOCAL)
    assert not errors
    target = target_for_configuration(NUMBER, columns)
    assert target == SipRegistrationTarget(
        NUMBER, NUMBER, AUTH_PASSWORD, "127.0.0.1", None, "authid", registrar.port, SipTransport.UDP
    )
    assert (await check(target, options(certificates))).state is HealthState.OK

"""The minimal SIP client: reading responses robustly, building requests safely, and behaving
against scripted servers on 127.0.0.1 that do what Kamailio never would (several challenges,
silence, garbage, floods, split TCP writes, a stale nonce)."""

from __future__ import annotations

import asyncio
import hashlib
import re

import pytest

from models import SipTransport
from models.health import HealthState
from resolvers.verification import (
    CheckOptions,
    CheckResult,
    SipAllowlistTarget,
    SipRegistrationTarget,
    check,
)
from resolvers.verification.sip import (
    MalformedMessage,
    build_request,
    parse_response,
    sip_uri,
)
from tests.support.secret_sweep import SWEEP
from tests.support.sip_standin import Chunk, Request, Script, TcpStandin, UdpStandin, reply

PASSWORD = "pw-Scripted-7c1e94"
SWEEP.add_secret(PASSWORD)
LOCAL = CheckOptions(allow_local_targets=True, timeout=2.0)


def target(port: int, transport: SipTransport = SipTransport.UDP, **overrides: object) -> SipRegistrationTarget:
    values: dict[str, object] = dict(
        number="+14155550123",
        username="alice",
        password=PASSWORD,
        proxy="127.0.0.1",
        outbound_proxy=None,
        auth_user=None,
        port=port,
        transport=transport,
    )
    values.update(overrides)
    # values is a dict of mixed types, each right for its field.
    return SipRegistrationTarget(**values)  # type: ignore[arg-type]


def digest_params(header: str) -> dict[str, str]:
    return {k: (q if q else t) for k, q, t in re.findall(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))', header)}


def digest_is_right(authorization: str, password: str, method: str = "REGISTER") -> bool:
    """The server's side of RFC 7616 §3.4.1, written independently of the client."""
    p = digest_params(authorization)
    hashes = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
    h = hashes[p.get("algorithm", "MD5").upper()]

    def H(text: str) -> str:
        return h(text.encode()).hexdigest()

    ha1, ha2 = H(f"{p['username']}:{p['realm']}:{password}"), H(f"{method}:{p['uri']}")
    expected = (
        H(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:{p['qop']}:{ha2}")
        if "qop" in p
        else H(f"{ha1}:{p['nonce']}:{ha2}")
    )
    return p["response"] == expected


def challenge(algorithm: str = "MD5", realm: str = "scripted.test", nonce: str = "n0nce", extra: str = "") -> str:
    return f'WWW-Authenticate: Digest realm="{realm}", nonce="{nonce}", qop="auth", algorithm={algorithm}{extra}'


def registrar(*challenges: str) -> Script:
    """Challenges a REGISTER without credentials; 200 for right ones, 401 again for wrong ones."""

    def script(request: Request) -> list[Chunk]:
        authorization = request.header("Authorization")
        if not authorization:
            return [reply(request, 401, "Unauthorized", *(challenges or (challenge(),)))]
        if digest_is_right(authorization[0], PASSWORD):
            return [reply(request, 200, "OK", "Expires: 60")]
        return [reply(request, 401, "Unauthorized", *(challenges or (challenge(),)))]

    return script


def secret_free(result: CheckResult) -> CheckResult:
    assert PASSWORD not in result.detail
    return result


# --- reading responses ------------------------------------------------------------


def test_folded_headers_compact_forms_and_lf_only_lines_are_read() -> None:
    raw = (
        b"SIP/2.0 401 Unauthorized\n"
        b"v: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc\n"
        b"i: call-1\n"
        b'WWW-Authenticate: Digest realm="r",\n'
        b'\t nonce="n"\n'
        b'WWW-Authenticate: Digest realm="r", nonce="m", algorithm=SHA-256\n'
        b"l: 4\n\nbodyEXTRA"
    )
    response = parse_response(raw)
    assert response.status == 401 and response.reason == "Unauthorized"
    assert response.first("via") == "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc"
    assert response.first("call-id") == "call-1"
    assert response.all("www-authenticate") == [
        'Digest realm="r", nonce="n"',
        'Digest realm="r", nonce="m", algorithm=SHA-256',
    ]
    assert response.body == b"body"


@pytest.mark.parametrize(
    "raw, problem",
    [
        (b"HTTP/1.1 200 OK\r\n\r\n", "not a SIP response"),
        (b"SIP/2.0 200 OK\r\nContent-Length: 10\r\n\r\nshort", "shorter than its Content-Length"),
        (b"SIP/2.0 200 OK\r\nContent-Length: 1\r\nl: 2\r\n\r\nab", "invalid Content-Length"),
        (b"SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
        (b"SIP/2.0 200 OK\r\n folded-first\r\n\r\n", "continuation line"),
        (b"SIP/2.0 200 OK\r\nBad Header: x\r\n\r\n", "malformed header line"),
        (b"SIP/2.0 200 OK\r\nVia: x\r\n", "blank line"),
        (b"SIP/2.0 200 OK\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", "more than 100 header lines"),
        (b"SIP/2.0 200 OK\r\n\r\n" + b"x" * 70_000, "larger than 64 KiB"),
        (b"SIP/2.0 999 Nope\r\n\r\n", "not a SIP response"),
        ("SIP/2.0 200 OK\r\nContent-Length: \u00b2\r\n\r\n".encode(), "invalid Content-Length"),
        (
            b'SIP/2.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm="r", nonce="a\rVia: x"\r\n\r\n',
            "control character",
        ),
        (b"SIP/2.0 200 OK\r\nX-Nul: a\x00b\r\n\r\n", "control character"),
    ],
)
def test_malformed_responses_are_refused_with_a_reason(raw: bytes, problem: str) -> None:
    with pytest.raises(MalformedMessage, match=problem):
        parse_response(raw)


def test_reason_phrases_are_trimmed_and_stripped_of_control_characters() -> None:
    response = parse_response(b"SIP/2.0 488 Not \x1b[31mhere" + b"!" * 300 + b"\r\n\r\n")
    assert "\x1b" not in response.summary
    assert len(response.summary) <= 4 + 100


# --- building requests ------------------------------------------------------------


@pytest.mark.parametrize("value", ["alice\r\nVia: SIP/2.0/UDP evil", "a\nb", "nul\x00"])
def test_header_values_with_line_breaks_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        build_request("REGISTER", "sip:r", [("From", f"<sip:{value}@r>")])


def test_user_parts_are_escaped_and_ipv6_hosts_bracketed() -> None:
    assert sip_uri("pbx.example.com", user="+1415 <x>@y") == "sip:+1415%20%3Cx%3E%40y@pbx.example.com"
    assert sip_uri("2001:db8::1", 5080, transport=SipTransport.TCP) == "sip:[2001:db8::1]:5080;transport=tcp"
    assert sip_uri("pbx", user="ü") == "sip:%C3%BC@pbx"


# --- against scripted servers -------------------------------------------------------


async def test_the_strongest_of_several_challenges_is_answered() -> None:
    async with UdpStandin(registrar(challenge("MD5", nonce="a"), challenge("SHA-256", nonce="b"))) as server:
        result = secret_free(await check(target(server.port), LOCAL))
    assert result.state is HealthState.OK and result.sip_status_code == 200
    answered = [r.header("Authorization")[0] for r in server.requests if r.header("Authorization")]
    assert answered and all(
        digest_params(a)["algorithm"] == "SHA-256" and digest_params(a)["nonce"] == "b" for a in answered
    )
    assert "(SHA-256)" in result.detail


async def test_the_binding_is_removed_with_expires_zero_for_the_same_contact_only() -> None:
    async with UdpStandin(registrar()) as server:
        result = await check(target(server.port), LOCAL)
    assert result.state is HealthState.OK
    authenticated = [r for r in server.requests if r.header("Authorization")]
    assert [r.expires for r in authenticated] == ["60", "0"]
    contacts = {r.header("Contact")[0] for r in authenticated}
    assert len(contacts) == 1 and "*" not in contacts.pop()
    assert len({r.header("Call-ID")[0] for r in server.requests}) == 1
    assert "binding was removed" in result.detail


async def test_wrong_password_is_auth_failed_after_one_answer() -> None:
    async with UdpStandin(registrar()) as server:
        result = secret_free(await check(target(server.port, password="not-the-password"), LOCAL))
    assert (result.state, result.sip_status_code) == (HealthState.AUTH_FAILED, 401)
    assert len(server.requests) == 2  # the first REGISTER and one answer: no guessing loop


async def test_a_stale_nonce_is_answered_again_not_taken_for_a_wrong_password() -> None:
    def script(request: Request) -> list[Chunk]:
        if request.index == 0:
            return [reply(request, 401, "Unauthorized", challenge(nonce="first"))]
        if request.index == 1:
            return [reply(request, 401, "Unauthorized", challenge(nonce="second", extra=", stale=true"))]
        authorization = request.header("Authorization")[0]
        assert digest_params(authorization)["nonce"] == "second" and digest_is_right(authorization, PASSWORD)
        return [reply(request, 200, "OK")]

    async with UdpStandin(script) as server:
        result = await check(target(server.port), LOCAL)
    assert result.state is HealthState.OK


async def test_a_challenge_that_cannot_be_answered_is_rejected_saying_why() -> None:
    async with UdpStandin(lambda r: [reply(r, 401, "Unauthorized", 'WWW-Authenticate: Basic realm="x"')]) as server:
        result = await check(target(server.port), LOCAL)
    assert (result.state, result.sip_status_code) == (HealthState.REJECTED, 401)
    assert "Basic authentication scheme" in result.detail
    assert len(server.requests) == 1


async def test_a_nonce_with_a_line_break_is_never_echoed() -> None:
    async with TcpStandin(
        lambda r: [reply(r, 401, "Unauthorized", 'WWW-Authenticate: Digest realm="r", nonce="n\rInjected: 1"')]
    ) as server:
        result = await check(target(server.port, SipTransport.TCP), LOCAL)
    assert result.state is HealthState.UNREACHABLE and "control character in a header" in result.detail
    assert len(server.requests) == 1


async def test_an_unreadable_min_expires_is_a_rejection_not_a_crash() -> None:
    async with UdpStandin(lambda r: [reply(r, 423, "Interval Too Brief", "Min-Expires: \u00b2")]) as server:
        result = await check(target(server.port), LOCAL)
    assert (result.state, result.sip_status_code) == (HealthState.REJECTED, 423)
    assert len(server.requests) == 1


async def test_interval_too_brief_beyond_an_hour_is_not_retried() -> None:
    async with UdpStandin(lambda r: [reply(r, 423, "Interval Too Brief", "Min-Expires: 7200")]) as server:
        result = await check(target(server.port), LOCAL)
    assert (result.state, result.sip_status_code) == (HealthState.REJECTED, 423)
    assert len(server.requests) == 1


async def test_403_is_auth_failed() -> None:
    async with UdpStandin(lambda r: [reply(r, 403, "Forbidden")]) as server:
        result = await check(target(server.port), LOCAL)
    assert (result.state, result.sip_status_code) == (HealthState.AUTH_FAILED, 403)


@pytest.mark.parametrize("status", [404, 488, 503, 604])
async def test_other_final_failures_are_rejected_with_their_code(status: int) -> None:
    async with UdpStandin(lambda r: [reply(r, status, "Nope")]) as server:
        result = await check(target(server.port), LOCAL)
    assert (result.state, result.sip_status_code) == (HealthState.REJECTED, status)


async def test_silence_is_unreachable_after_retransmissions_within_the_timeout() -> None:
    async with UdpStandin(lambda r: []) as server:
        result = await check(target(server.port), CheckOptions(allow_local_targets=True, timeout=1.2))
    assert result.state is HealthState.UNREACHABLE and result.sip_status_code is None
    assert result.detail.startswith("No answer within 1.2 s to REGISTER of alice@127.0.0.1")
    # Timer E: sent at 0 and 0.5 s (then 1.5 s, past the deadline), the same request each time.
    assert len(server.requests) >= 2
    assert len({r.raw for r in server.requests}) == 1


async def test_a_provisional_answer_alone_is_unreachable_and_said() -> None:
    async with UdpStandin(lambda r: [reply(r, 100, "Trying")] if r.index == 0 else []) as server:
        result = await check(target(server.port), CheckOptions(allow_local_targets=True, timeout=1.0))
    assert result.state is HealthState.UNREACHABLE
    assert "provisional 100 Trying" in result.detail


async def test_garbage_and_answers_to_other_requests_are_ignored() -> None:
    def script(request: Request) -> list[Chunk]:
        real = registrar()(request)[0]
        assert isinstance(real, bytes)
        other_branch = re.sub(rb"branch=z9hG4bK[0-9a-f]+", b"branch=z9hG4bKother", real)
        wrong_cseq = re.sub(rb"CSeq: \d+", b"CSeq: 999", reply(request, 403, "Forbidden"))
        return [b"\x00\xffnot sip at all", other_branch.replace(b"200 OK", b"403 Forbidden"), wrong_cseq, real]

    async with UdpStandin(script) as server:
        result = await check(target(server.port), LOCAL)
    assert (result.state, result.sip_status_code) == (HealthState.OK, 200)


async def test_a_flood_of_datagrams_is_bounded() -> None:
    async with UdpStandin(lambda r: [b"SIP/2.0 100 Trying\r\n\r\n"] * 200) as server:
        result = await check(target(server.port), CheckOptions(allow_local_targets=True, timeout=1.0))
    assert result.state is HealthState.UNREACHABLE
    assert "more than 64 datagrams" in result.detail


async def test_a_reason_phrase_holding_the_password_is_redacted() -> None:
    async with UdpStandin(lambda r: [reply(r, 403, f"Forbidden {PASSWORD}")]) as server:
        result = await check(target(server.port), LOCAL)
    assert result.state is HealthState.AUTH_FAILED
    assert PASSWORD not in result.detail and "[redacted]" in result.detail


async def test_tcp_framing_survives_split_writes_keepalives_and_a_body() -> None:
    def script(request: Request) -> list[Chunk]:
        if not request.header("Authorization"):
            raw = reply(request, 401, "Unauthorized", challenge(), body=b"a body", length=6)
        else:
            raw = reply(request, 200, "OK", "X-Folded: one,\r\n two")
        return [[b"\r\n\r\n"] + [raw[i : i + 7] for i in range(0, len(raw), 7)]]

    async with TcpStandin(script) as server:
        result = await check(target(server.port, SipTransport.TCP), LOCAL)
    assert (result.state, result.sip_status_code) == (HealthState.OK, 200)
    assert server.requests[0].text.startswith("REGISTER sip:127.0.0.1:") and "SIP/2.0/TCP" in server.requests[0].text


@pytest.mark.parametrize(
    "answer, problem",
    [
        (b"SIP/2.0 200 OK\r\nX-Big: " + b"x" * 70_000, "head larger than 64 KiB"),
        (b"SIP/2.0 200 OK\r\nContent-Length: 9999999\r\n\r\n", "invalid Content-Length"),
        (b"SIP/2.0 200 OK\r\nContent-Length: 60000\r\nX: " + b"y" * 10_000 + b"\r\n\r\n", "larger than 64 KiB"),
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "not a SIP response"),
    ],
)
async def test_hostile_tcp_answers_end_the_check_unreachable(answer: bytes, problem: str) -> None:
    async with TcpStandin(lambda r: [answer]) as server:
        result = await check(target(server.port, SipTransport.TCP), LOCAL)
    assert result.state is HealthState.UNREACHABLE
    assert problem in result.detail


async def test_a_tcp_server_closing_without_an_answer_is_unreachable() -> None:
    async with TcpStandin(lambda r: [], close_after=1) as server:
        result = await check(target(server.port, SipTransport.TCP), LOCAL)
    assert result.state is HealthState.UNREACHABLE
    assert "closed before a response arrived" in result.detail


async def test_options_takes_any_final_answer_as_ok() -> None:
    async with UdpStandin(lambda r: [reply(r, 100, "Trying"), reply(r, 405, "Method Not Allowed")]) as server:
        result = await check(SipAllowlistTarget("+14155550123", "127.0.0.1", server.port, SipTransport.UDP), LOCAL)
    assert (result.state, result.sip_status_code) == (HealthState.OK, 405)
    assert server.requests[0].method == "OPTIONS"


async def test_checks_run_concurrently_without_mixing_answers() -> None:
    async with UdpStandin(registrar()) as right, UdpStandin(registrar()) as wrong:
        results = await asyncio.gather(
            *[check(target(right.port), LOCAL) for _ in range(5)],
            *[check(target(wrong.port, password="wrong-password"), LOCAL) for _ in range(5)],
        )
    assert [r.state for r in results] == [HealthState.OK] * 5 + [HealthState.AUTH_FAILED] * 5


# --- challenges answered at once by the next check (resolvers/verification/challenges.py) ---


def authorized(requests: list[Request]) -> list[dict[str, str]]:
    return [digest_params(r.header("Authorization")[0]) if r.header("Authorization") else {} for r in requests]


async def test_the_next_check_of_a_registrar_answers_its_last_challenge_at_once() -> None:
    async with UdpStandin(registrar(challenge(nonce="kept"))) as server:
        first = await check(target(server.port), LOCAL)
        second = await check(target(server.port, username="bob", number="+14155550124"), LOCAL)
    assert first.state is HealthState.OK and second.state is HealthState.OK
    sent = authorized(server.requests)
    # The first check: challenged, then registered and removed. The second: registered and removed.
    assert [bool(p) for p in sent] == [False, True, True, True, True]
    assert {p["nonce"] for p in sent[1:]} == {"kept"}
    # One nonce, one rising count across both checks (RFC 7616 §3.4), each check its own user.
    assert [p["nc"] for p in sent[1:]] == ["00000001", "00000002", "00000003", "00000004"]
    assert [p["username"] for p in sent[1:]] == ["alice", "alice", "bob", "bob"]
    assert all(digest_is_right(r.header("Authorization")[0], PASSWORD) for r in server.requests[1:])
    assert "after digest credentials for 'bob' (MD5)" in second.detail


async def test_a_kept_nonce_the_registrar_refuses_is_replaced_by_its_fresh_challenge() -> None:
    def script(request: Request) -> list[Chunk]:
        authorization = request.header("Authorization")
        nonce = "old" if request.index < 3 else "new"
        if not authorization or digest_params(authorization[0])["nonce"] != nonce:
            return [reply(request, 401, "Unauthorized", challenge(nonce=nonce))]
        return [reply(request, 200, "OK", "Expires: 60")]

    async with UdpStandin(script) as server:
        assert (await check(target(server.port), LOCAL)).state is HealthState.OK
        second = await check(target(server.port), LOCAL)
    assert second.state is HealthState.OK, second.detail
    assert [p.get("nonce") for p in authorized(server.requests)[3:]] == ["old", "new", "new"]


async def test_a_kept_nonce_refused_otherwise_starts_the_check_over_without_it() -> None:
    """A registrar that answers 403 to a nonce it no longer takes: the check is what a first one would be."""

    def script(request: Request) -> list[Chunk]:
        authorization = request.header("Authorization")
        if not authorization:
            return [reply(request, 401, "Unauthorized", challenge(nonce=f"n{request.index}"))]
        if digest_params(authorization[0])["nonce"] == "n0" and request.index >= 3:
            return [reply(request, 403, "Forbidden")]
        return [reply(request, 200, "OK", "Expires: 60")]

    async with UdpStandin(script) as server:
        assert (await check(target(server.port), LOCAL)).state is HealthState.OK
        second = await check(target(server.port), LOCAL)
        third = await check(target(server.port), LOCAL)
    assert second.state is HealthState.OK and second.sip_status_code == 200, second.detail
    # 403 for the kept nonce, then challenged afresh; the third check answers the second's nonce at once.
    assert [p.get("nonce") for p in authorized(server.requests)[3:]] == ["n0", None, "n4", "n4", "n4", "n4"]
    assert third.state is HealthState.OK


async def test_a_wrong_password_after_a_right_one_is_still_auth_failed() -> None:
    async with UdpStandin(registrar()) as server:
        assert (await check(target(server.port), LOCAL)).state is HealthState.OK
        wrong = secret_free(await check(target(server.port, password="not-the-password"), LOCAL))
    assert (wrong.state, wrong.sip_status_code) == (HealthState.AUTH_FAILED, 401)
    # The kept nonce, refused; the fresh challenge answered once, refused: no guessing loop.
    assert len(server.requests) == 3 + 2

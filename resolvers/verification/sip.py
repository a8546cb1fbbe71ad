"""A minimal SIP user agent client: REGISTER with digest authentication, and OPTIONS.

Only what a check needs, after RFC 3261: building requests (§7, §8.1.1,
§10.2), reading responses (§7, §7.3.1 folding and compact forms, §18.3
framing), non-INVITE client transactions with UDP retransmission
(§17.1.2, Timers E and F; the caller's deadline stands in for F), and
answering 401/407 challenges (§22.2, §22.3).

Everything read from the network is bounded: one message is at most
MAX_MESSAGE_BYTES, its head at most MAX_HEADERS header lines, and a check
reads at most MAX_MESSAGES messages. Connections go to IP addresses only;
the caller resolved and checked them.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import ssl
from collections import deque
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import Protocol

from models import SipTransport
from resolvers.verification.challenges import KeptChallenge, RecentChallenges, RegistrarKey
from resolvers.verification.digest import (
    Challenge,
    DigestAnswer,
    DigestError,
    parse_challenges,
    strongest,
)
from resolvers.verification.results import Progress

T1 = 0.5  # RTT estimate, seconds (§17.1.1.1)
T2 = 4.0  # longest retransmit interval for non-INVITE requests (§17.1.2.2)
MAX_MESSAGE_BYTES = 65_535
MAX_HEADERS = 100
MAX_MESSAGES = 64
MAX_REASON_LENGTH = 100
DEFAULT_PORTS = {SipTransport.UDP: 5060, SipTransport.TCP: 5060, SipTransport.TLS: 5061}
USER_AGENT = "Switchboard verification"

# RFC 3261 §7.3.3.
COMPACT_FORMS = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "s": "subject",
    "k": "supported",
    "t": "to",
    "v": "via",
}
_STATUS_LINE = re.compile(r"^SIP/2\.0[ \t]+([1-6][0-9][0-9])(?:[ \t]+(.*))?$", re.IGNORECASE)
_HEADER_NAME = re.compile(r"^[!%'*+\-.0-9A-Z_`a-z~]+$")
_BRANCH = re.compile(r";[ \t]*branch[ \t]*=[ \t]*([^;, \t]+)", re.IGNORECASE)
_CSEQ = re.compile(r"^([0-9]{1,10})[ \t]+([A-Za-z]+)$")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")
_DIGITS = re.compile(r"^[0-9]{1,6}$")  # ASCII only: str.isdigit() takes "²", which int() refuses
# Characters a SIP URI's user part may hold unescaped (RFC 3261 §25.1: unreserved, user-unreserved).
_USER_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()&=+$,;?/")


class SipError(Exception):
    """The far end could not be talked to; the message says what happened, in a sentence part."""


class ConnectFailed(SipError):
    pass


class MalformedMessage(SipError):
    pass


# --- responses ----------------------------------------------------------------


@dataclass(frozen=True)
class SipResponse:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # (lower-case full name, value), in order
    body: bytes = b""

    def all(self, name: str) -> list[str]:
        return [value for header, value in self.headers if header == name]

    def first(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    @property
    def summary(self) -> str:
        """Status and reason, safe to show: the reason trimmed and without control characters."""
        reason = _UNPRINTABLE.sub("", self.reason).strip()[:MAX_REASON_LENGTH]
        return f"{self.status} {reason}".rstrip()


def parse_response(data: bytes, *, framed_length: int | None = None) -> SipResponse:
    """One response from a datagram, or from a stream with its body already cut (framed_length).

    Lines may end in CRLF or, leniently, LF. Headers are unfolded and their
    compact forms expanded; anything else malformed raises MalformedMessage.
    """
    if len(data) > MAX_MESSAGE_BYTES:
        raise MalformedMessage("sent a SIP message larger than 64 KiB")
    data = data.lstrip(b"\r\n")
    head, body = _split_head(data)
    lines = head.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n")
    match = _STATUS_LINE.match(lines[0])
    if match is None:
        raise MalformedMessage("answered with something that is not a SIP response")
    headers = _headers(lines[1:])
    response = SipResponse(int(match.group(1)), match.group(2) or "", headers)
    length = content_length(response)
    if framed_length is None and length is not None:
        if length > len(body):
            raise MalformedMessage("sent a SIP response shorter than its Content-Length")
        body = body[:length]
    return SipResponse(response.status, response.reason, headers, body)


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, body = data.partition(separator)
        if found:
            return head, body
    raise MalformedMessage("sent a SIP message without the blank line that ends its head")


def _headers(lines: list[str]) -> tuple[tuple[str, str], ...]:
    headers: list[list[str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not headers:
                raise MalformedMessage("sent a SIP message starting with a continuation line")
            headers[-1][1] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not _HEADER_NAME.match(name):
            raise MalformedMessage("sent a SIP message with a malformed header line")
        if _UNPRINTABLE.search(value.replace("\t", " ")):
            # A nonce or realm is echoed in the next request: a stray CR would split it.
            raise MalformedMessage("sent a SIP message with a control character in a header")
        if len(headers) >= MAX_HEADERS:
            raise MalformedMessage(f"sent a SIP message with more than {MAX_HEADERS} header lines")
        name = name.lower()
        headers.append([COMPACT_FORMS.get(name, name), value.strip()])
    return tuple((name, value) for name, value in headers)


def content_length(response: SipResponse) -> int | None:
    values = {value.strip() for value in response.all("content-length")}
    if not values:
        return None
    if len(values) > 1 or not all(_DIGITS.match(v) for v in values):
        raise MalformedMessage("sent a SIP response with an invalid Content-Length")
    return int(values.pop())


# --- requests -------------------------------------------------------------------


def format_host(address: str | IPv4Address | IPv6Address) -> str:
    text = str(address)
    return f"[{text}]" if ":" in text else text


def sip_uri(
    host: str, port: int | None = None, *, user: str | None = None, transport: SipTransport | None = None
) -> str:
    """sip:[user@]host[:port][;transport=...], the user part escaped (RFC 3261 §19.1.1, §25.1)."""
    userinfo = ""
    if user is not None:
        userinfo = "".join(c if c in _USER_CHARACTERS else "".join(f"%{b:02X}" for b in c.encode()) for c in user) + "@"
    hostport = format_host(host) + (f":{port}" if port is not None else "")
    parameter = f";transport={transport.value}" if transport not in (None, SipTransport.UDP) else ""
    return f"sip:{userinfo}{hostport}{parameter}"


def build_request(method: str, uri: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    """A request's bytes. A control character in a header value is refused: a line break would split the message."""
    lines = [f"{method} {uri} SIP/2.0"]
    for name, value in [*headers, ("Content-Length", str(len(body)))]:
        if _UNPRINTABLE.search(value.replace("\t", " ")):
            raise ValueError(f"the {name} header would hold a control character")
        lines.append(f"{name}: {value}")
    if _UNPRINTABLE.search(uri):
        raise ValueError("the Request-URI would hold a control character")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(12)  # the magic cookie of §8.1.1.7


# --- channels -------------------------------------------------------------------


class Channel(Protocol):
    transport: SipTransport
    local: tuple[str, int]

    def send(self, data: bytes) -> None: ...

    async def receive(self) -> SipResponse: ...

    def close(self) -> None: ...


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.responses: deque[SipResponse] = deque(maxlen=MAX_MESSAGES)
        self.error: OSError | None = None
        self.received = 0
        self.waiter: asyncio.Future[None] | None = None

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.received += 1
        try:
            self.responses.append(parse_response(data))
        except MalformedMessage:
            return  # RFC 3261 §18.3: a malformed datagram is discarded
        self._wake()

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, OSError):
            self.error = exc
            self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class UdpChannel:
    """A connected UDP socket: the kernel drops datagrams from any other address, and
    reports ICMP port-unreachable as ECONNREFUSED."""

    transport = SipTransport.UDP

    def __init__(self, socket_transport: asyncio.DatagramTransport, protocol: _Datagrams) -> None:
        self._transport = socket_transport
        self._protocol = protocol
        sockname = socket_transport.get_extra_info("sockname")
        self.local = (str(sockname[0]), int(sockname[1]))

    @classmethod
    async def open(cls, address: IPv4Address | IPv6Address, port: int) -> UdpChannel:
        loop = asyncio.get_running_loop()
        try:
            transport, protocol = await loop.create_datagram_endpoint(_Datagrams, remote_addr=(str(address), port))
        except OSError as error:
            raise ConnectFailed(_os_error(error)) from None
        return cls(transport, protocol)

    def send(self, data: bytes) -> None:
        self._raise_error()
        self._transport.sendto(data)

    async def receive(self) -> SipResponse:
        protocol = self._protocol
        while not protocol.responses:
            self._raise_error()
            if protocol.received > MAX_MESSAGES:
                raise MalformedMessage(f"sent more than {MAX_MESSAGES} datagrams")
            protocol.waiter = asyncio.get_running_loop().create_future()
            await protocol.waiter
        return protocol.responses.popleft()

    def _raise_error(self) -> None:
        if self._protocol.error is not None:
            raise ConnectFailed(_os_error(self._protocol.error))

    def close(self) -> None:
        self._transport.close()


class StreamChannel:
    """TCP or TLS: messages framed by Content-Length (RFC 3261 §18.3)."""

    def __init__(self, transport: SipTransport, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.transport = transport
        self._reader = reader
        self._writer = writer
        sockname = writer.get_extra_info("sockname")
        self.local = (str(sockname[0]), int(sockname[1]))
        self._read = 0

    @classmethod
    async def open(
        cls,
        transport: SipTransport,
        address: IPv4Address | IPv6Address,
        port: int,
        *,
        tls: ssl.SSLContext | None = None,
        server_name: str | None = None,
    ) -> StreamChannel:
        try:
            reader, writer = await asyncio.open_connection(
                str(address), port, ssl=tls, server_hostname=server_name if tls else None, limit=MAX_MESSAGE_BYTES
            )
        except ssl.SSLCertVerificationError as error:
            raise ConnectFailed(
                f"the TLS handshake failed: {error.verify_message or 'certificate verify failed'}"
            ) from None
        except ssl.SSLError as error:
            raise ConnectFailed(f"the TLS handshake failed: {error.reason or 'TLS error'}") from None
        except OSError as error:
            raise ConnectFailed(_os_error(error)) from None
        return cls(transport, reader, writer)

    def send(self, data: bytes) -> None:
        self._writer.write(data)

    async def receive(self) -> SipResponse:
        while True:
            self._read += 1
            if self._read > MAX_MESSAGES:
                raise MalformedMessage(f"sent more than {MAX_MESSAGES} messages")
            try:
                head = await self._reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                raise MalformedMessage("sent a SIP message head larger than 64 KiB") from None
            except asyncio.IncompleteReadError:
                raise ConnectFailed("the connection was closed before a response arrived") from None
            except ssl.SSLError as error:
                raise ConnectFailed(f"the TLS connection failed: {error.reason or 'TLS error'}") from None
            except OSError as error:
                raise ConnectFailed(_os_error(error)) from None
            if not head.strip(b"\r\n"):
                continue  # CRLF keep-alives between messages (RFC 5626 §3.5.1)
            response = parse_response(head, framed_length=0)
            length = content_length(response) or 0
            if len(head) + length > MAX_MESSAGE_BYTES:
                raise MalformedMessage("sent a SIP message larger than 64 KiB")
            try:
                body = await self._reader.readexactly(length)
            except (asyncio.IncompleteReadError, OSError):
                raise ConnectFailed("the connection was closed in the middle of a response") from None
            return SipResponse(response.status, response.reason, response.headers, body)

    def close(self) -> None:
        self._writer.close()


def _os_error(error: OSError) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(error, ConnectionResetError):
        return "the connection was reset"
    if isinstance(error, TimeoutError):
        return "the connection attempt timed out"
    return f"the connection failed ({error.strerror or type(error).__name__})"


async def open_channel(
    transport: SipTransport,
    address: IPv4Address | IPv6Address,
    port: int,
    *,
    tls: ssl.SSLContext | None,
    server_name: str,
) -> Channel:
    if transport is SipTransport.UDP:
        return await UdpChannel.open(address, port)
    if transport is SipTransport.TLS and tls is None:
        raise ValueError("SIP over TLS needs a TLS context")
    return await StreamChannel.open(transport, address, port, tls=tls, server_name=server_name)


# --- transactions ---------------------------------------------------------------


@dataclass
class Dialogless:
    """Call-ID, From tag and CSeq shared by the requests of one check (RFC 3261 §10.2)."""

    channel: Channel
    request_uri: str
    from_uri: str
    to_uri: str
    route: str | None = None
    call_id: str = field(default_factory=lambda: secrets.token_hex(16))
    tag: str = field(default_factory=lambda: secrets.token_hex(8))
    cseq: int = 0

    def request(self, method: str, extra: list[tuple[str, str]]) -> tuple[bytes, str, int]:
        self.cseq += 1
        branch = new_branch()
        host, port = self.channel.local
        headers = [
            ("Via", f"SIP/2.0/{self.channel.transport.value.upper()} {format_host(host)}:{port};branch={branch};rport"),
            ("Max-Forwards", "70"),
        ]
        if self.route is not None:
            headers.append(("Route", f"<{self.route}>"))
        headers += [
            ("From", f"<{self.from_uri}>;tag={self.tag}"),
            ("To", f"<{self.to_uri}>"),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self.cseq} {method}"),
            *extra,
            ("User-Agent", USER_AGENT),
        ]
        return build_request(method, self.request_uri, headers), branch, self.cseq


def _matches(response: SipResponse, branch: str, cseq: int, method: str) -> bool:
    """RFC 3261 §17.1.3: the top Via's branch and the CSeq method match the request's."""
    via = response.first("via") or ""
    top = via.split(",", 1)[0]
    found = _BRANCH.search(top)
    sequence = _CSEQ.match((response.first("cseq") or "").strip())
    return (
        found is not None
        and found.group(1) == branch
        and sequence is not None
        and int(sequence.group(1)) == cseq
        and sequence.group(2).upper() == method
    )


async def transact(
    channel: Channel, data: bytes, branch: str, cseq: int, method: str, progress: Progress
) -> SipResponse:
    """Send one request and return its final response (RFC 3261 §17.1.2).

    Over UDP the request is sent again after T1, doubling up to T2, and at T2
    once a provisional response came (Timer E). No Timer F here: the caller
    cancels at its own deadline. Responses of other transactions are ignored.
    """
    loop = asyncio.get_running_loop()
    reliable = channel.transport is not SipTransport.UDP
    interval = T1
    channel.send(data)
    progress.transmissions = 1
    progress.provisional = None
    resend_at = loop.time() + interval
    while True:
        receiving = asyncio.ensure_future(channel.receive())
        try:
            if reliable:
                response = await receiving
            else:
                done, _ = await asyncio.wait({receiving}, timeout=max(0.0, resend_at - loop.time()))
                if not done:
                    receiving.cancel()
                    interval = T2 if progress.provisional is not None else min(interval * 2, T2)
                    channel.send(data)
                    progress.transmissions += 1
                    resend_at = loop.time() + interval
                    continue
                response = receiving.result()
        finally:
            receiving.cancel()
        if not _matches(response, branch, cseq, method):
            continue
        if response.status < 200:
            progress.provisional = response.summary
            continue
        return response


# --- REGISTER -------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """Who registers where: the address-of-record user@domain, and the digest credentials."""

    user: str
    domain: str
    port: int
    transport: SipTransport
    auth_user: str
    password: str = field(repr=False)
    outbound_proxy: str | None = None
    expires: int = 60


@dataclass
class RegisterOutcome:
    """How a REGISTER ended.

    `response` is the final answer. `refused_credentials` is set when the
    registrar challenged again for a realm already answered (RFC 3261
    §22.2: the credentials were wrong); `unanswerable` says why a challenge
    could not be answered at all.
    """

    response: SipResponse
    algorithms: list[str] = field(default_factory=list)
    refused_credentials: bool = False
    unanswerable: str | None = None


MAX_CHALLENGES = 3
MAX_EXPIRES = 3600


class RegisterSession:
    """One binding: registered, then removed, with the same Call-ID, Contact and credentials.

    With `recent` (and `registrar`, the address the channel reaches), the
    session answers at once the challenges the registrar issued to an earlier
    session and keeps those of its own success for a later one
    (resolvers/verification/challenges.py).
    """

    def __init__(
        self,
        channel: Channel,
        registration: Registration,
        *,
        recent: RecentChallenges | None = None,
        registrar: str | None = None,
    ) -> None:
        self.registration = registration
        host, port = channel.local
        default_port = DEFAULT_PORTS[registration.transport]
        registrar_port = None if registration.port == default_port else registration.port
        aor = sip_uri(registration.domain, user=registration.user)
        route = None
        if registration.outbound_proxy is not None:
            route = sip_uri(registration.outbound_proxy, registrar_port, transport=registration.transport) + ";lr"
        self.dialog = Dialogless(
            channel,
            request_uri=sip_uri(registration.domain, registrar_port, transport=registration.transport),
            from_uri=aor,
            to_uri=aor,
            route=route,
        )
        self.contact = f"<{sip_uri(host, port, user=registration.user, transport=registration.transport)}>"
        # (challenge header, realm) -> the answer sent with every later request
        self.answers: dict[tuple[str, str], DigestAnswer] = {}
        self.expires = registration.expires  # as granted after a 423
        self._recent = recent if registrar is not None else None
        self._key: RegistrarKey = (
            registrar or "",
            registration.port,
            registration.transport.value,
            self.dialog.request_uri,
        )
        # Answers to another session's challenges, until the registrar takes them or refuses them.
        self._preemptive = False
        if self._recent is not None:
            for kept in self._recent.get(self._key):
                self.answers[(kept.header, kept.challenge.realm)] = DigestAnswer(
                    kept.challenge, registration.auth_user, registration.password, uses=kept.uses
                )
                self._preemptive = True

    async def register(self, expires: int, progress: Progress) -> RegisterOutcome:
        """REGISTER with this Expires, answering challenges (RFC 3261 §10.2, §22.2).

        A 423 Interval Too Brief is answered once with the registrar's
        Min-Expires (§10.2.8), when that is at most MAX_EXPIRES.
        """
        outcome: RegisterOutcome | None = None
        answered_now: set[tuple[str, str]] = set()
        interval_raised = False
        for _ in range(MAX_CHALLENGES + 3):
            response = await self._send(expires, progress)
            if self._preemptive and response.status not in (401, 407) and not 200 <= response.status < 300:
                # Whatever the registrar meant, the result is what a session of its own would get.
                self._start_over()
                continue
            outcome = RegisterOutcome(response, sorted({a.challenge.algorithm for a in self.answers.values()}))
            if 200 <= response.status < 300:
                self._succeeded(answered_now)
            if response.status == 423 and expires and not interval_raised:
                minimum = (response.first("min-expires") or "").strip()
                if _DIGITS.match(minimum) and expires < int(minimum) <= MAX_EXPIRES:
                    expires, interval_raised = int(minimum), True
                    self.expires = expires
                    continue
            if response.status not in (401, 407):
                return outcome
            header = "www-authenticate" if response.status == 401 else "proxy-authenticate"
            try:
                challenges = [c for value in response.all(header) for c in parse_challenges(value)]
            except DigestError as error:
                outcome.unanswerable = f"a challenge that could not be read ({error})"
                return outcome
            if not challenges:
                outcome.unanswerable = f"a {response.status} without a challenge"
                return outcome
            if not self._answer(header, challenges, outcome, answered_now):
                return outcome
        assert outcome is not None
        outcome.refused_credentials = True  # still challenged after every realm was answered
        return outcome

    def _start_over(self) -> None:
        self.answers.clear()
        self._preemptive = False
        if self._recent is not None:
            self._recent.forget(self._key)

    def _succeeded(self, answered_now: set[tuple[str, str]]) -> None:
        """Keep the challenges this session was issued and answered, for the next session."""
        self._preemptive = False
        if self._recent is not None and answered_now:
            self._recent.keep(
                self._key,
                tuple(
                    KeptChallenge(header, answer.challenge, answer.uses) for (header, _), answer in self.answers.items()
                ),
            )

    def _answer(
        self, header: str, challenges: list[Challenge], outcome: RegisterOutcome, answered_now: set[tuple[str, str]]
    ) -> bool:
        """Take the challenges of one response; False when they end the attempt.

        A realm challenged again after this REGISTER answered it means the
        credentials were refused, unless the challenge says the nonce was
        merely stale. Answers kept from an earlier REGISTER of the session
        may meet a fresh challenge once: their nonce may have been single-use.
        """
        by_realm: dict[str, list[Challenge]] = {}
        for challenge in challenges:
            by_realm.setdefault(challenge.realm, []).append(challenge)
        for realm, offered in by_realm.items():
            chosen = strongest(offered)
            if chosen is None:
                reasons = sorted({c.unsupported_reason() or "" for c in offered})
                outcome.unanswerable = "a challenge for " + " or ".join(reasons) + ", which this check does not support"
                return False
            key = (header, realm)
            self._preemptive = False  # challenged again: what was kept is answered no more
            if key in answered_now and not chosen.stale:
                outcome.refused_credentials = True
                return False
            answered_now.add(key)
            self.answers[key] = DigestAnswer(chosen, self.registration.auth_user, self.registration.password)
        return True

    async def _send(self, expires: int, progress: Progress) -> SipResponse:
        extra = [("Contact", self.contact), ("Expires", str(expires))]
        for (header, _), answer in self.answers.items():
            name = "Authorization" if header == "www-authenticate" else "Proxy-Authorization"
            extra.append((name, answer.authorization("REGISTER", self.dialog.request_uri)))
        data, branch, cseq = self.dialog.request("REGISTER", extra)
        return await transact(self.dialog.channel, data, branch, cseq, "REGISTER", progress)


# --- OPTIONS --------------------------------------------------------------------


async def options(channel: Channel, host: str, port: int, progress: Progress) -> SipResponse:
    """One OPTIONS request to host:port (RFC 3261 §11), answered by its final response."""
    local_host, _ = channel.local
    dialog = Dialogless(
        channel,
        request_uri=sip_uri(host, port, transport=channel.transport),
        from_uri=sip_uri(local_host, user="switchboard"),
        to_uri=sip_uri(host, port),
    )
    data, branch, cseq = dialog.request("OPTIONS", [("Accept", "application/sdp")])
    return await transact(channel, data, branch, cseq, "OPTIONS", progress)

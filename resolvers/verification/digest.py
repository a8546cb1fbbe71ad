"""Digest authentication for SIP: RFC 3261 §22.4, RFC 2617 §3, RFC 7616 §3.4, RFC 8760.

Parses WWW-Authenticate and Proxy-Authenticate challenges and answers them
with Authorization and Proxy-Authorization credentials. MD5, SHA-256 and
SHA-512/256 are understood, with their -sess variants, and qop "auth",
"auth-int" or none (RFC 2069 compatibility).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# Strongest first. RFC 8760 §2.4 lets the client's own policy pick among
# challenges for one realm; ours is the strongest hash offered.
_HASHES: dict[str, Callable[[bytes], str]] = {
    "SHA-512-256": lambda data: hashlib.new("sha512_256", data).hexdigest(),
    "SHA-256": lambda data: hashlib.sha256(data).hexdigest(),
    "MD5": lambda data: hashlib.md5(data, usedforsecurity=False).hexdigest(),
}
ALGORITHMS: tuple[str, ...] = tuple(_HASHES)

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_SPACE = " \t"
_MAX_PARAMETERS = 64


class DigestError(ValueError):
    """A challenge that can't be read or can't be answered."""


@dataclass(frozen=True)
class Challenge:
    """One challenge: its scheme and auth-params, names in lower case (RFC 7235 §2.1)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")

    @property
    def stale(self) -> bool:
        return self.params.get("stale", "").lower() == "true"

    @property
    def algorithm(self) -> str:
        """The algorithm asked for, upper case; MD5 when the challenge names none (RFC 7616 §3.3)."""
        return self.params.get("algorithm", "MD5").upper()

    @property
    def base_algorithm(self) -> str:
        return self.algorithm.removesuffix("-SESS")

    @property
    def qop_options(self) -> list[str]:
        return [q.strip().lower() for q in self.params.get("qop", "").split(",") if q.strip()]

    def unsupported_reason(self) -> str | None:
        """Why this challenge can't be answered, or None when it can."""
        if self.scheme.lower() != "digest":
            return f"the {self.scheme} authentication scheme"
        if self.base_algorithm not in _HASHES:
            return f"the digest algorithm {self.algorithm}"
        if "nonce" not in self.params:
            return "a digest challenge without a nonce"
        if self.qop_options and not {"auth", "auth-int"} & set(self.qop_options):
            return f"the digest qop {self.params['qop']}"
        return None


def parse_challenges(value: str) -> list[Challenge]:
    """Every challenge in one header value.

    SIP sends one challenge per header field (RFC 3261 §7.3.1), but HTTP's
    grammar (RFC 7235 §4.1) allows several in one, comma-separated; both read.
    """
    challenges: list[Challenge] = []
    position = 0
    while True:
        position = _skip(value, position, _SPACE + ",")
        if position >= len(value):
            return challenges
        name, position = _token(value, position)
        after = _skip(value, position, _SPACE)
        if after < len(value) and value[after] == "=" and challenges:
            parameter_value, position = _parameter_value(value, _skip(value, after + 1, _SPACE))
            params = challenges[-1].params
            if len(params) >= _MAX_PARAMETERS:
                raise DigestError("challenge has too many parameters")
            params.setdefault(name.lower(), parameter_value)
        else:
            challenges.append(Challenge(name))


def _skip(value: str, position: int, characters: str) -> int:
    while position < len(value) and value[position] in characters:
        position += 1
    return position


def _token(value: str, position: int) -> tuple[str, int]:
    match = _TOKEN.match(value, position)
    if match is None:
        raise DigestError(f"unexpected character {value[position]!r} in challenge")
    return match.group(), match.end()


def _parameter_value(value: str, position: int) -> tuple[str, int]:
    if position < len(value) and value[position] == '"':
        return _quoted(value, position + 1)
    return _token(value, position)


def _quoted(value: str, position: int) -> tuple[str, int]:
    """A quoted-string's content, backslash escapes undone (RFC 3261 §25.1)."""
    characters: list[str] = []
    while position < len(value):
        character = value[position]
        if character == '"':
            return "".join(characters), position + 1
        if character == "\\" and position + 1 < len(value):
            position += 1
            character = value[position]
        characters.append(character)
        position += 1
    raise DigestError("unterminated quoted string in challenge")


def strongest(challenges: Iterable[Challenge]) -> Challenge | None:
    """The answerable challenge with the strongest algorithm; the first such one on a tie."""
    answerable = [c for c in challenges if c.unsupported_reason() is None]
    if not answerable:
        return None
    return min(answerable, key=lambda c: ALGORITHMS.index(c.base_algorithm))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def response(
    challenge: Challenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    qop: str | None,
    nonce_count: str,
    cnonce: str,
    body: bytes = b"",
) -> str:
    """The request-digest (RFC 7616 §3.4.1; RFC 2617 §3.2.2 when qop is None)."""
    digest = _HASHES[challenge.base_algorithm]

    def h(*parts: str) -> str:
        return digest(":".join(parts).encode())

    nonce = challenge.params["nonce"]
    ha1 = h(username, challenge.realm, password)
    if challenge.algorithm.endswith("-SESS"):
        ha1 = h(ha1, nonce, cnonce)
    ha2 = h(method, uri, digest(body)) if qop == "auth-int" else h(method, uri)
    if qop is None:
        return h(ha1, nonce, ha2)
    return h(ha1, nonce, nonce_count, cnonce, qop, ha2)


@dataclass
class NonceUse:
    """How many requests have carried one nonce: the nonce count counts them all (RFC 7616 §3.4)."""

    count: int = 0

    def next(self) -> int:
        self.count += 1
        return self.count


@dataclass
class DigestAnswer:
    """Credentials for one challenge, reused with a rising nonce count (RFC 7616 §3.4)."""

    challenge: Challenge
    username: str
    password: str = field(repr=False)
    cnonce: str = field(default_factory=lambda: secrets.token_hex(16))
    uses: NonceUse = field(default_factory=NonceUse)

    def __post_init__(self) -> None:
        reason = self.challenge.unsupported_reason()
        if reason is not None:
            raise DigestError(f"can't answer {reason}")

    @property
    def qop(self) -> str | None:
        options = self.challenge.qop_options
        if not options:
            return None
        return "auth" if "auth" in options else "auth-int"

    def authorization(self, method: str, uri: str, body: bytes = b"") -> str:
        """The next Authorization (or Proxy-Authorization) header value."""
        nc = f"{self.uses.next():08x}"
        qop = self.qop
        value = response(
            self.challenge,
            username=self.username,
            password=self.password,
            method=method,
            uri=uri,
            qop=qop,
            nonce_count=nc,
            cnonce=self.cnonce,
            body=body,
        )
        params = self.challenge.params
        parts = [
            f"username={_quote(self.username)}",
            f"realm={_quote(self.challenge.realm)}",
            f"nonce={_quote(params['nonce'])}",
            f"uri={_quote(uri)}",
            f"response={_quote(value)}",
        ]
        if "algorithm" in params:
            parts.append(f"algorithm={params['algorithm']}")
        if "opaque" in params:
            parts.append(f"opaque={_quote(params['opaque'])}")
        if qop is not None:
            parts += [f"qop={qop}", f"nc={nc}", f"cnonce={_quote(self.cnonce)}"]
        return "Digest " + ", ".join(parts)

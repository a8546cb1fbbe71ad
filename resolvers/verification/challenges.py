"""Challenges a registrar issued recently, answered at once by the next check of it.

Every check of a number in registration mode would otherwise begin with a
REGISTER that the registrar can only refuse: sent without credentials, it is
answered 401 or 407 with a challenge, and only the second REGISTER proves
anything. A client may send credentials for a protection space it has been
challenged in without waiting to be challenged again (RFC 3261 §22.1), and
may use a nonce for several requests with a rising nonce count (RFC 7616
§3.4.5, RFC 2617 §3.2.2). So the challenges of a registration that a 2xx
proved current are kept for REUSE_SECONDS, and the next check that goes to
the same registrar answers them in its first REGISTER: two requests per
check (REGISTER, then removing the binding) instead of three. A nonce the
registrar no longer takes costs one round trip: it answers with a fresh
challenge, which the session answers as usual, or, when it answers
otherwise, the session starts over without what was kept
(sip.RegisterSession), so a check's result never depends on this.

Kept per registrar as the check reaches it: the address connected to, the
port, the transport and the request URI. A challenge is no secret (the
registrar sends it to anyone who asks) and no credentials are kept: each
check answers with its own username and password.
"""

from __future__ import annotations

from dataclasses import dataclass

from cachetools import TTLCache

from resolvers.verification.digest import Challenge, NonceUse

# Below the 30 s for which Kamailio's nonces are valid by default, and above
# the time between two checks of one registrar when several numbers use it.
REUSE_SECONDS = 20.0
# Registrars remembered at once, at most.
SIZE = 4096

# (address connected to, port, transport, request URI)
RegistrarKey = tuple[str, int, str, str]


@dataclass(frozen=True)
class KeptChallenge:
    header: str  # www-authenticate or proxy-authenticate
    challenge: Challenge
    uses: NonceUse  # shared by every answer to this nonce


class RecentChallenges:
    def __init__(self, size: int = SIZE, seconds: float = REUSE_SECONDS) -> None:
        self._kept: TTLCache[RegistrarKey, tuple[KeptChallenge, ...]] = TTLCache(maxsize=size, ttl=seconds)

    def get(self, key: RegistrarKey) -> tuple[KeptChallenge, ...]:
        return self._kept.get(key, ())

    def keep(self, key: RegistrarKey, kept: tuple[KeptChallenge, ...]) -> None:
        self._kept[key] = kept

    def forget(self, key: RegistrarKey) -> None:
        self._kept.pop(key, None)

    def clear(self) -> None:
        self._kept.clear()

"""The check's inputs besides the target, and its answer."""

from __future__ import annotations

import functools
import logging
import ssl
from dataclasses import dataclass

from models.health import HealthState
from resolvers.verification.targets import Resolver, system_resolver

DEFAULT_TIMEOUT = 5.0
DEFAULT_TWILIO_API_URL = "https://api.twilio.com"


@dataclass(frozen=True)
class CheckOptions:
    """How checks run; the operator's settings, read elsewhere.

    TLS (SIP over TLS and Twilio's API) verifies the peer's certificate chain
    and its host name: against the system's trust store, plus the PEM
    certificates in `tls_ca_file` when given, so a trunk with a private CA can
    be trusted without trusting everything.
    """

    timeout: float = DEFAULT_TIMEOUT
    allow_local_targets: bool = False
    twilio_api_url: str = DEFAULT_TWILIO_API_URL
    tls_ca_file: str | None = None
    resolver: Resolver = system_resolver
    # The level each check's line is logged at: INFO for a check someone asked
    # for; the monitor's routine re-checks DEBUG, as it logs each change of
    # state at INFO itself (a line per check was most of a check's CPU).
    log_level: int = logging.INFO


@dataclass(frozen=True)
class CheckResult:
    state: HealthState
    detail: str  # a sentence for people: what was tried, what answered
    sip_status_code: int | None = None  # the final SIP response, when there was one
    latency_ms: int | None = None  # from the start of the check to the answer that decided it


@dataclass
class Progress:
    """What a check is doing, so that running out of time can say how far it got."""

    attempt: str = (
        "the check"  # e.g. "REGISTER of alice@pbx.example.com sent to pbx.example.com (203.0.113.10):5060 over UDP"
    )
    connecting: bool = False
    transmissions: int = 0
    provisional: str | None = None  # the last provisional SIP response, e.g. "100 Trying"

    def no_answer(self, timeout: float) -> str:
        what = f"No answer within {timeout:g} s to {self.attempt}"
        if self.connecting:
            return what + ": the connection was not established."
        if self.transmissions > 1:
            what += f" (sent {self.transmissions} times)"
        if self.provisional is not None:
            what += f"; the last answer was the provisional {self.provisional}"
        return what + "."


@functools.lru_cache(maxsize=8)
def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """One context per trust configuration: loading the system's store takes milliseconds.

    A CA file is read once per process; replacing its content takes a restart.
    """
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context

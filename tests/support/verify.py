"""What the provider-check tests share (tests/system/test_verify.py over GraphQL and
tests/system/test_verify_rest.py over REST): the numbers, the secrets the sweep watches for,
Kamailio's users, the Twilio stand-in, and settings that allow checking targets on 127.0.0.1."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest

from switchboard.settings import Settings
from tests.support.database import stored_rows
from tests.support.kamailio import Kamailio, SipUser, TlsCertificates
from tests.support.secret_sweep import SWEEP
from tests.support.twilio_standin import Account, TwilioStandin, serving

NUMBER = "+14155550123"
PASSWORD = "pw-Alice-v3r1fy-8c21"
AUTH_PASSWORD = "pw-AuthId-v3r1fy-5d90"
WRONG_PASSWORD = "pw-Wrong-v3r1fy-7e13"
TWILIO_SID = "AC" + "7a" * 16
TWILIO_TOKEN = "tok-Twilio-v3r1fy-41c6"
WRONG_TOKEN = "tok-Wrong-v3r1fy-0b9e"
SECRETS = (PASSWORD, AUTH_PASSWORD, WRONG_PASSWORD, TWILIO_TOKEN, WRONG_TOKEN)
for secret in SECRETS:
    SWEEP.add_secret(secret)

USERS = [SipUser("alice", PASSWORD), SipUser("authid", AUTH_PASSWORD, aors=(NUMBER,))]
TIMEOUT = 2.0

Start = Callable[..., Kamailio]


@pytest.fixture
def twilio(certificates: TlsCertificates) -> Iterator[tuple[TwilioStandin, str]]:
    standin = TwilioStandin({TWILIO_SID: Account(TWILIO_TOKEN, [NUMBER])})
    with serving(standin, certificates) as port:
        yield standin, f"https://127.0.0.1:{port}"
    for request in standin.requests:
        SWEEP.add_text("twilio stand-in request", request.path, repr(request))


@pytest.fixture
def local_settings(settings: Settings, certificates: TlsCertificates, twilio: tuple[TwilioStandin, str]) -> Settings:
    """Kamailio and the stand-in are on 127.0.0.1, which only SWITCHBOARD_ALLOW_LOCAL_TARGETS=true allows."""
    return dataclasses.replace(
        settings,
        allow_local_targets=True,
        verify_timeout=TIMEOUT,
        twilio_api_url=twilio[1],
        verify_ca_file=str(certificates.ca_file),
    )


def without_secrets(text: str) -> str:
    for secret in SECRETS:
        assert secret not in text
    return text


async def counts() -> dict[str, int]:
    tables = ("phone_numbers", "idempotency_keys", "phone_number_health", "phone_number_health_events", "audit_events")
    return {table: len(await stored_rows(table)) for table in tables}

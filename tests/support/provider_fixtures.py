"""Fixtures for tests against real components; a test module takes them with
`pytest_plugins = ("tests.support.provider_fixtures",)`.

`certificates`: a private CA and a server certificate for 127.0.0.1, localhost,
kamailio.test and twilio.test, made once per session. `kamailio`: starts
Kamailio instances (tests/support/kamailio.py) and stops them after the test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.kamailio import Kamailio, TlsCertificates, missing
from tests.support.secret_sweep import SWEEP


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> TlsCertificates:
    return TlsCertificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture
def kamailio(tmp_path: Path, certificates: TlsCertificates) -> Iterator[Callable[..., Kamailio]]:
    """Starts Kamailio instances: `kamailio(users=[...], algorithm="SHA-256", ...)`.

    Every instance is stopped at the end of the test, and its log and the SIP
    messages it saw go to the secret sweep: no password may be on the wire.
    Without Kamailio installed the test is skipped, but fails under CI.
    """
    reason = missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    started: list[Kamailio] = []

    def start(**options: object) -> Kamailio:
        # options: Kamailio's keyword arguments as the test gives them.
        instance = Kamailio(tmp_path / f"kamailio-{len(started)}", certificates=certificates, **options)  # type: ignore[arg-type]
        for user in instance.users:
            SWEEP.add_secret(user.password)
        started.append(instance)
        instance.start()
        return instance

    try:
        yield start
    finally:
        for instance in started:
            instance.stop()
            SWEEP.add_text("kamailio log", str(instance.log_path), instance.log())
            SWEEP.add_text("sip message dump", str(instance.dump_directory), instance.wire())

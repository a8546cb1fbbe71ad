"""The secret sweep finds what it is meant to find: a planted leak fails it, and the whole run.

These are the tests that need real processes; the in-process ones are in
tests/api/test_secret_sweep.py.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from tests.support import REPO
from tests.support.app import Api
from tests.support.graphql_ops import CREATE_PHONE_NUMBER, sip_registration

SECRET = "planted-secret-0123456789"
PLANT = "SWITCHBOARD_TEST_PLANT_LEAK"


@pytest.mark.skipif(
    os.environ.get(PLANT) != "1", reason=f"runs only inside test_a_planted_leak_fails_the_run ({PLANT}=1)"
)
async def test_planted_leak(api: Api) -> None:
    await api.post(
        CREATE_PHONE_NUMBER, {"input": {"number": "+14155550123", "provider": sip_registration(password=SECRET)}}
    )
    logging.getLogger("switchboard").warning("careless: %s", SECRET)


def test_a_planted_leak_fails_the_run() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"} | {PLANT: "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{__file__}::test_planted_leak"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout
    assert "1 passed" in result.stdout and "1 error" in result.stdout
    assert "AssertionError: secrets leaked:" in result.stdout
    assert f"{SECRET!r} in log record of switchboard" in result.stdout

"""The HTTP server's own limits, against real `switchboard serve` processes, with no key.

Request heads over a size, requests that never arrive whole, connections over
a per-worker cap, a low open-file limit, and request paths that would forge
log lines. Each attack is sent as raw bytes over a socket, as an attacker
would; nothing here depends on a proxy in front.

These are the limits' settings, without a server; the limits at work are
tested in tests/system/test_server_limits.py.
"""

from __future__ import annotations

import pytest

from switchboard.settings import Settings, SettingsError

# --- raw HTTP --------------------------------------------------------------------


# --- processes -------------------------------------------------------------------


# --- settings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param(
            {"SWITCHBOARD_MAX_HEADER_BYTES": "100"},
            "SWITCHBOARD_MAX_HEADER_BYTES must be a whole number from 1024 to 1048576, got '100'",
            id="header-bytes-too-small",
        ),
        pytest.param(
            {"SWITCHBOARD_MAX_HEADER_BYTES": "64k"},
            "SWITCHBOARD_MAX_HEADER_BYTES must be a whole number from 1024 to 1048576, got '64k'",
            id="header-bytes-word",
        ),
        pytest.param(
            {"SWITCHBOARD_CLIENT_TIMEOUT": "0"},
            "SWITCHBOARD_CLIENT_TIMEOUT must be a number of seconds greater than 0, got '0'",
            id="client-timeout-zero",
        ),
        pytest.param(
            {"SWITCHBOARD_CLIENT_TIMEOUT": "inf"},
            "SWITCHBOARD_CLIENT_TIMEOUT must be a number of seconds greater than 0, got 'inf'",
            id="client-timeout-forever",
        ),
        pytest.param(
            {"SWITCHBOARD_MAX_CONNECTIONS": "0"},
            "SWITCHBOARD_MAX_CONNECTIONS must be a whole number from 1 to 1000000, got '0'",
            id="connections-zero",
        ),
    ],
)
def test_server_limit_settings_refuse_what_they_cannot_use(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(environ)
    assert str(raised.value) == message


def test_server_limit_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.max_header_bytes, settings.client_timeout, settings.max_connections) == (65536, 10.0, 1000)
    chosen = Settings.from_env(
        {
            "SWITCHBOARD_MAX_HEADER_BYTES": "8192",
            "SWITCHBOARD_CLIENT_TIMEOUT": "2.5",
            "SWITCHBOARD_MAX_CONNECTIONS": "50",
        }
    )
    assert (chosen.max_header_bytes, chosen.client_timeout, chosen.max_connections) == (8192, 2.5, 50)


# --- request heads over the limit --------------------------------------------------


# --- requests that never arrive whole, responses never taken ------------------------------


# --- connections over the cap --------------------------------------------------------


# --- log lines that cannot be forged ------------------------------------------------------

"""Where `switchboard serve` listens: SWITCHBOARD_HOST and SWITCHBOARD_PORT, `--host` and `--port`
over them, `make run HOST=… PORT=…`; and a place it cannot listen is one line and an exit, at once.

These are the checks of the variables without a process; serve itself is
tested in tests/system/test_serve_address.py.
"""

from __future__ import annotations

import pytest

from switchboard.settings import Settings, SettingsError

# --- the environment and the options ----------------------------------------------


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        pytest.param(
            {"SWITCHBOARD_PORT": "0"},
            "SWITCHBOARD_PORT must be a whole number from 1 to 65535, got '0'",
            id="port-zero",
        ),
        pytest.param(
            {"SWITCHBOARD_PORT": "65536"},
            "SWITCHBOARD_PORT must be a whole number from 1 to 65535, got '65536'",
            id="port-too-high",
        ),
        pytest.param(
            {"SWITCHBOARD_PORT": "http"},
            "SWITCHBOARD_PORT must be a whole number from 1 to 65535, got 'http'",
            id="port-word",
        ),
        pytest.param(
            {"SWITCHBOARD_PORT": "-1"},
            "SWITCHBOARD_PORT must be a whole number from 1 to 65535, got '-1'",
            id="port-negative",
        ),
        pytest.param(
            {"SWITCHBOARD_HOST": "my host"},
            "SWITCHBOARD_HOST must be an IP address or host name to listen on, such as 127.0.0.1, 0.0.0.0, :: or localhost, got 'my host'",
            id="host-with-space",
        ),
        pytest.param(
            {"SWITCHBOARD_HOST": "http://127.0.0.1"},
            "SWITCHBOARD_HOST must be an IP address or host name to listen on, such as 127.0.0.1, 0.0.0.0, :: or localhost, got 'http://127.0.0.1'",
            id="host-url",
        ),
        pytest.param(
            {"SWITCHBOARD_HOST": "127.0.0.1:8000"},
            "SWITCHBOARD_HOST must be an IP address or host name to listen on, such as 127.0.0.1, 0.0.0.0, :: or localhost, got '127.0.0.1:8000'",
            id="host-with-port",
        ),
        pytest.param(
            {"SWITCHBOARD_HOST": "[::1]"},
            "SWITCHBOARD_HOST must be an IP address or host name to listen on, such as 127.0.0.1, 0.0.0.0, :: or localhost, got '[::1]'",
            id="host-bracketed",
        ),
    ],
)
def test_bad_host_and_port_variables_are_refused_with_the_rule(variables: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(variables)
    assert str(raised.value) == message


def test_host_and_port_defaults_and_accepted_values() -> None:
    assert (Settings.from_env({}).host, Settings.from_env({}).port) == ("127.0.0.1", 8000)
    for host in ("0.0.0.0", "::", "::1", "localhost", "switchboard.internal", " 127.0.0.1 "):
        assert Settings.from_env({"SWITCHBOARD_HOST": host, "SWITCHBOARD_PORT": "8123"}).host == host.strip()
    assert Settings.from_env({"SWITCHBOARD_PORT": "65535"}).port == 65535


# --- a place serve cannot listen ---------------------------------------------------


# --- make run ----------------------------------------------------------------------

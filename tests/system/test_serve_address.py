"""Where `switchboard serve` listens: SWITCHBOARD_HOST and SWITCHBOARD_PORT, `--host` and `--port`
over them, `make run HOST=… PORT=…`; and a place it cannot listen is one line and an exit, at once.

The checks of the variables themselves, without a process, are in
tests/unit/test_serve_address_settings.py.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from switchboard.settings import Settings
from tests.support.database import ENCRYPTION_KEY, run_sync
from tests.support.secret_sweep import SWEEP
from tests.support.servers import REPO, SWITCHBOARD, free_port, server_environment, switchboard

# TEST-NET-1 (RFC 5737): never an address of this machine, so binding it fails
# the way a mistyped --host does, with no packet sent anywhere.
FOREIGN_ADDRESS = "192.0.2.1"
BUSY_PORT_LINE = "switchboard: error: port {port} on 127.0.0.1 is in use; choose another with --port, SWITCHBOARD_PORT or make run PORT=...\n"
FOREIGN_HOST_LINE = (
    f"switchboard: error: cannot listen on {FOREIGN_ADDRESS}: it is not an address of this machine; "
    "choose another with --host, SWITCHBOARD_HOST or make run HOST=...\n"
)
# A command that cannot listen ends at once; a server that does would run until this.
REFUSAL_SECONDS = 30


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A first run's environment: SQLite in a fresh data directory, no SWITCHBOARD_HOST or _PORT."""
    settings = Settings(f"sqlite://{tmp_path / 'switchboard.sqlite3'}", tmp_path, (ENCRYPTION_KEY,))
    return server_environment(settings)


@contextmanager
def busy_port() -> Iterator[int]:
    """A port another program listens on, on 127.0.0.1."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


@contextmanager
def started(command: list[str], env: dict[str, str], tmp_path: Path) -> Iterator[list[str]]:
    """`command` running in a process group of its own, its output in a file; stopped with
    Ctrl-C's SIGINT, as a terminal sends it to the whole group. Yields a list the output lands in."""
    log_path = tmp_path / f"output-{time.monotonic_ns()}.log"
    output: list[str] = []
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield output
    finally:
        try:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
            output.append(log_path.read_text())
            SWEEP.add_text("server log", str(log_path), output[0])


def answers(port: int) -> None:
    """Waits until /healthz answers on 127.0.0.1:`port`."""
    deadline = time.monotonic() + 60
    while True:
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            assert response.json() == {"status": "ok"}
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"nothing answered on port {port}"
            time.sleep(0.1)


def refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


# --- the environment and the options ----------------------------------------------


def test_serve_listens_on_switchboard_port(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    with started([*SWITCHBOARD, "serve"], {**env, "SWITCHBOARD_PORT": str(port)}, tmp_path) as output:
        answers(port)
    assert f"serving http://127.0.0.1:{port}/graphql (Ctrl-C stops)" in output[0]


def test_serve_listens_on_switchboard_host(env: dict[str, str]) -> None:
    # An address of another machine reaches the bind: proof the variable is used, without leaving loopback.
    result = switchboard(
        "serve",
        env={**env, "SWITCHBOARD_HOST": FOREIGN_ADDRESS, "SWITCHBOARD_PORT": str(free_port())},
        timeout=REFUSAL_SECONDS,
    )
    assert (result.returncode, result.stdout, result.stderr) == (1, "", FOREIGN_HOST_LINE)


def test_options_win_over_the_environment(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    with busy_port() as taken:
        overridden = {**env, "SWITCHBOARD_HOST": FOREIGN_ADDRESS, "SWITCHBOARD_PORT": str(taken)}
        with started([*SWITCHBOARD, "serve", "--host", "127.0.0.1", "--port", str(port)], overridden, tmp_path):
            answers(port)


def test_a_bad_variable_stops_serve_naming_it(env: dict[str, str]) -> None:
    result = switchboard("serve", env={**env, "SWITCHBOARD_PORT": "80800"}, timeout=REFUSAL_SECONDS)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "switchboard: error: SWITCHBOARD_PORT must be a whole number from 1 to 65535, got '80800'\n"


@pytest.mark.parametrize(
    ("option", "value", "rule"),
    [
        ("--port", "0", "must be a whole number from 1 to 65535, got '0'"),
        ("--port", "8000x", "must be a whole number from 1 to 65535, got '8000x'"),
        (
            "--host",
            "127.0.0.1:8000",
            "must be an IP address or host name to listen on, such as 127.0.0.1, 0.0.0.0, :: or localhost, got '127.0.0.1:8000'",
        ),
    ],
)
def test_bad_options_stop_serve_naming_them(env: dict[str, str], option: str, value: str, rule: str) -> None:
    result = switchboard("serve", option, value, env=env, timeout=REFUSAL_SECONDS)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"switchboard serve: error: argument {option}: {rule}"


# --- a place serve cannot listen ---------------------------------------------------


@pytest.mark.parametrize("how", ["option", "variable"])
def test_a_busy_port_is_one_line_and_changes_nothing(
    settings: Settings, unmigrated_database_url: str, tmp_path: Path, how: str
) -> None:
    """One worker on SQLite, two on PostgreSQL (uvicorn's supervisor would bind for those)."""
    env = server_environment(settings, DATABASE_URL=unmigrated_database_url)
    assert env["SWITCHBOARD_WORKERS"] == ("1" if settings.is_sqlite else "2")
    with busy_port() as port:
        if how == "option":
            result = switchboard("serve", "--port", str(port), env=env, timeout=REFUSAL_SECONDS)
        else:
            result = switchboard("serve", env={**env, "SWITCHBOARD_PORT": str(port)}, timeout=REFUSAL_SECONDS)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", BUSY_PORT_LINE.format(port=port))
    # Refused before migrating: the database is as it was.
    assert tables(unmigrated_database_url) == []


def tables(database_url: str) -> list[str]:
    if database_url.startswith("sqlite://"):
        path = Path(database_url.removeprefix("sqlite://"))
        if not path.exists():
            return []
        with sqlite3.connect(path) as db:
            return [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    schema = database_url.split("schema=")[1]
    found: list[str] = []

    async def query() -> None:
        connection = await asyncpg.connect(database_url.split("?")[0])
        try:
            rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
            found.extend(row["tablename"] for row in rows)
        finally:
            await connection.close()

    run_sync(query())
    return found


def test_a_port_freed_again_serves(env: dict[str, str], tmp_path: Path) -> None:
    """The check holds no port: once the other program is gone, the same command serves."""
    with busy_port() as port:
        first = switchboard("serve", "--port", str(port), env=env, timeout=REFUSAL_SECONDS)
    assert first.returncode == 1
    with started([*SWITCHBOARD, "serve", "--port", str(port)], env, tmp_path):
        answers(port)


# --- make run ----------------------------------------------------------------------

# The venv running these tests is the one `make run` would use; told so, and told
# not to bring the runtime install up to date, make runs only the command itself.
MAKE_RUN = [
    "make",
    "--no-print-directory",
    "-o",
    ".venv/.installed-runtime",
    "run",
    f"BIN={Path(sys.executable).parent}",
]


def test_make_run_passes_port_to_serve(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    with started([*MAKE_RUN, f"PORT={port}", "HOST=127.0.0.1"], env, tmp_path) as output:
        answers(port)
    assert f"serve --host '127.0.0.1' --port '{port}'" in output[0]
    assert f"serving http://127.0.0.1:{port}/graphql (Ctrl-C stops)" in output[0]
    assert refused(port)  # Ctrl-C stopped it


def test_make_run_passes_host_to_serve(env: dict[str, str]) -> None:
    result = subprocess.run(
        [*MAKE_RUN, f"HOST={FOREIGN_ADDRESS}", f"PORT={free_port()}"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=REFUSAL_SECONDS,
    )
    assert result.returncode != 0
    assert FOREIGN_HOST_LINE in result.stderr


def test_make_run_takes_port_from_its_command_line_only(env: dict[str, str], tmp_path: Path) -> None:
    """A PORT or HOST that a shell or platform exported is not mistaken for `make run PORT=`."""
    port = free_port()
    with busy_port() as taken:
        exported = {**env, "PORT": str(taken), "HOST": FOREIGN_ADDRESS, "SWITCHBOARD_PORT": str(port)}
        with started(MAKE_RUN, exported, tmp_path):
            answers(port)


def test_make_run_port_reaches_the_option_check(env: dict[str, str]) -> None:
    result = subprocess.run(
        [*MAKE_RUN, "PORT=0"], env=env, cwd=REPO, capture_output=True, text=True, timeout=REFUSAL_SECONDS
    )
    assert result.returncode != 0
    assert "switchboard serve: error: argument --port: must be a whole number from 1 to 65535, got '0'" in result.stderr

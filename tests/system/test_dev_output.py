"""Output for people and for machines: text log lines for a person at a terminal in development,
JSON for everything else, SWITCHBOARD_LOG_FORMAT over both; and no library chatter
(Tortoise's "Tortoise-ORM shutdown") from the server or any command."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from switchboard.settings import Settings
from tests.support.database import ENCRYPTION_KEY
from tests.support.secret_sweep import SWEEP
from tests.support.servers import REPO, SWITCHBOARD, Servers, free_port, server_environment, switchboard

TEXT_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) ([\w.]+): ")
# Whose log lines a server prints: its own, and uvicorn's about starting and stopping.
SERVER_LOGGERS = re.compile(r"switchboard(\..+)?|uvicorn\.error")


class Terminal:
    """A pseudo-terminal: a process writes to one end as to a terminal; this reads the other."""

    def __init__(self) -> None:
        self.reader, self.end = pty.openpty()
        self.received = bytearray()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.reader, 65536)
            except OSError:  # EIO: the process's end is closed everywhere
                return
            if not data:
                return
            self.received += data

    def close_end(self) -> None:
        """Once the process has its copy: ours closed, the reader ends when the process's closes."""
        os.close(self.end)

    def text(self) -> str:
        self.thread.join(timeout=30)
        os.close(self.reader)
        # A terminal turns every \n into \r\n.
        return self.received.decode().replace("\r\n", "\n")


@dataclass
class Output:
    returncode: int
    stdout: str
    stderr: str


def serve_attached(env: dict[str, str], tmp_path: Path, *, stdout_tty: bool, stderr_tty: bool) -> Output:
    """`switchboard serve` with stdout and stderr each on a terminal or in a file; started, asked once, stopped with Ctrl-C's SIGINT."""
    port = free_port()
    terminals: dict[str, Terminal] = {}
    files: dict[str, IO[bytes]] = {}
    streams: dict[str, Any] = {}
    for name, tty in (("stdout", stdout_tty), ("stderr", stderr_tty)):
        if tty:
            terminals[name] = Terminal()
            streams[name] = terminals[name].end
        else:
            files[name] = (tmp_path / f"{name}.log").open("w+b")
            streams[name] = files[name]
    process = subprocess.Popen(
        [*SWITCHBOARD, "serve", "--port", str(port)], env=env, cwd=REPO, stdin=subprocess.DEVNULL, **streams
    )
    for terminal in terminals.values():
        terminal.close_end()
    try:
        wait_until_answering(port, process)
    finally:
        process.send_signal(2)  # SIGINT, as Ctrl-C
        returncode = process.wait(timeout=30)
    texts = {name: terminal.text() for name, terminal in terminals.items()}
    for name, file in files.items():
        file.seek(0)
        texts[name] = file.read().decode()
        file.close()
    for name, text in texts.items():
        SWEEP.add_text("server log", f"serve's {name}", text)
    return Output(returncode, texts["stdout"], texts["stderr"])


def wait_until_answering(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, f"serve exited with {process.returncode}"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "serve did not answer"
        time.sleep(0.1)


def loggers(stderr: str, log_format: str) -> list[str]:
    """The logger of each line of `stderr`, every line being a log record in `log_format`."""
    lines = stderr.splitlines()
    assert lines, "nothing was logged"
    if log_format == "json":
        return [json.loads(line)["logger"] for line in lines]
    found = []
    for line in lines:
        match = TEXT_LINE.match(line)
        assert match, f"not a text log line: {line!r}"
        found.append(match.group(1))
    return found


@pytest.mark.parametrize(
    ("variables", "stdout_tty", "stderr_tty", "log_format"),
    [
        pytest.param({}, True, True, "text", id="development-at-a-terminal"),
        pytest.param({"SWITCHBOARD_ENV": "development"}, False, True, "text", id="only-stderr-at-a-terminal"),
        pytest.param({}, True, False, "json", id="stderr-to-a-file-stdout-at-a-terminal"),
        pytest.param({}, False, False, "json", id="development-to-files"),
        pytest.param({"SWITCHBOARD_ENV": "production"}, True, True, "json", id="production-at-a-terminal"),
        pytest.param({"SWITCHBOARD_ENV": "production"}, False, False, "json", id="production-to-files"),
        pytest.param({"SWITCHBOARD_LOG_FORMAT": "json"}, True, True, "json", id="json-asked-at-a-terminal"),
        pytest.param({"SWITCHBOARD_LOG_FORMAT": "text"}, False, False, "text", id="text-asked-to-files"),
        pytest.param(
            {"SWITCHBOARD_LOG_FORMAT": "text", "SWITCHBOARD_ENV": "production"},
            False,
            False,
            "text",
            id="text-asked-in-production",
        ),
    ],
)
def test_log_format_follows_the_setting_then_the_terminal(
    tmp_path: Path, variables: dict[str, str], stdout_tty: bool, stderr_tty: bool, log_format: str
) -> None:
    settings = Settings(f"sqlite://{tmp_path / 'switchboard.sqlite3'}", tmp_path, (ENCRYPTION_KEY,))
    env = server_environment(settings, **variables)
    output = serve_attached(env, tmp_path, stdout_tty=stdout_tty, stderr_tty=stderr_tty)
    assert output.returncode == 0
    assert output.stdout == ""
    names = loggers(output.stderr, log_format)
    assert "switchboard.request" in names  # the /healthz it answered
    assert all(SERVER_LOGGERS.fullmatch(name) for name in names), names
    assert "serving http://127.0.0.1:" in output.stderr


# --- no library chatter ---------------------------------------------------------------


def assert_no_chatter(result: subprocess.CompletedProcess[str], stderr_lines: int = 0) -> None:
    """Nothing from a library in the output: stderr holds `stderr_lines` lines of the command's
    own, then only Switchboard's log records."""
    assert "Tortoise" not in result.stdout + result.stderr
    own, records = result.stderr.splitlines()[:stderr_lines], result.stderr.splitlines()[stderr_lines:]
    assert len(own) == stderr_lines
    assert [
        json.loads(line)["logger"] for line in records if not json.loads(line)["logger"].startswith("switchboard")
    ] == []


def test_commands_print_their_output_and_nothing_else(settings: Settings) -> None:
    env = server_environment(settings)

    migrated = switchboard("migrate", env=env)
    assert (migrated.returncode, migrated.stdout, migrated.stderr) == (0, "migrations applied\n", "")

    issued = switchboard("create-api-key", "--org", "Acme", env=env)
    assert issued.returncode == 0, issued.stderr
    SWEEP.add_secret(issued.stdout.strip())
    key_id = re.fullmatch(
        r"API key (\S+) \(admin\) for organization 'Acme' \(shown once; store it now\):\n", issued.stderr
    )
    assert key_id is not None, issued.stderr
    assert re.fullmatch(r"sb_live_\S+\n", issued.stdout)

    for args in (["list-api-keys", "--org", "Acme"], ["list-api-keys", "--org", "Acme", "--json"]):
        listed = switchboard(*args, env=env)
        assert (listed.returncode, listed.stderr) == (0, ""), listed.stderr
        assert key_id.group(1) in listed.stdout

    revoked = switchboard("revoke-api-key", key_id.group(1), env=env)
    assert (revoked.returncode, revoked.stderr) == (0, "")
    assert revoked.stdout.startswith(f"revoked API key {key_id.group(1)} ")

    rotated = switchboard("rotate-encryption-key", env=env)
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.startswith("re-encrypted 0 secrets; every stored secret is now sealed with key ")
    assert_no_chatter(rotated)

    for args in (["export-schema"], ["generate-encryption-key"]):
        result = switchboard(*args, env=env)
        assert (result.returncode, result.stderr) == (0, "")

    # A command that fails is one line too.
    unknown = switchboard("list-api-keys", "--org", "Nobody", env=env)
    assert unknown.returncode == 1
    assert len(unknown.stderr.splitlines()) == 1 and unknown.stderr.startswith("switchboard: error: ")


def test_serve_start_and_stop_print_no_library_chatter(settings: Settings, servers: Servers) -> None:
    """One worker on SQLite, two on PostgreSQL: each worker's start and stop."""
    server = servers.start(settings)
    assert server.terminate() == 0
    output = server.log()
    assert "Tortoise" not in output
    names = [json.loads(line)["logger"] for line in output.splitlines()]
    assert all(SERVER_LOGGERS.fullmatch(name) for name in names), names
    # Both ends of the run are there: quieting the chatter kept the server's own lines.
    messages = [json.loads(line)["message"] for line in output.splitlines()]
    assert any(m.startswith("serving http://127.0.0.1:") for m in messages)
    assert any(m.startswith("Finished server process") for m in messages)


def test_tortoise_warnings_still_come_through(tmp_path: Path) -> None:
    """Quieted is Tortoise's INFO chatter, not what it warns of."""
    code = (
        "import logging, logging.config\n"
        "from switchboard.logs import log_config\n"
        "from switchboard.settings import Settings\n"
        "logging.config.dictConfig(log_config(Settings.from_env()))\n"
        "logging.getLogger('tortoise').info('Tortoise-ORM shutdown')\n"
        "logging.getLogger('tortoise').warning('a warning of tortoise')\n"
        "logging.getLogger('tortoise.db_client').error('an error of its database client')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=server_environment(Settings("sqlite://x", tmp_path, ())),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(r["level"], r["logger"], r["message"]) for r in records] == [
        ("WARNING", "tortoise", "a warning of tortoise"),
        ("ERROR", "tortoise.db_client", "an error of its database client"),
    ]

"""Real `switchboard` processes: commands run to their end, and servers on free ports.

One way to start a server, `start_server`, behind two doors:

- `Servers.start(settings, **env)` (the `servers` fixture): a server on a
  test's database, configured as a deployment would be (`server_environment`);
  the fixture kills whatever is left at the end and sweeps its log.
- `serving(env)`: a context manager for the first-run path a user takes
  (`first_run_environment`: no DATABASE_URL, no encryption key); the server is
  stopped with SIGTERM on leaving.

Either way the server runs in its own process group, writes its output to a
file (an unread pipe fills up and blocks its request log), and is answering
/readyz by the time it is handed over.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from switchboard.settings import Settings
from tests.support import REPO as REPO  # tests import it from here too

SWITCHBOARD = [sys.executable, "-m", "switchboard.cli"]
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a deployment would give: everything through Settings' variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "DATABASE_URL"))}
    return {
        **env,
        "DATABASE_URL": settings.database_url,
        "SWITCHBOARD_DATA_DIR": str(settings.data_dir),
        "SWITCHBOARD_ENCRYPTION_KEYS": ",".join(settings.encryption_keys),
        # Several workers where the database allows them, as in production.
        "SWITCHBOARD_WORKERS": "1" if settings.is_sqlite else "2",
        # Monitoring only where a test turns it on: it would check every number a test makes.
        "SWITCHBOARD_HEALTH_INTERVAL": "0",
        **extra,
    }


def first_run_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A user's first run: a fresh data directory under `tmp_path`, no DATABASE_URL, no encryption key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "DATABASE_URL"))}
    # Monitoring only where a test turns it on: it would check every number a test makes.
    return {**env, "SWITCHBOARD_DATA_DIR": str(tmp_path / "data"), "SWITCHBOARD_HEALTH_INTERVAL": "0", **extra}


def switchboard(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a `switchboard` command to its end."""
    return subprocess.run([*SWITCHBOARD, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def start_switchboard(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start a `switchboard` command beside the test, its output piped."""
    return subprocess.Popen(
        [*SWITCHBOARD, *args], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def create_api_key(env: dict[str, str], organization: str = "Acme") -> str:
    """A key issued by `switchboard create-api-key`, as a user makes their first."""
    issued = switchboard("create-api-key", "--org", organization, env=env)
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip().splitlines()[-1]
    assert key.startswith("sb_live_")
    return key


def post(url: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    """POST JSON with a key from outside any test client: the status and the decoded answer."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.origin

    @property
    def graphql_url(self) -> str:
        return f"{self.origin}/graphql"

    def log(self) -> str:
        return self.log_path.read_text()

    @property
    def output(self) -> str:
        """Everything the process printed so far; all of it once it has stopped."""
        return self.log()

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert self.process.poll() is None, f"server exited with {self.process.returncode}:\n{self.log()}"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"server did not become ready:\n{self.log()}"
            time.sleep(0.1)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, as an orchestrator stops a container; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL to the server and all its workers, as when a host or container dies."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def start_server(
    env: dict[str, str], log_path: Path, *, port: int | None = None, preexec_fn: Callable[[], None] | None = None
) -> Server:
    """Start `switchboard serve` with `env` on `port` (a free one by default); `preexec_fn` runs in the child first.

    The caller takes charge of the process before waiting for it to be ready
    (`Server.wait_until_ready`), so one that never gets ready is still stopped.
    """
    port = free_port() if port is None else port
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*SWITCHBOARD, "serve", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so a kill reaches every worker.
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
    return Server(process, port, log_path)


@dataclass
class Servers:
    tmp_path: Path
    started: list[Server] = field(default_factory=list)

    def start(self, settings: Settings, *, preexec_fn: Callable[[], None] | None = None, **env: str) -> Server:
        """Serve `settings`, with `env` over its variables; `preexec_fn` runs in the child before it starts."""
        log_path = self.tmp_path / f"server-{len(self.started)}.log"
        server = start_server(server_environment(settings, **env), log_path, preexec_fn=preexec_fn)
        self.started.append(server)
        server.wait_until_ready()
        return server

    def stop_all(self) -> None:
        """Kill whatever is left of every server, workers included."""
        for server in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=30)


@contextmanager
def serving(env: dict[str, str]) -> Iterator[Server]:
    """`switchboard serve` on a free port with `env`, its log beside the data directory; stopped with SIGTERM after."""
    port = free_port()
    server = start_server(env, Path(env["SWITCHBOARD_DATA_DIR"]).parent / f"serve-{port}.log", port=port)
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)

"""Real `switchboard serve` processes for the tests about processes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from switchboard.settings import Settings

REPO = Path(__file__).resolve().parent.parent
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


def switchboard(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a `switchboard` command to its end."""
    return subprocess.run([*SWITCHBOARD, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def start_switchboard(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start a `switchboard` command beside the test, its output piped."""
    return subprocess.Popen([*SWITCHBOARD, *args], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text()

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


@dataclass
class Servers:
    tmp_path: Path
    started: list[Server] = field(default_factory=list)

    def start(self, settings: Settings, *, preexec_fn: Callable[[], None] | None = None, **env: str) -> Server:
        """Serve `settings`, with `env` over its variables; `preexec_fn` runs in the child before it starts."""
        port = free_port()
        log_path = self.tmp_path / f"server-{len(self.started)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [*SWITCHBOARD, "serve", "--port", str(port)],
                env=server_environment(settings, **env),
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group, so a kill reaches every worker.
                start_new_session=True,
                preexec_fn=preexec_fn,
            )
        server = Server(process, port, log_path)
        self.started.append(server)
        server.wait_until_ready()
        return server

    def stop_all(self) -> None:
        """Kill whatever is left of every server, workers included."""
        for server in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=30)

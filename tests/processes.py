"""Real `switchboard` processes on a fresh data directory: the CLI, and a server on a free port.

The primitives (the command, free ports) are tests/servers.py's; this module
adds the first-run path a user takes: no DATABASE_URL, no encryption key.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers import REPO, SWITCHBOARD, free_port
from tests.servers import switchboard as run

__all__ = ["Server", "create_api_key", "environment", "post", "run", "serving"]


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "DATABASE_URL"))}
    # Monitoring only where a test turns it on: it would check every number a test makes.
    return {**env, "SWITCHBOARD_DATA_DIR": str(tmp_path / "data"), "SWITCHBOARD_HEALTH_INTERVAL": "0", **extra}


def create_api_key(env: dict[str, str], organization: str = "Acme") -> str:
    issued = run("create-api-key", "--org", organization, env=env)
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip().splitlines()[-1]
    assert key.startswith("sb_live_")
    return key


def post(url: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
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
    port: int
    output: str = ""  # everything the process printed, once it has stopped

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.origin}/graphql"


@contextmanager
def serving(env: dict[str, str]) -> Iterator[Server]:
    """`switchboard serve` on a free port, answering by the time this yields; stopped after.

    Its output goes to a file beside the data directory, not a pipe: an unread
    pipe fills up and the server would block writing its request log.
    """
    server = Server(free_port())
    log = Path(env["SWITCHBOARD_DATA_DIR"]).parent / f"serve-{server.port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*SWITCHBOARD, "serve", "--port", str(server.port)], env=env, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_answering(server, process)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)
        server.output = log.read_text()


def _wait_until_answering(server: Server, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{server.origin}/healthz", timeout=5)
            return
        except (ConnectionError, urllib.error.URLError):
            assert process.poll() is None, "the server exited while starting"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)

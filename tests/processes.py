"""Real `switchboard` processes: the CLI, and a server on a free port with its own data directory."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import REPO

SWITCHBOARD = [sys.executable, "-m", "switchboard.cli"]


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SWITCHBOARD, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=60)


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SWITCHBOARD_ENCRYPTION_KEYS"}}
    return {**env, "SWITCHBOARD_DATA_DIR": str(tmp_path / "data"), **extra}


def create_api_key(env: dict[str, str], organization: str = "Acme") -> str:
    issued = run("create-api-key", "--org", organization, env=env)
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip().splitlines()[-1]
    assert key.startswith("sb_live_")
    return key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    """`switchboard serve` on a free port, answering by the time this yields; stopped after."""
    server = Server(free_port())
    process = subprocess.Popen(
        [*SWITCHBOARD, "serve", "--port", str(server.port)],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        _wait_until_answering(server, process)
        yield server
    finally:
        process.terminate()
        server.output, _ = process.communicate(timeout=30)


def _wait_until_answering(server: Server, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(server.url, timeout=5)
        except urllib.error.HTTPError:
            return  # any HTTP answer will do: it is up
        except (ConnectionError, urllib.error.URLError):
            assert process.poll() is None, "the server exited while starting"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        else:
            return

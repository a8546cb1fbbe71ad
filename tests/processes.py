"""Running the real `switchboard` command: a server on a free port, the CLI."""

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

REPO = Path(__file__).resolve().parent.parent
SWITCHBOARD = [sys.executable, "-m", "switchboard.cli"]


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SWITCHBOARD_ENCRYPTION_KEYS"}}
    return {**env, "SWITCHBOARD_DATA_DIR": str(data_dir), **extra}


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SWITCHBOARD, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_graphql(port: int, body: dict, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
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
    key: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def issue_key(env: dict[str, str], organization: str = "Acme") -> str:
    issued = run("create-api-key", "--org", organization, env=env)
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip().splitlines()[-1]


def wait_until_serving(port: int, key: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, "server exited while starting"
        try:
            post_graphql(port, {"query": "{ __typename }"}, key)
            return
        except (ConnectionError, urllib.error.URLError):
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)


@contextmanager
def running_server(env: dict[str, str], log: Path) -> Iterator[Server]:
    """`switchboard serve` on a free port, with a fresh API key, its output in `log`.

    The output goes to a file, not a pipe: an unread pipe fills up and the
    server would block writing its log.
    """
    key = issue_key(env)
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen([*SWITCHBOARD, "serve", "--port", str(port)], env=env, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_until_serving(port, key, process)
        yield Server(port, key, process, log)
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()

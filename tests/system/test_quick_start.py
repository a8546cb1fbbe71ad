"""The README's quick start, run as written: each command of its `sh` blocks, in order, against a
fresh SQLite database, printing what the block after it shows.

`make run` is run as make runs it, on a free port (SWITCHBOARD_PORT) and a data directory of the
test's own, in the venv running these tests and without bringing its install up to date. Every
other block runs in bash from the clone, the README's address pointed at that port and its
`.venv/bin/` at this venv. Ids, keys, times and process ids are compared by their shape.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.secret_sweep import SWEEP
from tests.support.servers import REPO, free_port
from tests.support.servers import first_run_environment as environment

README = REPO / "README.md"
BIN = Path(sys.executable).parent
ADDRESS = "127.0.0.1:8000"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.M | re.S)
OUTPUTS = ("text", "json")
# What differs from one run to the next, each replaced by the same placeholder wherever it appears.
VARYING = [
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
    (re.compile(r"\bsb_live_[A-Za-z0-9_-]+"), "<api key>"),
    (re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", re.M), "<time> "),
    (re.compile(r"server process \[\d+\]"), "server process [<pid>]"),
]
KEY_LINE = re.compile(r"^export KEY=(sb_live_\S+)", re.M)


@dataclass
class Step:
    command: str
    output: str | None  # None: the README shows no output, so the command prints nothing


def quick_start() -> list[Step]:
    """The quick start's commands, each with the output block that follows it, if any."""
    section = README.read_text().split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    steps: list[Step] = []
    for language, body in FENCE.findall(section):
        if language == "sh":
            steps.append(Step(body, None))
        else:
            assert language in OUTPUTS, f"a ```{language} block in the quick start"
            assert steps and steps[-1].output is None, f"output that follows no command:\n{body}"
            steps[-1].output = body
    return steps


def normalised(text: str) -> str:
    for pattern, placeholder in VARYING:
        text = pattern.sub(placeholder, text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


@contextmanager
def make_run(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`make run`, stopped as Ctrl-C stops it: SIGINT to its process group."""
    command = ["make", "--no-print-directory", "-o", ".venv/.installed-runtime", "run", f"BIN={BIN}"]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def wait_until_answering(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, f"make run exited with {process.returncode}:\n{log.read_text()}"
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"nothing answered on port {port}:\n{log.read_text()}"
            time.sleep(0.1)


def test_the_quick_start_is_make_run_then_commands_each_showing_its_output() -> None:
    steps = quick_start()
    assert steps[0] == Step("make run\n", steps[0].output) and steps[0].output is not None
    assert any(KEY_LINE.search(step.command) for step in steps)
    assert sum("curl " in step.command for step in steps) >= 2
    for step in steps[1:]:
        # Every command shows what it prints; `export` prints nothing.
        assert (step.output is None) == step.command.startswith("export "), step.command


def test_the_quick_start_prints_what_the_readme_shows(tmp_path: Path) -> None:
    steps = quick_start()
    port = free_port()
    # A terminal's log lines, and a fresh data directory: a first run, as from a fresh clone.
    env = environment(tmp_path, SWITCHBOARD_PORT=str(port), SWITCHBOARD_LOG_FORMAT="text")
    data_dir = env["SWITCHBOARD_DATA_DIR"]

    def here(text: str) -> str:
        """The README's text as it applies to this run: its port, its data directory, this venv."""
        return text.replace(ADDRESS, f"127.0.0.1:{port}").replace(
            "generated a key into data/", f"generated a key into {data_dir}/"
        )

    log = tmp_path / "make-run.log"
    exported: list[str] = []
    key = ""
    with make_run(env, log) as process:
        wait_until_answering(port, process, log)
        for step in steps[1:]:
            command = here(step.command).replace(".venv/bin/", f"{BIN}/")
            if key_line := KEY_LINE.search(command):
                # The reader pastes the key the previous step printed.
                command = command.replace(key_line[1], key)
                exported.append(command)
                SWEEP.add_secret(key)
                continue
            result = subprocess.run(
                ["bash", "-c", "set -eo pipefail\n" + "\n".join([*exported, command])],
                # One stream, as a terminal shows both in the order they come.
                env=env,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=60,
            )
            printed = result.stdout
            assert result.returncode == 0, (command, printed)
            if "create-api-key" in command:
                key = printed.strip().splitlines()[-1]
            else:
                SWEEP.add_text("quick start output", command, printed)
            assert step.output is not None
            assert normalised(printed) == normalised(here(step.output)), command
    server_log = log.read_text()
    SWEEP.add_text("server log", str(log), server_log)
    SWEEP.add_secret("your-auth-token")

    # `make run`'s block: make's command line, then the server's first lines.
    shown = normalised(here(steps[0].output or "")).splitlines()
    printed = normalised(server_log.replace(f"{BIN}/", ".venv/bin/")).splitlines()
    assert printed[: len(shown)] == shown

"""The outside tools the system tests drive: programs, npm projects, the Python client's venv.

`make test-deps` installs them (`.ci/run` runs it before the suite, and
`make test` depends on it); a test never installs anything. A test asks for
a tool here, and when it is missing, or was installed from another lock or
requirements file than the one committed, the test fails naming that target.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO

INSTALL = "make test-deps"
# Written by `make test-deps` beside what it installed: the sha256 of the lock
# or requirements file it installed from.
STAMP = ".switchboard-installed-from"


def check(command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run a command the test needs to succeed; fail with its output when it does not."""
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def program(command: str, needed_for: str) -> str:
    """The path of `command`; the test fails naming the make target when it is not installed."""
    path = shutil.which(command)
    if path is None:
        pytest.fail(
            f"{command} is needed for {needed_for} but is not installed: run `{INSTALL}`"
            " (as root it installs it with apt-get)"
        )
    return path


def npm_project(project: Path) -> Path:
    """`project`'s node_modules, as `make test-deps` installed it from the committed package-lock.json."""
    program("node", "the Node.js tools of the system tests")
    program("npm", "the Node.js tools of the system tests")
    node_modules = project / "node_modules"
    _require_installed_from(node_modules, project / "package-lock.json")
    return node_modules


def client_venv(project: Path) -> Path:
    """The bin directory of `project`'s own virtual environment, as `make test-deps` made it from requirements.txt."""
    venv = project / ".venv"
    _require_installed_from(venv, project / "requirements.txt")
    return venv / "bin"


def _require_installed_from(installed: Path, source: Path) -> None:
    stamp = installed / STAMP
    if not stamp.is_file():
        pytest.fail(f"{_shown(installed)} is not installed: run `{INSTALL}`")
    if stamp.read_text().strip() != hashlib.sha256(source.read_bytes()).hexdigest():
        pytest.fail(
            f"{_shown(installed)} was installed from another {source.name} than {_shown(source)}: run `{INSTALL}`"
        )


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def chromium() -> str:
    """Debian's Chromium, the browser the browser tests drive."""
    return program("chromium", "the browser tests")

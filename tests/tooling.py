"""The outside tools the browser and client tests drive: npm projects, a client's own venv, Chromium.

Each is set up on first use and kept inside the clone (git-ignored), so a
second run only checks that the lock or requirements file has not changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

STAMP = ".switchboard-installed-from"


def check(command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run a setup command; fail with its output when it fails."""
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _up_to_date(directory: Path, source: Path) -> bool:
    stamp = directory / STAMP
    return stamp.is_file() and stamp.read_text() == _digest(source)


def _mark_installed(directory: Path, source: Path) -> None:
    (directory / STAMP).write_text(_digest(source))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def npm_ci(project: Path) -> Path:
    """`npm ci` in `project` unless its node_modules came from this package-lock.json; the node_modules path."""
    if shutil.which("npm") is None:
        pytest.fail("npm is needed for this test (Node 20 or newer): apt-get install nodejs npm")
    lock = project / "package-lock.json"
    node_modules = project / "node_modules"
    if not _up_to_date(node_modules, lock):
        check(["npm", "ci", "--no-audit", "--no-fund"], cwd=project)
        _mark_installed(node_modules, lock)
    return node_modules


def client_venv(project: Path) -> Path:
    """A virtual environment of `project`'s own, from its requirements.txt; its bin directory."""
    requirements = project / "requirements.txt"
    venv = project / ".venv"
    if not _up_to_date(venv, requirements):
        check([sys.executable, "-m", "venv", "--clear", str(venv)], cwd=project)
        check([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(requirements)], cwd=project)
        _mark_installed(venv, requirements)
    return venv / "bin"


def debian_tool(command: str, package: str, needed_for: str) -> str:
    """A program from Debian's packages, installed with apt when running as root; its path."""
    path = shutil.which(command)
    if path is None and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        check(["apt-get", "update", "-qq"], cwd=Path("/"), env=env)
        check(["apt-get", "install", "-y", "-qq", package], cwd=Path("/"), env=env)
        path = shutil.which(command)
    if path is None:
        pytest.fail(f"{command} is needed for {needed_for}: apt-get install {package} (as root)")
    return path


def chromium() -> str:
    """Debian's Chromium, the browser the browser tests drive."""
    return debian_tool("chromium", "chromium", "the browser tests")

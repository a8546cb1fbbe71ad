"""The system tests' tools are installed by `make test-deps`; a test only checks them, naming that target."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.support.tooling import STAMP, client_venv, npm_project, program

PACKAGE = {"name": "tooling-check", "version": "1.0.0", "private": True}
# A lock file without dependencies: `npm ci` would install it offline in a blink.
LOCK = {
    "name": "tooling-check",
    "version": "1.0.0",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {"": {"name": "tooling-check", "version": "1.0.0"}},
}


def npm_project_at(path: Path) -> Path:
    (path / "package.json").write_text(json.dumps(PACKAGE))
    (path / "package-lock.json").write_text(json.dumps(LOCK))
    return path


def test_a_missing_program_fails_naming_the_make_target() -> None:
    expected = r"^no-such-tool-3f9 is needed for this check but is not installed: run `make test-deps`"
    with pytest.raises(pytest.fail.Exception, match=expected):
        program("no-such-tool-3f9", "this check")


def test_npm_packages_not_installed_fail_naming_the_make_target_and_install_nothing(tmp_path: Path) -> None:
    project = npm_project_at(tmp_path)
    with pytest.raises(pytest.fail.Exception, match=r"node_modules is not installed: run `make test-deps`$"):
        npm_project(project)
    assert not (project / "node_modules").exists()


def test_npm_packages_from_another_lock_fail_naming_the_make_target(tmp_path: Path) -> None:
    project = npm_project_at(tmp_path)
    (project / "node_modules").mkdir()
    (project / "node_modules" / STAMP).write_text(hashlib.sha256(b"an older lock").hexdigest() + "\n")
    expected = r"installed from another package-lock.json than .*: run `make test-deps`$"
    with pytest.raises(pytest.fail.Exception, match=expected):
        npm_project(project)


def test_npm_packages_installed_from_the_lock_are_used(tmp_path: Path) -> None:
    project = npm_project_at(tmp_path)
    (project / "node_modules").mkdir()
    # As `make test-deps` writes it: sha256sum's digest and a newline.
    digest = hashlib.sha256((project / "package-lock.json").read_bytes()).hexdigest()
    (project / "node_modules" / STAMP).write_text(digest + "\n")
    assert npm_project(project) == project / "node_modules"


def test_a_client_venv_not_made_fails_naming_the_make_target(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("httpx==0.28.1\n")
    with pytest.raises(pytest.fail.Exception, match=r"\.venv is not installed: run `make test-deps`$"):
        client_venv(tmp_path)
    assert not (tmp_path / ".venv").exists()

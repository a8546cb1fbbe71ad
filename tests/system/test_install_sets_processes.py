"""What each make target installs: `make run` only what serving needs, the test tools and the
benchmark's chart in extras of their own, all in one .venv that only ever grows.

Nothing is installed here: pyproject.toml is read, the installed packages'
metadata followed, and make only asked what it would do (`make -n`).

These are the tests that run make in a copy of the repository; the ones that
only read are in tests/unit/test_install_sets.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO

# --- make ---------------------------------------------------------------------

STAMPS = (".venv/.installed-runtime", ".venv/.installed-bench", ".venv/.installed")
# What `make test` looks at besides the venv: it also runs `make test-deps`.
TEST_DEPS_FILES = (
    "tests/graphiql-cdn/package.json",
    "tests/graphiql-cdn/package-lock.json",
    "tests/graphql_http_audit/package.json",
    "tests/graphql_http_audit/package-lock.json",
    "clients/typescript/package.json",
    "clients/typescript/package-lock.json",
    "clients/python/requirements.txt",
)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The Makefile and pyproject.toml in a directory of their own, with no .venv yet."""
    shutil.copy(REPO / "Makefile", tmp_path)
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    for name in TEST_DEPS_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def installs(checkout: Path, target: str) -> list[str]:
    """What `make <target>` would pip-install into .venv, as the arguments after `pip install --quiet`."""
    result = subprocess.run(["make", "-n", target], cwd=checkout, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    prefix = ".venv/bin/python -m pip install --quiet "
    return [line.removeprefix(prefix) for line in result.stdout.splitlines() if line.startswith(prefix)]


def installed(checkout: Path, *stamps: str) -> None:
    """As if make had made `stamps`, after pyproject.toml last changed."""
    (checkout / ".venv/bin").mkdir(parents=True, exist_ok=True)
    (checkout / ".venv/bin/python").touch()
    after = (checkout / "pyproject.toml").stat().st_mtime + 10
    for stamp in stamps:
        (checkout / stamp).touch()
        os.utime(checkout / stamp, (after, after))


def test_make_run_on_a_fresh_clone_installs_what_serving_needs(checkout: Path) -> None:
    assert installs(checkout, "run") == ["--upgrade pip", "-e ."]


def test_make_bench_adds_the_chart_and_make_test_the_test_tools(checkout: Path) -> None:
    assert installs(checkout, "bench") == ["--upgrade pip", "-e '.[bench]'"]
    assert installs(checkout, "test") == ["--upgrade pip", "-e '.[test,bench]'"]


def test_make_test_after_make_run_adds_to_the_same_venv(checkout: Path) -> None:
    installed(checkout, ".venv/.installed-runtime")
    assert installs(checkout, "run") == []
    assert installs(checkout, "test") == ["-e '.[test,bench]'"]
    assert installs(checkout, "bench") == ["-e '.[bench]'"]


def test_make_run_and_make_bench_after_make_test_install_nothing(checkout: Path) -> None:
    # The test install touches every stamp it covers.
    result = subprocess.run(["make", "-n", ".venv/.installed"], cwd=checkout, capture_output=True, text=True, timeout=60)
    assert "touch .venv/.installed .venv/.installed-bench .venv/.installed-runtime" in result.stdout.splitlines()
    installed(checkout, *STAMPS)
    assert installs(checkout, "run") == []
    assert installs(checkout, "bench") == []
    assert installs(checkout, "test") == []


def test_a_changed_pyproject_reinstalls(checkout: Path) -> None:
    installed(checkout, *STAMPS)
    later = (checkout / ".venv/.installed").stat().st_mtime + 10
    os.utime(checkout / "pyproject.toml", (later, later))
    assert installs(checkout, "run") == ["-e ."]
    assert installs(checkout, "test") == ["-e '.[test,bench]'"]

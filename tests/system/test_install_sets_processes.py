"""What each make target installs: `make run` only what serving needs, the test tools and the
benchmark's chart in extras of their own, all in one .venv that only ever grows, each set from
its lock file in requirements/ (exact versions, hashes required).

Nothing is installed here: make is only asked what it would do (`make -n`).

These are the tests that run make, in the repository or a copy of it; the ones that
only read are in tests/unit/test_install_sets.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO

# The lock files `make lock` writes (tests/unit/test_install_sets.py checks their contents).
LOCKS = ("requirements/runtime.txt", "requirements/bench.txt", "requirements/test.txt")


def test_the_locks_say_how_they_were_made() -> None:
    """The command in each lock's header is the one `make lock` runs for it."""
    dry_run = subprocess.run(["make", "-n", "lock"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert dry_run.returncode == 0, dry_run.stderr
    compiles = {line.split(" -o ")[1]: line for line in dry_run.stdout.splitlines() if " pip compile " in line}
    assert set(compiles) == set(LOCKS)
    for lock, command in compiles.items():
        header = (REPO / lock).read_text().splitlines()[1].removeprefix("#    uv ")
        assert " ".join(command.split("uv ", 1)[1].replace(" --quiet", "").split()) == header


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
    """The Makefile, pyproject.toml and the locks in a directory of their own, with no .venv yet."""
    shutil.copy(REPO / "Makefile", tmp_path)
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    shutil.copytree(REPO / "requirements", tmp_path / "requirements")
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
    """As if make had made `stamps`, after pyproject.toml and the locks last changed."""
    (checkout / ".venv/bin").mkdir(parents=True, exist_ok=True)
    (checkout / ".venv/bin/python").touch()
    after = max(p.stat().st_mtime for p in [checkout / "pyproject.toml", *(checkout / "requirements").iterdir()]) + 10
    for stamp in stamps:
        (checkout / stamp).touch()
        os.utime(checkout / stamp, (after, after))


RUN = ["--require-hashes -r requirements/runtime.txt", "--no-deps -e ."]
BENCH = ["--require-hashes -r requirements/bench.txt", "--no-deps -e ."]
TEST = ["--require-hashes -r requirements/test.txt", "--no-deps -e ."]


def test_make_run_on_a_fresh_clone_installs_what_serving_needs_from_its_lock(checkout: Path) -> None:
    assert installs(checkout, "run") == ["--upgrade pip", *RUN]


def test_make_bench_adds_the_chart_and_make_test_and_make_check_the_tools(checkout: Path) -> None:
    assert installs(checkout, "bench") == ["--upgrade pip", *BENCH]
    assert installs(checkout, "test") == ["--upgrade pip", *TEST]
    assert installs(checkout, "check") == ["--upgrade pip", *TEST]


def test_make_test_after_make_run_adds_to_the_same_venv(checkout: Path) -> None:
    installed(checkout, ".venv/.installed-runtime")
    assert installs(checkout, "run") == []
    assert installs(checkout, "test") == TEST
    assert installs(checkout, "bench") == BENCH


def test_make_run_and_make_bench_after_make_test_install_nothing(checkout: Path) -> None:
    # The test install touches every stamp it covers.
    result = subprocess.run(
        ["make", "-n", ".venv/.installed"], cwd=checkout, capture_output=True, text=True, timeout=60
    )
    assert "touch .venv/.installed .venv/.installed-bench .venv/.installed-runtime" in result.stdout.splitlines()
    installed(checkout, *STAMPS)
    assert installs(checkout, "run") == []
    assert installs(checkout, "bench") == []
    assert installs(checkout, "test") == []


@pytest.mark.parametrize("changed", ["pyproject.toml", "requirements/runtime.txt"])
def test_a_changed_pyproject_or_lock_reinstalls(checkout: Path, changed: str) -> None:
    installed(checkout, *STAMPS)
    later = (checkout / ".venv/.installed").stat().st_mtime + 10
    os.utime(checkout / changed, (later, later))
    assert installs(checkout, "run") == RUN
    if changed == "pyproject.toml":
        assert installs(checkout, "test") == TEST


def test_a_lock_that_lacks_a_requirement_fails_the_install(checkout: Path) -> None:
    """pip check after the install: pyproject.toml asks for more than the lock brought."""
    result = subprocess.run(["make", "-n", ".venv/.installed-runtime"], cwd=checkout, capture_output=True, text=True)
    lines = result.stdout.splitlines()
    assert (
        lines.index(".venv/bin/python -m pip check")
        == lines.index(".venv/bin/python -m pip install --quiet --no-deps -e .") + 1
    )

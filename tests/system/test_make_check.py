"""`make check` fails on what it is there to catch: a type error, an upward import between the layers.

Each test copies the project to a temporary directory, plants one fault, and runs the step of
`make check` that must catch it, as `make -n check` spells it, with this venv's tools.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO

PACKAGES = ("switchboard", "schema", "models", "resolvers", "bench")


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The project's packages and configuration, without the tests (bar the support bench/ imports) or the venv."""
    for package in (*PACKAGES, "requirements", "tests/support"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "results"))
    shutil.copy2(REPO / "tests/__init__.py", tmp_path / "tests/__init__.py")
    for name in ("pyproject.toml", "Makefile"):
        shutil.copy2(REPO / name, tmp_path / name)
    # mypy's cache from an earlier `make check`, if any: only the changed module is checked again.
    if (REPO / ".mypy_cache").is_dir():
        shutil.copytree(REPO / ".mypy_cache", tmp_path / ".mypy_cache")
    return tmp_path


def check_step(copy: Path, tool: str) -> list[str]:
    """The command of `make check` that runs `tool`, with this checkout's venv."""
    result = subprocess.run(["make", "-n", "check"], cwd=copy, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith(f".venv/bin/{tool}")]
    return [str(REPO / ".venv/bin" / tool), *line.split()[1:]]


def run(copy: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=copy, capture_output=True, text=True, timeout=600)


def plant(path: Path, line: str) -> int:
    """Append `line` to the module at `path`; returns its line number."""
    text = path.read_text()
    path.write_text(text + line + "\n")
    return text.count("\n") + 1


def test_the_type_check_fails_on_a_planted_type_error_naming_its_file_and_line(copy: Path) -> None:
    number = plant(copy / "resolvers/rules.py", 'planted: int = "a"')

    result = run(copy, check_step(copy, "mypy"))

    assert result.returncode == 1, result.stdout + result.stderr
    # The planted error, and it alone: the rest of the tree is clean.
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, result.stdout
    assert re.match(rf"resolvers/rules\.py:{number}: error: Incompatible types in assignment", errors[0]), errors


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("models/secrets.py", "resolvers.rules"),
        ("resolvers/agents.py", "schema.errors"),
        ("schema/errors.py", "switchboard.settings"),
    ],
)
def test_the_layer_contract_fails_on_a_planted_upward_import(copy: Path, module: str, upward: str) -> None:
    command = check_step(copy, "lint-imports")
    assert run(copy, command).returncode == 0, "the contract holds before the import is planted"
    plant(copy / module, f"import {upward}")

    result = run(copy, command)

    assert result.returncode != 0, result.stdout
    importer = module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> {upward}" in result.stdout, result.stdout
    assert "1 broken" in result.stdout, result.stdout

"""What each make target installs: `make run` only what serving needs, the test tools and the
benchmark's chart in extras of their own, all in one .venv that only ever grows.

Nothing is installed here: pyproject.toml is read, the installed packages'
metadata followed, and make only asked what it would do (`make -n`).

The tests that run make are in tests/system/test_install_sets_processes.py.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import shutil
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
RUNTIME_PACKAGES = ("switchboard", "schema", "models", "resolvers")
LOCAL_MODULES = {*RUNTIME_PACKAGES, "bench", "tests"}


def closure(requirements: Iterable[str]) -> set[str]:
    """The distributions `pip install` of `requirements` brings, as far as this environment's metadata tells."""
    extras_of: dict[str, set[str]] = {}
    pending = [Requirement(r) for r in requirements]
    while pending:
        requirement = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        known = extras_of.get(name)
        if known is not None and set(requirement.extras) <= known:
            continue
        extras_of[name] = (known or set()) | set(requirement.extras)
        for line in importlib.metadata.distribution(name).requires or []:
            wanted = Requirement(line)
            if wanted.marker is None or any(wanted.marker.evaluate({"extra": e}) for e in extras_of[name] | {""}):
                wanted.marker = None
                pending.append(wanted)
    return set(extras_of)


def names(requirements: Iterable[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def third_party_imports(*folders: str) -> dict[str, set[str]]:
    """Distribution -> the modules under `folders` that import it (at any depth, inside functions too)."""
    distributions = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in sys.stdlib_module_names or top in LOCAL_MODULES:
                        continue
                    for distribution in distributions.get(top, [f"<no installed distribution provides {top}>"]):
                        found.setdefault(canonicalize_name(distribution), set()).add(str(path.relative_to(REPO)))
    return found


def test_serving_pulls_in_no_test_tool_and_no_chart() -> None:
    extras = PROJECT["optional-dependencies"]
    tools = names(extras["test"]) | names(extras["bench"])
    assert {"pytest", "hypothesis", "schemathesis", "playwright", "matplotlib"} <= tools
    assert closure(PROJECT["dependencies"]) & tools == set()


def test_the_chart_is_the_benchmark_s_alone() -> None:
    extras = PROJECT["optional-dependencies"]
    assert names(extras["bench"]) == {"matplotlib"}
    assert "matplotlib" not in names(extras["test"])


def test_the_served_code_imports_only_what_serving_installs() -> None:
    runtime = closure(PROJECT["dependencies"])
    missing = {d: sorted(m) for d, m in third_party_imports(*RUNTIME_PACKAGES).items() if d not in runtime}
    assert missing == {}


def test_the_benchmark_imports_only_what_make_bench_installs() -> None:
    installed = closure([*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["bench"]])
    missing = {d: sorted(m) for d, m in third_party_imports("bench").items() if d not in installed}
    assert missing == {}


# --- make ---------------------------------------------------------------------

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


def installed(checkout: Path, *stamps: str) -> None:
    """As if make had made `stamps`, after pyproject.toml last changed."""
    (checkout / ".venv/bin").mkdir(parents=True, exist_ok=True)
    (checkout / ".venv/bin/python").touch()
    after = (checkout / "pyproject.toml").stat().st_mtime + 10
    for stamp in stamps:
        (checkout / stamp).touch()
        os.utime(checkout / stamp, (after, after))

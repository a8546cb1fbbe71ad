"""What each make target installs: `make run` only what serving needs, the test tools and the
benchmark's chart in extras of their own, all in one .venv that only ever grows, each set from
its lock file in requirements/ (exact versions, hashes required).

Nothing is installed here: pyproject.toml and the locks are read, the installed packages'
metadata followed, and make only asked what it would do (`make -n`).

The tests that run make are in tests/system/test_install_sets_processes.py.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterable

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
    # packaging: a library the tests import, which serving installs too (Strawberry and limits need it).
    tools = (names(extras["test"]) | names(extras["bench"]) | names(extras["dev"])) - {"packaging"}
    assert {"pytest", "hypothesis", "schemathesis", "playwright", "matplotlib", "ruff", "mypy"} <= tools
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


def test_every_imported_distribution_is_declared_where_it_is_used() -> None:
    """Not only pulled in by another package: a distribution the code imports is named in pyproject.toml."""
    extras = PROJECT["optional-dependencies"]
    runtime = names(PROJECT["dependencies"])
    declared = {
        RUNTIME_PACKAGES: runtime,
        ("bench",): runtime | names(extras["bench"]),
        ("tests",): runtime | names(extras["bench"]) | names(extras["test"]),
    }
    undeclared = {
        folders: {d: sorted(m) for d, m in third_party_imports(*folders).items() if d not in names_ok}
        for folders, names_ok in declared.items()
    }
    assert undeclared == {RUNTIME_PACKAGES: {}, ("bench",): {}, ("tests",): {}}


# --- lock files -----------------------------------------------------------------

LOCKS = {
    "requirements/runtime.txt": ((), PROJECT["dependencies"]),
    "requirements/bench.txt": (("bench",), [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["bench"]]),
    "requirements/test.txt": (
        ("test", "bench", "dev"),
        [*PROJECT["dependencies"], *(r for e in ("test", "bench", "dev") for r in PROJECT["optional-dependencies"][e])],
    ),
}
PIN = re.compile(r"^([A-Za-z0-9._-]+)(\[[^\]]*\])?==([^ ;\\]+)")


def pins(lock: str) -> dict[str, set[str]]:
    """Name -> the versions a lock pins (two where a marker splits them, e.g. by Python version)."""
    found: dict[str, set[str]] = {}
    for line in (REPO / lock).read_text().splitlines():
        match = PIN.match(line)
        if match:
            found.setdefault(canonicalize_name(match[1]), set()).add(match[3])
    return found


@pytest.mark.parametrize("lock", LOCKS)
def test_each_lock_pins_every_requirement_of_its_set_within_pyproject_s_range(lock: str) -> None:
    """A requirement added to or narrowed in pyproject.toml without `make lock` fails here."""
    pinned = pins(lock)
    wrong = {}
    for line in LOCKS[lock][1]:
        requirement = Requirement(line)
        versions = pinned.get(canonicalize_name(requirement.name), set())
        if not versions or not all(requirement.specifier.contains(v, prereleases=True) for v in versions):
            wrong[requirement.name] = sorted(versions) or "not in the lock"
    assert wrong == {}


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_has_hashes_and_the_smaller_locks_agree_with_the_test_lock(lock: str) -> None:
    text = (REPO / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert entries and all("--hash=sha256:" in entry for entry in entries if PIN.match(entry))
    everything = pins("requirements/test.txt")
    assert {name: v for name, v in pins(lock).items() if everything.get(name) != v} == {}

"""What each make target installs: `make run` only what serving needs, the test tools and the
benchmark's chart in extras of their own, all in one .venv that only ever grows, each set from
its lock file in requirements/ (exact versions, hashes required).

Nothing is installed here: pyproject.toml and the locks are read, the installed packages'
metadata followed, and make only asked what it would do (`make -n`).
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.servers import REPO

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


def test_the_locks_say_how_they_were_made() -> None:
    """The command in each lock's header is the one `make lock` runs for it."""
    dry_run = subprocess.run(["make", "-n", "lock"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert dry_run.returncode == 0, dry_run.stderr
    compiles = {
        line.split(" -o ")[1]: line for line in dry_run.stdout.splitlines() if " pip compile " in line
    }
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
    result = subprocess.run(["make", "-n", ".venv/.installed"], cwd=checkout, capture_output=True, text=True, timeout=60)
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
    assert lines.index(".venv/bin/python -m pip check") == lines.index(".venv/bin/python -m pip install --quiet --no-deps -e .") + 1

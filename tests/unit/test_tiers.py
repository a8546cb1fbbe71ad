"""The test tiers keep their promises (docs/test-tiers.md): unit tests touch no database and start no
process, api tests start no process, and no test imports conftest.py or another test module.

Read from the test modules' source, so a test in the wrong tier fails here
before it slows down `make test-fast`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import REPO

TESTS = REPO / "tests"
TIERS = ("unit", "api", "system")
# What starts or drives another process: only the system tier may use it.
PROCESS_MODULES = {
    "subprocess",
    "multiprocessing",
    "playwright",
    "schemathesis",
    "bench",
    "tests.support.servers",
    "tests.support.kamailio",
    "tests.support.provider_fixtures",
}
PROCESS_FIXTURES = {"servers", "kamailio"}
# What reaches a database: not in the unit tier.
DATABASE_MODULES = {"tortoise", "asyncpg", "tests.support.app", "tests.support.database"}
# Field declarations, read to compare a model's columns with its spec: no connection is made.
DECLARATIONS = ("tortoise.fields",)
DATABASE_FIXTURES = {
    "settings",
    "app",
    "api",
    "other_key",
    "unmigrated_database_url",
    "migrated_sqlite",
    "postgres_database",
}


def modules(tier: str) -> list[Path]:
    return sorted((TESTS / tier).glob("test_*.py"))


def imported(tree: ast.Module) -> set[str]:
    """Every module the source imports, and each of its parents (`a.b.c` gives `a`, `a.b`, `a.b.c`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found = [node.module]
        else:
            continue
        for name in found:
            if name.startswith(DECLARATIONS):
                continue
            parts = name.split(".")
            names |= {".".join(parts[: i + 1]) for i in range(len(parts))}
    return names


def fixtures(tree: ast.Module) -> set[str]:
    """The parameters of every function in the module: the fixtures its tests and fixtures ask for."""
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    return {arg.arg for function in functions for arg in function.args.args}


def findings(path: Path, modules_: set[str], fixtures_: set[str]) -> list[str]:
    tree = ast.parse(path.read_text())
    found = [f"imports {name}" for name in sorted(imported(tree) & modules_)]
    return found + [f"takes the fixture {name}" for name in sorted(fixtures(tree) & fixtures_)]


def test_every_test_module_is_in_a_tier() -> None:
    assert sorted(path.name for path in TESTS.glob("test_*.py")) == []
    assert all(modules(tier) for tier in TIERS)
    for tier in TIERS:
        assert (TESTS / tier / "__init__.py").is_file(), tier


@pytest.mark.parametrize("tier", ["unit", "api"])
def test_no_process_below_the_system_tier(tier: str) -> None:
    wrong = {path.name: findings(path, PROCESS_MODULES, PROCESS_FIXTURES) for path in modules(tier)}
    assert {name: found for name, found in wrong.items() if found} == {}


def test_no_database_in_the_unit_tier() -> None:
    wrong = {path.name: findings(path, DATABASE_MODULES, DATABASE_FIXTURES) for path in modules("unit")}
    assert {name: found for name, found in wrong.items() if found} == {}


@pytest.mark.parametrize("tier", TIERS)
def test_tests_import_helpers_from_support_only(tier: str) -> None:
    """conftest.py holds fixtures, test modules hold tests: what tests share is in tests/support."""
    forbidden = ("tests.conftest", "tests.test_", *(f"tests.{t}" for t in TIERS))
    wrong = {}
    for path in modules(tier):
        found = sorted(name for name in imported(ast.parse(path.read_text())) if name.startswith(forbidden))
        if found:
            wrong[path.name] = found
    assert wrong == {}

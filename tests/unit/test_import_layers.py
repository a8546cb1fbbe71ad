"""No package imports one above it (models <- resolvers <- schema <- switchboard), and inside
switchboard/ the REST API and the GraphQL view meet only in http/'s shared modules.

Read from the source with ast, imports inside functions included, so nothing is imported to check.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import REPO

# What each package's modules may not import, and why.
FORBIDDEN: dict[str, tuple[tuple[str, ...], str]] = {
    "models": (("resolvers", "schema", "switchboard"), "models are the bottom layer"),
    "resolvers": (("schema", "switchboard"), "resolvers know nothing of GraphQL types or HTTP"),
    "schema": (("switchboard",), "the schema knows nothing of HTTP"),
    "switchboard/rest": (
        ("switchboard.http.view",),
        "REST reaches auth and bodies through http/, never the GraphQL view",
    ),
    "switchboard/http": (("switchboard.rest",), "the shared HTTP layer serves REST and does not depend on it"),
}


def imported(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            # `from switchboard.http import view` names the module in the alias.
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def breaches(package: str) -> list[str]:
    banned, _ = FORBIDDEN[package]
    found = []
    for path in sorted((REPO / package).rglob("*.py")):
        for line, module in imported(path):
            if any(module == name or module.startswith(name + ".") for name in banned):
                found.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    return sorted(set(found))


@pytest.mark.parametrize("package", FORBIDDEN)
def test_no_import_against_the_layers(package: str) -> None:
    assert breaches(package) == [], FORBIDDEN[package][1]


def test_a_planted_breach_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = tmp_path / "switchboard" / "rest" / "planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text("def f():\n    from switchboard.http import view\n")
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    assert breaches("switchboard/rest") == ["switchboard/rest/planted.py:2 imports switchboard.http.view"]

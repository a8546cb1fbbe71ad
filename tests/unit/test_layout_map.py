"""README's layout map names every package folder there is, and only folders that exist."""

from __future__ import annotations

import re

from tests.support import REPO

PACKAGES = ("schema", "resolvers", "models", "switchboard")


def layout_map() -> set[str]:
    text = (REPO / "README.md").read_text()
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    named: set[str] = set()
    parent = ""
    for line in block.splitlines():
        match = re.match(r"^( *)([\w.-]+)/", line)
        if match is None:
            continue
        indent, name = match.groups()
        path = f"{parent}/{name}" if indent else name
        if not indent:
            parent = name
        named.add(path)
    return named


def package_folders() -> set[str]:
    return {
        str(init.parent.relative_to(REPO))
        for package in PACKAGES
        for init in (REPO / package).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


def test_every_package_folder_is_in_the_map() -> None:
    assert package_folders() - layout_map() == set()


def test_every_folder_in_the_map_exists() -> None:
    assert [path for path in sorted(layout_map()) if not (REPO / path).is_dir()] == []


def test_the_map_is_read_with_its_nesting() -> None:
    named = layout_map()
    assert {"switchboard/http", "resolvers/phone_numbers", "models/migrations", "tests"} <= named

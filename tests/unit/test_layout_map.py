"""README's layout map names every package folder there is, and only folders that exist."""

from __future__ import annotations

import re

from tests.support import REPO

PACKAGES = ("schema", "resolvers", "models", "switchboard")


def layout_map() -> set[str]:
    text = (REPO / "README.md").read_text()
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    named: set[str] = set()
    # The folders enclosing the line being read, each with its indent.
    enclosing: list[tuple[int, str]] = []
    for line in block.splitlines():
        match = re.match(r"^( *)([\w.-]+)/", line)
        if match is None:
            continue
        indent, name = len(match[1]), match[2]
        while enclosing and enclosing[-1][0] >= indent:
            enclosing.pop()
        path = "/".join([*(folder for _, folder in enclosing), name])
        enclosing.append((indent, path.rsplit("/", 1)[-1]))
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
    assert {"switchboard/http", "switchboard/http/compiler", "resolvers/phone_numbers", "tests"} <= named
    assert "switchboard/compiler" not in named

"""Every relative link of README.md, docs/ and clients/README.md names a file that exists, and
its #anchor a heading of that file (as GitHub makes anchors of headings)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from tests.support import REPO

DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "clients" / "README.md"]
# CommonMark with GitHub's tables, so links in table cells count and code never does.
MARKDOWN = MarkdownIt("commonmark").enable("table")
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.I)


def inline_tokens(path: Path) -> Iterator[tuple[Token, Token]]:
    """Each inline token of the document, beside the block token it belongs to."""
    tokens = MARKDOWN.parse(path.read_text())
    for block, inline in zip(tokens, tokens[1:], strict=False):
        if inline.type == "inline":
            yield block, inline


def anchor(heading: Token) -> str:
    """GitHub's anchor of a heading: its text in lower case, punctuation dropped, spaces as dashes."""
    text = "".join(child.content for child in heading.children or [] if child.type in ("text", "code_inline"))
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for block, inline in inline_tokens(path):
        if block.type == "heading_open":
            base = name = anchor(inline)
            n = 0
            while name in found:  # a repeated heading gets -1, -2, ...
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def relative_links(path: Path) -> list[str]:
    return [
        str(child.attrs["href"])
        for _, inline in inline_tokens(path)
        for child in inline.children or []
        if child.type == "link_open" and not SCHEME.match(str(child.attrs["href"]))
    ]


def broken_links(document: Path, root: Path = REPO) -> list[str]:
    broken = []
    for target in relative_links(document):
        file_part, _, fragment = target.partition("#")
        linked = (document.parent / unquote(file_part)).resolve() if file_part else document
        if not linked.exists() or root not in linked.parents:
            broken.append(f"{target}: no such file in {root.name}")
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
            broken.append(f"{target}: no heading #{fragment} in {linked.relative_to(root)}")
    return broken


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_names_a_file_and_heading_that_exist(document: Path) -> None:
    assert broken_links(document) == []


def test_the_readme_links_every_guide_in_docs() -> None:
    linked = {(REPO / target.partition("#")[0]).resolve() for target in relative_links(REPO / "README.md")}
    assert [p.name for p in sorted((REPO / "docs").glob("*.md")) if p.resolve() not in linked] == []


def test_links_and_anchors_are_read_as_github_renders_them(tmp_path: Path) -> None:
    page = tmp_path / "docs" / "page.md"
    page.parent.mkdir()
    page.write_text(
        "# A `page`: here\n\n## Twice\n\n## Twice\n\n[a](#a-page-here) [b](#twice-1) `[c](#code)` <https://example.com>\n\n"
        "| x |\n|---|\n| [d](other.md) [e](page.md#twice-2) [f](../README.md) |\n\n```\n[g](#fenced)\n```\n"
    )
    (tmp_path / "README.md").write_text("# Read me\n")
    assert relative_links(page) == ["#a-page-here", "#twice-1", "other.md", "page.md#twice-2", "../README.md"]
    assert anchors(page) == {"a-page-here", "twice", "twice-1"}
    assert broken_links(page, tmp_path) == [
        "other.md: no such file in " + tmp_path.name,
        "page.md#twice-2: no heading #twice-2 in docs/page.md",
    ]

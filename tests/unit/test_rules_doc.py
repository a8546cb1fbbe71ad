"""docs/rules.md is generated from the provider specs: the committed page must be current."""

from __future__ import annotations

import re

from switchboard.rules_doc import rules_markdown
from tests.support import REPO


def test_committed_rules_page_matches_the_code() -> None:
    committed = (REPO / "docs" / "rules.md").read_text()
    assert committed == rules_markdown(), (
        "docs/rules.md is stale: run `make rules` (switchboard export-rules > docs/rules.md)"
    )


def test_every_file_the_provider_checklist_names_exists() -> None:
    checklist = (REPO / "docs" / "adding-a-provider.md").read_text()
    paths = {p for p in re.findall(r"`([\w./-]+/[\w./-]*)`", checklist) if not p.startswith("/")}
    assert "resolvers/providers.py" in paths
    missing = sorted(p for p in paths if not (REPO / p).exists())
    assert missing == [], f"docs/adding-a-provider.md names files that do not exist: {missing}"

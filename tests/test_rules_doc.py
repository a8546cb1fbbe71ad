"""docs/rules.md is generated from the provider specs: the committed page must be current."""

from __future__ import annotations

from switchboard.rules_doc import rules_markdown
from tests.conftest import REPO


def test_committed_rules_page_matches_the_code() -> None:
    committed = (REPO / "docs" / "rules.md").read_text()
    assert committed == rules_markdown(), "docs/rules.md is stale: run `make rules` (switchboard export-rules > docs/rules.md)"

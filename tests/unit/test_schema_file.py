"""The committed schema.graphql is what typed clients generate from: it must be current."""

from __future__ import annotations

from schema import schema
from tests.support import REPO


def test_committed_schema_matches_the_code() -> None:
    committed = (REPO / "schema.graphql").read_text()
    assert committed == schema.as_str() + "\n", (
        "schema.graphql is stale: run `switchboard export-schema > schema.graphql`"
    )

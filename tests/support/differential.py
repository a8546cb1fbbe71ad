"""The differential check of compiled execution: each compiled answer beside graphql-core's, as JSON bytes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from switchboard.http import execution

# Set to 1 to compare every compiled operation of a run (`make test-fast` and the like) with graphql-core's answer;
# it runs each query twice, so tests that count a request's SQL statements see more of them.
ENVIRONMENT_SWITCH = "SWITCHBOARD_TEST_DIFFERENTIAL"


# Compiled answers compared in this test session, for its summary.
SESSION = {"compared": 0}


@dataclass
class Differential:
    compared: int = 0
    mismatches: list[str] = field(default_factory=list)

    def __call__(self, document: str, compiled: Mapping[str, Any], standard: Mapping[str, Any]) -> None:
        self.compared += 1
        SESSION["compared"] += 1
        ours, theirs = orjson.dumps(compiled), orjson.dumps(standard)
        if ours != theirs:
            self.mismatches.append(f"{document}\ncompiled:     {ours.decode()}\ngraphql-core: {theirs.decode()}")


@contextmanager
def comparing() -> Iterator[Differential]:
    """Every compiled operation run meanwhile is compared; any difference fails at the end."""
    differential, before = Differential(), execution.compare
    execution.compare = differential
    try:
        yield differential
    finally:
        execution.compare = before
    assert not differential.mismatches, "compiled and graphql-core answers differ:\n" + "\n\n".join(
        differential.mismatches
    )

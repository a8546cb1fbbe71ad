"""An audit event's diff: a creation's, taken by a shorter path, is the field-by-field comparison's.

Views are built in memory (no database).
"""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.audit import Change, Sealed, diff

VIEWS: list[dict[str, Any]] = [
    {"number": "+14155550100", "name": None, "agentId": None, "metadata": None, "version": 1},
    {"version": 1, "number": "+14155550100", "authToken": Sealed("v1:token"), "password": Sealed(None)},
    {"metadata": {"a": [1, None]}, "empty": {}, "list": [], "zero": 0, "false": False, "blank": ""},
    {"ratio": 1.5, "nan": float("nan"), "inf": float("inf"), "null": None},
]


@pytest.mark.parametrize("after", VIEWS)
def test_a_creation_lists_what_comparing_each_field_with_nothing_lists(after: dict[str, Any]) -> None:
    # An empty view is compared field by field; None (nothing existed) takes the shorter path.
    assert diff(None, after) == diff({}, after)


def test_a_creation_lists_set_fields_and_set_secrets_with_the_version_last() -> None:
    after = {"version": 1, "number": "+14155550100", "name": None, "authToken": Sealed("v1:token"), "pw": Sealed(None)}
    assert diff(None, after) == [
        Change("number", None, "+14155550100"),
        Change("authToken", secret_changed=True),
        Change("version", None, 1),
    ]

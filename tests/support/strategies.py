"""Hostile values for Hypothesis: text, numbers and JSON no client should send, shared by the fuzz tests."""

from __future__ import annotations

import json
import operator
import re
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\t\r\n",
    "\x1b[31m",
    "\u202e",
    "\ufeff",
    "\u200b",
    "\ud800",
    "a\udfffb",
    "\U0010ffff",
    "null",
    "None",
    "undefined",
    "NaN",
    "' OR '1'='1",
    '"; DROP TABLE phone_numbers; --',
    "${jndi:ldap://x/a}",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%s%s%n",
    "+1 415 555 0123\x00",
    "+١٤١٥٥٥٥٠١٢٣",
    "sip:pbx.example.com:5060",
    "256.256.256.256",
    "::ffff:1.2.3.4%eth0",
    "AC" + "g" * 32,
]
odd_characters = st.characters(categories=["Cc", "Cs", "Cf", "Co", "Zl", "Zp", "Mn", "So"])
hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(st.characters() | odd_characters, min_size=1, max_size=30),
    st.builds(operator.mul, st.sampled_from(["x", "é", "𝕏", "\x00", " ", "9", "\ud83d"]), st.integers(60, 20_000)),
    st.sampled_from(HOSTILE_STRINGS),
)
huge_ints = st.integers(min_value=-(2**80), max_value=2**80)
scalars = st.none() | st.booleans() | huge_ints | st.floats(allow_nan=False, allow_infinity=False) | hostile_text


@dataclass(frozen=True)
class Deep:
    """JSON nested `depth` levels: written out as text, as no Python encoder recurses that deep."""

    depth: int
    as_list: bool

    def text(self) -> str:
        if self.as_list:
            return "[" * self.depth + '"leaf"' + "]" * self.depth
        return '{"k":' * self.depth + '"leaf"' + "}" * self.depth


def to_json(value: Any) -> str:
    text = json.dumps(value, default=lambda deep: f"deep-json:{deep.depth}:{int(deep.as_list)}")
    return re.sub(r'"deep-json:(\d+):([01])"', lambda m: Deep(int(m[1]), m[2] == "1").text(), text)


deep_json = st.builds(Deep, st.integers(5, 5000), st.booleans())
any_json = st.one_of(
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
        max_leaves=12,
    ),
    deep_json,
)

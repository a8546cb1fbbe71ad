"""Request bodies as both transports read them."""

from __future__ import annotations

from typing import Any

import orjson


def parse_json(data: str | bytes) -> Any:
    """A request's JSON, or ValueError when it is not JSON every layer below can hold.

    orjson refuses what UTF-8, the databases and encryption cannot take: \\u
    escapes that spell lone surrogates, NaN, Infinity and numbers beyond a
    double's range (1e400); and nesting deeper than 1,024 levels. Integers
    beyond 64 bits arrive as floats, which the metadata rules refuse.
    """
    return orjson.loads(data)

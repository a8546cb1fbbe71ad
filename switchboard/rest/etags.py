"""Entity tags of the REST API (RFC 9110, sections 8.8.3 and 13.1.1).

A number's ETag is its version, quoted: `"3"`. It is a strong tag, since
one version has exactly one representation, and If-Match compares strongly:
a weak tag (`W/"3"`) never matches there.
"""

from __future__ import annotations

import re

# Versions are 32-bit database integers; a larger tag cannot name one.
MAX_VERSION = 2**31 - 1

# One element of a comma-separated list: an entity tag, or nothing (empty
# elements are allowed and skipped), then a comma or the end.
_ELEMENT = re.compile(r'[ \t]*(?:(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*)?(?:,|$)')
_VERSION = re.compile(r"[1-9][0-9]{0,9}")


class MalformedEntityTags(ValueError):
    """A header that should list entity tags does not."""


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(values: list[str]) -> frozenset[int] | None:
    """The versions the If-Match field lines allow; None when they allow any (`*`).

    Lines are combined as one list, as RFC 9110 combines repeated list
    fields. Weak tags and tags that are not a version are kept out: they
    match no version, so a field of only those allows none.
    """
    field = ",".join(values)
    if field.strip(" \t") == "*":
        return None
    tags = _entity_tags(field)
    return frozenset(int(opaque) for weak, opaque in tags if not weak and _is_version(opaque))


def _entity_tags(field: str) -> list[tuple[bool, str]]:
    tags: list[tuple[bool, str]] = []
    position = 0
    while position < len(field):
        match = _ELEMENT.match(field, position)
        if match is None or match.end() == position:
            raise MalformedEntityTags(field)
        if match.group(2) is not None:
            tags.append((match.group(1) is not None, match.group(2)))
        position = match.end()
    if not tags:
        raise MalformedEntityTags(field)
    return tags


def _is_version(opaque: str) -> bool:
    return _VERSION.fullmatch(opaque) is not None and int(opaque) <= MAX_VERSION

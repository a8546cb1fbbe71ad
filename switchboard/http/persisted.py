"""Persisted documents the way Apollo's clients send them: a document's SHA-256 in place of its text.

A client (Apollo Client's persisted-queries link, Relay, any client generated
from schema.graphql) sends `extensions.persistedQuery = {version: 1,
sha256Hash}` and no `query`. A hash the server holds stands for its document;
one it does not hold is answered PERSISTED_QUERY_NOT_FOUND, and the client
sends the document with its hash once, which registers it. The document's
plan (schema/limits.py) is then cached like any other: the hash only spares
the client sending the text and the server reading it.

A hash is the document's own digest, so knowing a hash means knowing its
document: the store is shared by every caller. Held in each worker's memory,
the most recent STORE_SIZE documents; a client whose hash was forgotten just
sends the document again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from schema.limits import MAX_QUERY_LENGTH

STORE_SIZE = 256
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
_SHA256 = re.compile(r"\A[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class Refused:
    message: str
    code: str


class PersistedDocuments:
    def __init__(self, size: int = STORE_SIZE) -> None:
        self._documents: LRUCache[str, str] = LRUCache(maxsize=size)

    def resolve(self, data: Any) -> Any | Refused:
        """The request with its document's text, registering a document sent with its hash; or why not.

        A request without the persistedQuery extension is returned as it is.
        """
        if not isinstance(data, dict) or not isinstance(data.get("extensions"), dict):
            return data
        persisted = data["extensions"].get("persistedQuery")
        if persisted is None:
            return data
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(persisted, dict) or persisted.get("version") != 1 or not isinstance(digest, str) or not _SHA256.match(digest):
            return Refused("persistedQuery must be {version: 1, sha256Hash: <64 lowercase hex digits>}", "BAD_REQUEST")
        query = data.get("query")
        if isinstance(query, str):
            if hashlib.sha256(query.encode()).hexdigest() != digest:
                return Refused("persistedQuery's sha256Hash is not the SHA-256 of the query sent with it", "BAD_REQUEST")
            if len(query) <= MAX_QUERY_LENGTH:
                self._documents[digest] = query
            return data
        if query is not None:
            return data  # not a document: Strawberry's view refuses it as usual
        known = self._documents.get(digest)
        if known is None:
            # Apollo's clients look for this message, newer ones for the code.
            return Refused("PersistedQueryNotFound", NOT_FOUND)
        return {**data, "query": known}

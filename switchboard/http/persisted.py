"""Persisted documents: a document's SHA-256 in place of its text.

Two ways to send one. Apollo Client's persisted-queries link and Relay send
`extensions.persistedQuery = {version: 1, sha256Hash}` and no `query`;
GraphQL over HTTP's persisted documents appendix sends `documentId:
"sha256:<hash>"` (plain hex is taken too). Either works over POST, and over
GET for queries (a mutation over GET is refused 405, as with its text).

A hash stands for a document the server holds: one of its manifest
(SWITCHBOARD_PERSISTED_DOCUMENTS, the persisted-documents.json GraphQL Code
Generator's client preset writes, loaded at start-up) or one a client
registered. A hash it does not hold is answered PERSISTED_QUERY_NOT_FOUND;
Apollo's link then sends the document with its hash once, which registers
it. A document's plan (schema/limits.py) is cached like any other, a
manifest's made at start-up and never evicted: the hash only spares the
client sending the text and the server reading it.

A hash is the document's own digest, so knowing a hash means knowing its
document: the store is shared by every caller. Registered documents are held
in each worker's memory, the most recent STORE_SIZE; a client whose hash was
forgotten just sends the document again.

With SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY only the manifest's documents run:
any other text, and any other hash, is refused before it is parsed, and
nothing is registered.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from cachetools import LRUCache
from starlette.datastructures import QueryParams

from resolvers.rules import excerpt
from schema.limits import MAX_QUERY_LENGTH

STORE_SIZE = 256
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
TRUSTED_DOCUMENTS_ONLY = "TRUSTED_DOCUMENTS_ONLY"
ONLY_TRUSTED = "This server runs only the documents of its manifest (trusted documents); "
_SHA256 = re.compile(r"\A[0-9a-f]{64}\Z")
_DOCUMENT_ID = re.compile(r"\A(?:sha256:)?([0-9a-f]{64})\Z")
MANIFEST_FORMAT = (
    "a JSON object mapping each document's SHA-256 (sha256:<64 lowercase hex digits>, or the digits alone) "
    "to its text, as GraphQL Code Generator's client preset writes persisted-documents.json"
)


class ManifestError(ValueError):
    """A manifest of persisted documents Switchboard cannot use."""


@dataclass(frozen=True)
class Refused:
    message: str
    code: str


def load_manifest(path: Path) -> dict[str, str]:
    """The manifest's documents by their SHA-256 (64 hex digits), each checked to be its text's."""
    try:
        text = path.read_bytes()
    except OSError as error:
        raise ManifestError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        entries = json.loads(text)
    except ValueError as error:
        raise ManifestError(f"{path} is not JSON ({error}); it must be {MANIFEST_FORMAT}") from None
    if not isinstance(entries, dict) or not entries:
        raise ManifestError(f"{path} holds no documents; it must be {MANIFEST_FORMAT}")
    documents = {}
    for key, document in entries.items():
        digest = _DOCUMENT_ID.match(key)
        if digest is None:
            raise ManifestError(f"{path}: the key {excerpt(key, 80)!r} is not a SHA-256; it must be {MANIFEST_FORMAT}")
        if not isinstance(document, str):
            raise ManifestError(f"{path}: the entry {key} is not a document's text; it must be {MANIFEST_FORMAT}")
        actual = hashlib.sha256(document.encode()).hexdigest()
        if actual != digest[1]:
            raise ManifestError(f"{path}: the entry {key} is not its document's SHA-256, which is sha256:{actual}")
        if len(document) > MAX_QUERY_LENGTH:
            raise ManifestError(
                f"{path}: the document {key} is {len(document)} characters long; at most {MAX_QUERY_LENGTH} are allowed"
            )
        documents[digest[1]] = document
    return documents


class PersistedDocuments:
    """The documents a hash may stand for: the manifest's, and those clients registered."""

    def __init__(
        self, manifest: Mapping[str, str] | None = None, *, trusted_only: bool = False, size: int = STORE_SIZE
    ) -> None:
        # The manifest's documents, by their hash; always known.
        self._manifest = dict(manifest or {})
        self._trusted = frozenset(self._manifest.values())
        self.trusted_only = trusted_only
        self._documents: LRUCache[str, str] = LRUCache(maxsize=size)

    def _known(self, digest: str) -> str | None:
        known = self._manifest.get(digest)
        if known is None and not self.trusted_only:
            known = self._documents.get(digest)
        return known

    def _unknown(self) -> Refused:
        if self.trusted_only:
            return Refused(ONLY_TRUSTED + "no document of it has this hash", TRUSTED_DOCUMENTS_ONLY)
        # Apollo's clients look for this message, newer ones for the code.
        return Refused("PersistedQueryNotFound", NOT_FOUND)

    def untrusted(self, query: Any) -> Refused | None:
        """Why a document may not run, when only trusted documents run and it is not one of them."""
        if self.trusted_only and isinstance(query, str) and query not in self._trusted:
            return Refused(ONLY_TRUSTED + "this document is not one of them", TRUSTED_DOCUMENTS_ONLY)
        return None

    def _checked(self, data: dict[str, Any]) -> dict[str, Any] | Refused:
        return self.untrusted(data.get("query")) or data

    def resolve(self, data: Any) -> Any | Refused:
        """The request with its document's text, registering a document sent with its hash; or why not.

        A request without a hash is returned as it is (or refused, when only trusted documents run).
        """
        if not isinstance(data, dict):
            return data
        if data.get("documentId") is not None:
            return self._by_document_id(data)
        extensions = data.get("extensions")
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            return self._checked(data)
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if (
            not isinstance(persisted, dict)
            or persisted.get("version") != 1
            or not isinstance(digest, str)
            or not _SHA256.match(digest)
        ):
            return Refused("persistedQuery must be {version: 1, sha256Hash: <64 lowercase hex digits>}", "BAD_REQUEST")
        query = data.get("query")
        if isinstance(query, str):
            if hashlib.sha256(query.encode()).hexdigest() != digest:
                return Refused(
                    "persistedQuery's sha256Hash is not the SHA-256 of the query sent with it", "BAD_REQUEST"
                )
            checked = self._checked(data)
            if checked is data and not self.trusted_only and len(query) <= MAX_QUERY_LENGTH:
                self._documents[digest] = query
            return checked
        if query is not None:
            return data  # not a document: Strawberry's view refuses it as usual
        known = self._known(digest)
        if known is None:
            return self._unknown()
        return {**data, "query": known}

    def _by_document_id(self, data: dict[str, Any]) -> dict[str, Any] | Refused:
        document_id = data["documentId"]
        digest = _DOCUMENT_ID.match(document_id) if isinstance(document_id, str) else None
        if digest is None:
            return Refused("documentId must be sha256:<64 lowercase hex digits>", "BAD_REQUEST")
        extensions = data.get("extensions")
        if data.get("query") is not None or (isinstance(extensions, dict) and "persistedQuery" in extensions):
            return Refused(
                "documentId stands for the document: send it without query or extensions.persistedQuery", "BAD_REQUEST"
            )
        known = self._known(digest[1])
        if known is None:
            return self._unknown()
        return {**{k: v for k, v in data.items() if k != "documentId"}, "query": known}

    def resolve_query_string(self, query_string: bytes) -> bytes | Refused:
        """A GET request's query string with the text of the document its hash stands for; or why not.

        GET carries the same parameters as a POST body, `variables` and `extensions` as JSON.
        """
        params = QueryParams(query_string)
        if not self.trusted_only and "documentId" not in params and "extensions" not in params:
            return query_string
        data: dict[str, Any] = {name: params[name] for name in ("query", "documentId") if name in params}
        if "extensions" in params:
            # Not JSON: Strawberry's view refuses it; the query beside it is checked all the same.
            with contextlib.suppress(ValueError):
                data["extensions"] = json.loads(params["extensions"])
        resolved = self.resolve(data)
        if isinstance(resolved, Refused):
            return resolved
        if resolved is data:
            return query_string
        kept = [(name, value) for name, value in params.multi_items() if name not in ("query", "documentId")]
        return urlencode([*kept, ("query", resolved["query"])]).encode()

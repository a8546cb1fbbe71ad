"""The session's secret sweep: every secret the tests send, looked for in everything the system said.

conftest.py feeds one SecretSweep for the whole run (SWEEP, below): the secret values of
every request the tests' HTTP clients send (auth tokens, SIP passwords and
API keys), every response body, every log record, the log of every real
server, and the rows each test leaves in the database. When the session
ends, no secret may appear in any of them.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_right
from collections import defaultdict
from typing import Any

import httpx

from resolvers.providers import SPECS

# GraphQL's and REST's names for the write-only fields, from the provider specs.
SECRET_FIELDS = frozenset(name for spec in SPECS.values() for f in spec.fields if f.secret for name in (f.name, f.rest))
# Shorter values ("t", "pw"), and filler such as "x" * 129 for a length rule,
# also turn up in text that never held them.
MIN_LENGTH = 8
MIN_DISTINCT_CHARACTERS = 5


class SecretSweep:
    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.texts: dict[str, str] = {}  # text -> where it was seen first
        self.counts: dict[str, int] = defaultdict(int)

    def add_secret(self, value: Any) -> None:
        if isinstance(value, str) and len(value) >= MIN_LENGTH and len(set(value)) >= MIN_DISTINCT_CHARACTERS:
            self.secrets.add(value)

    def add_text(self, kind: str, where: str, text: str) -> None:
        self.counts[kind] += 1
        self.texts.setdefault(text, f"{kind} {where}")

    async def on_request(self, request: httpx.Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            self.add_secret(token.strip())
        try:
            for value in _secret_values(json.loads(request.content)):
                self.add_secret(value)
        except (ValueError, RecursionError, httpx.RequestNotRead):
            pass  # not JSON, or streamed: nothing the tests send that way holds a secret

    async def on_response(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        self.add_text("response", f"to {request.method} {request.url.path}", self._issued_keys_withheld(response.text))

    def _issued_keys_withheld(self, text: str) -> str:
        """A new key appears once, as the `secret` of createApiKey's payload (REST: of the 201 body).

        It becomes a secret to look for everywhere else, this very response included.
        """
        try:
            body = json.loads(text)
        except ValueError:
            return text
        issued = _issued_keys(body)
        if not issued:
            return text
        for key in issued:
            self.add_secret(key)
        return json.dumps(_without_issued_keys(body))

    def leaks(self) -> list[str]:
        """Each secret found, and where. Secrets are grouped by their first characters, so the
        text is searched once per group rather than once per secret."""
        texts = list(self.texts)
        starts, at = [], 0
        for text in texts:
            starts.append(at)
            at += len(text) + 1
        haystack = "\0".join(texts)
        groups: dict[str, list[str]] = defaultdict(list)
        for secret in self.secrets:
            groups[secret[:MIN_LENGTH]].append(secret)
        found: set[str] = set()
        for prefix, group in groups.items():
            position = haystack.find(prefix)
            while position != -1:
                where = self.texts[texts[bisect_right(starts, position) - 1]]
                found.update(f"{secret!r} in {where}" for secret in group if haystack.startswith(secret, position))
                position = haystack.find(prefix, position + 1)
        return sorted(found)

    def summary(self) -> str:
        seen = ", ".join(f"{count} {kind}s" for kind, count in sorted(self.counts.items()))
        return f"secret sweep: {len(self.secrets)} secrets looked for in {seen}"


ISSUED_KEY_FIELD = "secret"
ISSUED_KEY_PREFIX = "sb_live_"


def _issued_keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [
            v
            for k, v in value.items()
            if k == ISSUED_KEY_FIELD and isinstance(v, str) and v.startswith(ISSUED_KEY_PREFIX)
        ]
        return found + [s for v in value.values() for s in _issued_keys(v)]
    if isinstance(value, list):
        return [s for v in value for s in _issued_keys(v)]
    return []


def _without_issued_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "<issued key>"
            if k == ISSUED_KEY_FIELD and isinstance(v, str) and v.startswith(ISSUED_KEY_PREFIX)
            else _without_issued_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_issued_keys(v) for v in value]
    return value


def _secret_values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k in SECRET_FIELDS] + [
            s for v in value.values() for s in _secret_values(v)
        ]
    if isinstance(value, list):
        return [s for v in value for s in _secret_values(v)]
    return []


class SweepHandler(logging.Handler):
    """Hands every log record, traceback included, to the sweep."""

    def __init__(self, sweep: SecretSweep) -> None:
        super().__init__(logging.DEBUG)
        self.sweep = sweep
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.sweep.add_text(
            "log record", f"of {record.name}", self.format(record) + " " + json.dumps(record.__dict__, default=str)
        )


# One for the whole run: conftest.py's session fixture installs its log
# handler and checks it at the end; fixtures and helpers add to it.
SWEEP = SecretSweep()

"""What each API key scope allows: READ reads, WRITE also changes numbers and agents, ADMIN does everything."""

from __future__ import annotations

from collections.abc import Iterable

from models import ApiKeyScope

# Each scope includes every scope ranked below it.
_RANK = {ApiKeyScope.READ: 0, ApiKeyScope.WRITE: 1, ApiKeyScope.ADMIN: 2}


def allows(granted: Iterable[ApiKeyScope], needed: ApiKeyScope) -> bool:
    return any(_RANK[scope] >= _RANK[needed] for scope in granted)


def lacking_scope(scope: ApiKeyScope, needed_by: str) -> str:
    """The refusal of a key without `scope`, in GraphQL and REST alike; `needed_by` names the field or operation."""
    return f"This API key lacks the {scope.name} scope, which {needed_by} needs"


def canonical(scopes: Iterable[ApiKeyScope]) -> list[ApiKeyScope]:
    """Each scope once, weakest first: the order keys show their scopes in."""
    return sorted(set(scopes), key=_RANK.__getitem__)


def parse_stored(values: Iterable[str]) -> frozenset[ApiKeyScope]:
    """A stored key's scopes; a value this version does not know grants nothing."""
    known = {scope.value: scope for scope in ApiKeyScope}
    return frozenset(known[value] for value in values if value in known)

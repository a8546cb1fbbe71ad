"""Expected failures, reported to callers as data rather than raised."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

# A field path from the operation's argument, without the transport's own
# prefix: GraphQL prepends "input", REST maps it to its flat field names.
FieldPath = tuple[str, ...]


class ErrorCode(str, Enum):
    BLANK = "BLANK"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    TAKEN = "TAKEN"
    NOT_FOUND = "NOT_FOUND"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    # The row is not at the version the client named (or kept changing under the request).
    CONFLICT = "CONFLICT"
    # The organization has as many rows of a kind as the operator allows.
    LIMIT_REACHED = "LIMIT_REACHED"
    ALREADY_REVOKED = "ALREADY_REVOKED"
    LAST_ADMIN_KEY = "LAST_ADMIN_KEY"
    # `verify: true`: the provider check of the new configuration did not answer OK; nothing was saved.
    VERIFICATION_FAILED = "VERIFICATION_FAILED"


@dataclass(frozen=True)
class UserError:
    field: FieldPath
    message: str
    code: ErrorCode


@dataclass
class Errors:
    """Collects every rule failure of one request, so they return together."""

    items: list[UserError] = field(default_factory=list)

    def add(self, path: FieldPath, code: ErrorCode, message: str) -> None:
        self.items.append(UserError(path, message, code))

    def __bool__(self) -> bool:
        return bool(self.items)

    def has(self, path: FieldPath) -> bool:
        return any(e.field == path for e in self.items)

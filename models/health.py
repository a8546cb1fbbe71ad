"""What a check of a number's provider found."""

from __future__ import annotations

from enum import Enum


class HealthState(str, Enum):
    OK = "ok"
    # The provider answered, and refused the stored credentials.
    AUTH_FAILED = "auth_failed"
    # The provider answered, and refused something other than the credentials.
    REJECTED = "rejected"
    # Nothing usable answered: no route, no reply, no handshake, or a target the rules refuse.
    UNREACHABLE = "unreachable"
    # The provider offers nothing to check from outside.
    UNSUPPORTED = "unsupported"

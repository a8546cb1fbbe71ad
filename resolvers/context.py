"""What every operation needs to know about the caller, whatever the transport."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from models import ApiKeyScope
from models.secrets import SecretBox
from resolvers.verification.results import CheckOptions

DEFAULT_MAX_PHONE_NUMBERS = 10_000
DEFAULT_MAX_AGENTS = 1_000


@dataclass(frozen=True)
class Policy:
    """The operator's settings that rules consult, read once at start-up."""

    # Loopback, link-local and similar addresses as SIP targets: for development and tests only.
    allow_local_targets: bool = False
    max_phone_numbers: int = DEFAULT_MAX_PHONE_NUMBERS
    max_agents: int = DEFAULT_MAX_AGENTS
    # How provider checks run (verifyPhoneNumber, `verify: true`): switchboard/settings.py builds them.
    checks: CheckOptions = field(default_factory=CheckOptions)


@dataclass(frozen=True)
class Principal:
    """The API key a request acts with: who did it, and what it may do."""

    key_id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    prefix: str
    scopes: frozenset[ApiKeyScope]
    # Kept with the key wherever it is remembered, so expiry needs no lookup.
    expires_at: datetime | None


@dataclass
class RequestContext:
    organization_id: uuid.UUID
    secrets: SecretBox
    request_id: str = ""
    # Set once the document is parsed; the request log names the operation.
    operation_name: str | None = None
    policy: Policy = field(default_factory=Policy)
    # The calling key; None only for work no request asked for (the command line).
    principal: Principal | None = None

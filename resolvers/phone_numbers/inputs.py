"""Phone numbers' domain inputs and results, as either transport builds and reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models import PhoneNumber, PhoneNumberHealth, PhoneNumberHealthEvent, Provider, SipMode
from resolvers.errors import UserError
from resolvers.providers import ProviderConfigInput
from resolvers.rules import OMITTED, OrOmitted

NAME_MAX_LENGTH = 100


@dataclass
class CreatePhoneNumberInput:
    number: str | None  # None: not sent (REST), refused as blank
    provider: ProviderConfigInput
    name: OrOmitted[str | None] = OMITTED
    agent_id: OrOmitted[str | None] = OMITTED
    # JSON as the caller sent it: rules.metadata checks its shape.
    metadata: OrOmitted[Any] = OMITTED
    idempotency_key: OrOmitted[str | None] = OMITTED
    dry_run: bool = False
    # Check the configuration first; save only if the check answers OK (the result becomes the number's health).
    verify: bool = False


@dataclass
class UpdatePhoneNumberInput:
    id: str
    number: OrOmitted[str] = OMITTED
    name: OrOmitted[str | None] = OMITTED
    agent_id: OrOmitted[str | None] = OMITTED
    metadata: OrOmitted[Any] = OMITTED  # JSON as sent, as on create
    provider: OrOmitted[ProviderConfigInput] = OMITTED
    # The versions the client allows the change on; None: whatever the current one.
    expected_versions: frozenset[int] | None = None
    dry_run: bool = False
    verify: bool = False


@dataclass
class PhoneNumberFilter:
    provider: Provider | None = None
    sip_mode: SipMode | None = None
    agent_id: str | None = None
    search: str | None = None


@dataclass(frozen=True)
class HealthPreview:
    """A dry run's answer: the health the write would leave (None: cleared, or never checked)."""

    health: PhoneNumberHealth | None


@dataclass
class PhoneNumberResult:
    phone_number: PhoneNumber | None
    errors: list[UserError] = field(default_factory=list)
    # Set for dry runs only; a saved number's health is read from the database.
    preview: HealthPreview | None = None
    # Set when this request inserted the number: `health` is then what its
    # check stored, or None when it was not checked, and need not be read back.
    inserted: bool = False
    health: PhoneNumberHealth | None = None


@dataclass
class VerifyResult:
    phone_number: PhoneNumber | None
    health: PhoneNumberHealth | None = None
    errors: list[UserError] = field(default_factory=list)
    # The change of state this check recorded, if any: what subscribers are told.
    event: PhoneNumberHealthEvent | None = None

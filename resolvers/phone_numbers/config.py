"""Provider configurations: the columns a configuration writes, its secrets sealed, and what a change reconfigures."""

from __future__ import annotations

import uuid
from typing import Any

from models import PhoneNumber
from models.secrets import SecretBox
from resolvers import audit
from resolvers.context import Policy
from resolvers.errors import Errors
from resolvers.providers import CONFIG_COLUMNS, SECRET_COLUMNS, SPECS, ProviderConfigInput, spec_of
from resolvers.rules import OMITTED


def _config_columns(
    errors: Errors, config: ProviderConfigInput, current: PhoneNumber | None, policy: Policy
) -> dict[str, Any]:
    """Columns to write for a provider configuration.

    Keeping the provider and SIP mode of `current` patches only the fields
    given. Any other choice is a whole new configuration: required fields must
    be given, and every column of the old one, secrets included, is cleared.
    """
    spec = SPECS[type(config)]
    patch = current is not None and (current.provider, current.sip_mode) == (spec.provider, spec.sip_mode)
    columns: dict[str, Any] = {}
    if not patch:
        columns = dict.fromkeys(CONFIG_COLUMNS)
        columns.update(provider=spec.provider, sip_mode=spec.sip_mode)
    for f in spec.fields:
        value = getattr(config, f.attr)
        if value is OMITTED:
            if patch:
                continue
            value = None
        if value is None and f.default is not None:
            value = f.default
        columns[f.column] = f.check(errors, spec.path + (f.name,), value, policy)
    return columns


def seal_secrets(columns: dict[str, Any], row_id: uuid.UUID, box: SecretBox) -> dict[str, Any]:
    """Replace the plaintext secrets among `columns` by their ciphertext columns."""
    sealed = dict(columns)
    for plain, encrypted in SECRET_COLUMNS.items():
        if plain in sealed:
            value = sealed.pop(plain)
            sealed[encrypted] = None if value is None else box.encrypt(value, secret_context(row_id, encrypted))
    return sealed


def secret_context(row_id: uuid.UUID, column: str) -> str:
    return f"phone_numbers:{row_id}:{column}"


def audit_fields(row: PhoneNumber) -> audit.Fields:
    """The number as its audit events show it (see resolvers/audit.py)."""
    return audit.phone_number_fields(row, spec_of(row).fields, SECRET_COLUMNS)


def reconfigures(row: PhoneNumber, changes: dict[str, Any]) -> bool:
    """Whether the change sets the number or any of its provider configuration to another value.

    A secret given counts, whatever its value: secrets are not compared.
    Such a change clears the number's health, which described the old one.
    """
    for column, value in changes.items():
        if column in SECRET_COLUMNS:
            return True
        if (column in CONFIG_COLUMNS or column in ("number", "provider", "sip_mode")) and getattr(row, column) != value:
            return True
    return False


def configuration(row: PhoneNumber) -> tuple[Any, ...]:
    """What a check of the number depends on, as stored (secrets by their ciphertext, new with every write of them)."""
    return (row.number, row.provider, row.sip_mode, *(getattr(row, SECRET_COLUMNS.get(c, c)) for c in CONFIG_COLUMNS))

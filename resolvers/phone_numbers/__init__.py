"""Phone numbers: the reference's rules and their persistence.

Inputs arrive as the plain dataclasses of `inputs`, whichever transport built
them; every rule lives in this package once. Paths in errors start below the
operation's argument, e.g. ("provider", "sip", "registration", "username"). A
field left out is `OMITTED`; None is an explicit null.

One module a purpose: `inputs` (inputs and results), `config` (provider
configurations and their secrets), `idempotency`, `create`, `update`,
`verify`, `delete`, `queries` (reads, lists, pages by agent, counts) and
`common` (the checks and errors they share). The names below are what callers use.
"""

from resolvers.phone_numbers.common import version_conflict
from resolvers.phone_numbers.config import _config_columns, audit_fields, seal_secrets, secret_context
from resolvers.phone_numbers.create import create_phone_number
from resolvers.phone_numbers.delete import delete_phone_number
from resolvers.phone_numbers.inputs import (
    NAME_MAX_LENGTH,
    CreatePhoneNumberInput,
    HealthPreview,
    PhoneNumberFilter,
    PhoneNumberResult,
    UpdatePhoneNumberInput,
    VerifyResult,
)
from resolvers.phone_numbers.queries import (
    count_phone_numbers,
    counts_by_agent,
    get_phone_number,
    list_phone_numbers,
    list_phone_numbers_by_offset,
    pages_by_agent,
)
from resolvers.phone_numbers.update import update_phone_number
from resolvers.phone_numbers.verify import verify_phone_number
from resolvers.providers import CONFIG_COLUMNS, SECRET_COLUMNS, SPECS

__all__ = [
    "CONFIG_COLUMNS",
    "NAME_MAX_LENGTH",
    "SECRET_COLUMNS",
    "SPECS",
    "CreatePhoneNumberInput",
    "HealthPreview",
    "PhoneNumberFilter",
    "PhoneNumberResult",
    "UpdatePhoneNumberInput",
    "VerifyResult",
    "_config_columns",
    "audit_fields",
    "count_phone_numbers",
    "counts_by_agent",
    "create_phone_number",
    "delete_phone_number",
    "get_phone_number",
    "list_phone_numbers",
    "list_phone_numbers_by_offset",
    "pages_by_agent",
    "seal_secrets",
    "secret_context",
    "update_phone_number",
    "verify_phone_number",
    "version_conflict",
]

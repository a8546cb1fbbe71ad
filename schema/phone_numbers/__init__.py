"""PhoneNumber type, its provider configurations, inputs, payloads and lists.

One module a purpose: `types` (the PhoneNumber type, its enums and provider
configurations), `inputs` (the @oneOf provider inputs), `mutations` (inputs,
payloads and resolvers of the four mutations) and `queries` (a number, lists).
A `strawberry.lazy` reference names the module that defines the type.
"""

from schema.phone_numbers.mutations import (
    CreatePhoneNumberPayload,
    DeletePhoneNumberPayload,
    UpdatePhoneNumberPayload,
    VerifyPhoneNumberPayload,
    create_phone_number,
    delete_phone_number,
    update_phone_number,
    verify_phone_number,
)
from schema.phone_numbers.queries import PhoneNumberConnection, phone_number, phone_number_list
from schema.phone_numbers.types import PhoneNumber

__all__ = [
    "CreatePhoneNumberPayload",
    "DeletePhoneNumberPayload",
    "PhoneNumber",
    "PhoneNumberConnection",
    "UpdatePhoneNumberPayload",
    "VerifyPhoneNumberPayload",
    "create_phone_number",
    "delete_phone_number",
    "phone_number",
    "phone_number_list",
    "update_phone_number",
    "verify_phone_number",
]

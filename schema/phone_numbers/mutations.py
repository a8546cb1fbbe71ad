"""Create, update, verify and delete: their inputs, payloads and resolvers."""

from __future__ import annotations

import contextlib

import strawberry
from strawberry.scalars import JSON

from models import PhoneNumber as PhoneNumberRow
from resolvers import phone_numbers
from resolvers.rules import OMITTED
from schema.cost import VERIFY_COST
from schema.errors import UserError, user_errors
from schema.health import PhoneNumberHealth
from schema.limits import rate_limited
from schema.phone_numbers.inputs import ProviderInput, ProviderUpdateInput, maybe, optional
from schema.phone_numbers.types import Info, PhoneNumber, _phone_number

_DRY_RUN = "Run every rule, uniqueness and agent lookup included, and answer as if saved, saving nothing."
_VERIFY = (
    "Check the provider configuration the write leaves (as verifyPhoneNumber does) before saving anything: unless "
    "the check answers OK, nothing is saved and the answer is a VERIFICATION_FAILED user error on "
    '["input", "provider"] saying what was tried and what answered (Voximplant and jambonz can\'t be checked, so '
    "they always fail it). When OK, the result is stored as the number's `health` with the write. With dryRun, the "
    "check runs and nothing is saved. Costs as much as verifyPhoneNumber."
)
_EXPECTED_VERSION = (
    "The number's `version` as you last read it: if it has changed since, nothing is written and the answer "
    "is a CONFLICT user error. Omit it to apply the change whatever the version."
)


@strawberry.input
class CreatePhoneNumberInput:
    number: str = strawberry.field(
        description="International form: + or 00, then the country code; spaces, dashes, dots and brackets "
        "are allowed. Stored and returned as E.164."
    )
    name: str | None = strawberry.field(default=strawberry.UNSET, description="At most 100 characters, trimmed.")
    agent_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="An agent of your organization."
    )
    metadata: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="A JSON object: at most 50 keys of at most 40 characters in every object, nested ones "
        "included; string values of at most 500 characters; numbers finite and within ±(2^53 - 1); "
        "nesting at most 10 levels; 8 KiB in all.",
    )
    provider: ProviderInput
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="At most 255 characters. A retry with the same key and input within 24 hours returns "
        "the number the first request created, creating nothing. Secrets (authToken, password) are compared only "
        "as given or not: a retry with another secret returns the original number, its secret unchanged.",
    )
    dry_run: bool | None = strawberry.field(default=False, description=_DRY_RUN)
    verify: bool | None = strawberry.field(default=False, description=_VERIFY)

    def to_domain(self) -> phone_numbers.CreatePhoneNumberInput:
        return phone_numbers.CreatePhoneNumberInput(
            number=self.number,
            name=optional(self.name),
            agent_id=optional(self.agent_id),
            metadata=optional(self.metadata),
            provider=self.provider.to_domain(),
            idempotency_key=optional(self.idempotency_key),
            dry_run=bool(self.dry_run),
            verify=bool(self.verify),
        )


@strawberry.input(description="Omitted fields keep their value; null clears name, agentId and metadata.")
class UpdatePhoneNumberInput:
    id: strawberry.ID
    number: strawberry.Maybe[str]
    name: strawberry.Maybe[str | None]
    agent_id: strawberry.Maybe[strawberry.ID | None]
    metadata: strawberry.Maybe[JSON | None]
    provider: strawberry.Maybe[ProviderUpdateInput]
    expected_version: int | None = strawberry.field(default=strawberry.UNSET, description=_EXPECTED_VERSION)
    dry_run: bool | None = strawberry.field(default=False, description=_DRY_RUN)
    verify: bool | None = strawberry.field(default=False, description=_VERIFY)

    def to_domain(self) -> phone_numbers.UpdatePhoneNumberInput:
        return phone_numbers.UpdatePhoneNumberInput(
            id=self.id,
            number=maybe(self.number),
            name=maybe(self.name),
            agent_id=maybe(self.agent_id),
            metadata=maybe(self.metadata),
            provider=self.provider.value.to_domain() if self.provider else OMITTED,
            expected_versions=_versions(self.expected_version),
            dry_run=bool(self.dry_run),
            verify=bool(self.verify),
        )


@strawberry.input
class DeletePhoneNumberInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.field(default=strawberry.UNSET, description=_EXPECTED_VERSION)


def _versions(expected_version: int | None) -> frozenset[int] | None:
    """Absent and null both mean: whatever the current version."""
    return None if expected_version is None or expected_version is strawberry.UNSET else frozenset({expected_version})


@strawberry.type
class CreatePhoneNumberPayload:
    phone_number: PhoneNumber | None
    user_errors: list[UserError]


@strawberry.type
class UpdatePhoneNumberPayload:
    phone_number: PhoneNumber | None
    user_errors: list[UserError]


@strawberry.input
class VerifyPhoneNumberInput:
    id: strawberry.ID


@strawberry.type
class VerifyPhoneNumberPayload:
    phone_number: PhoneNumber | None
    health: PhoneNumberHealth | None = strawberry.field(description="What this check found, now the number's health.")
    user_errors: list[UserError]


@strawberry.type
class DeletePhoneNumberPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


# --- mutations ----------------------------------------------------------------


async def charge_check(info: Info) -> None:
    """A check asked for with `verify: true` costs what verifyPhoneNumber does, taken before it runs.

    verifyPhoneNumber is charged in the document's cost; the flag can come in a variable, so it is charged here.
    """
    retry_after = await info.context.charge(VERIFY_COST)
    if retry_after is not None:
        raise rate_limited(retry_after)


def _forget_health(info: Info, row: PhoneNumberRow | None) -> None:
    """A write may change the number's health: read it afresh in the rest of the request."""
    if row is not None:
        with contextlib.suppress(KeyError):  # not read yet
            info.context.loaders.health.clear(row.id)


async def create_phone_number(info: Info, input: CreatePhoneNumberInput) -> CreatePhoneNumberPayload:
    data = input.to_domain()
    if data.verify:
        await charge_check(info)
    result = await phone_numbers.create_phone_number(info.context, data)
    _forget_health(info, result.phone_number)
    return CreatePhoneNumberPayload(
        phone_number=_phone_number(result.phone_number, result.preview), user_errors=user_errors(result.errors)
    )


async def update_phone_number(info: Info, input: UpdatePhoneNumberInput) -> UpdatePhoneNumberPayload:
    data = input.to_domain()
    if data.verify:
        await charge_check(info)
    result = await phone_numbers.update_phone_number(info.context, data)
    _forget_health(info, result.phone_number)
    return UpdatePhoneNumberPayload(
        phone_number=_phone_number(result.phone_number, result.preview), user_errors=user_errors(result.errors)
    )


async def verify_phone_number(info: Info, input: VerifyPhoneNumberInput) -> VerifyPhoneNumberPayload:
    result = await phone_numbers.verify_phone_number(info.context, input.id)
    _forget_health(info, result.phone_number)
    return VerifyPhoneNumberPayload(
        phone_number=_phone_number(result.phone_number),
        health=PhoneNumberHealth.from_row(result.health),
        user_errors=user_errors(result.errors),
    )


async def delete_phone_number(info: Info, input: DeletePhoneNumberInput) -> DeletePhoneNumberPayload:
    result = await phone_numbers.delete_phone_number(info.context, input.id, _versions(input.expected_version))
    deleted = strawberry.ID(str(result.deleted_id)) if result.deleted_id else None
    return DeletePhoneNumberPayload(deleted_id=deleted, user_errors=user_errors(result.errors))

"""UserError: an expected failure, with the path of the field at fault."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.errors import ErrorCode
from resolvers.errors import UserError as DomainUserError

UserErrorCode = Annotated[
    ErrorCode,
    strawberry.enum(name="UserErrorCode", description="Why a field was refused; stable, for programs to branch on."),
]


@strawberry.type(description="A rule the input broke. Nothing was saved.")
class UserError:
    field: list[str] = strawberry.field(
        description='Path from the argument to the field at fault, e.g. ["input", "number"].'
    )
    message: str = strawberry.field(description="What is wrong, for people.")
    code: UserErrorCode

    @classmethod
    def from_domain(cls, error: DomainUserError, root: str = "input") -> UserError:
        return cls(field=[root, *error.field], message=error.message, code=error.code)


def user_errors(errors: list[DomainUserError]) -> list[UserError]:
    return [UserError.from_domain(e) for e in errors]

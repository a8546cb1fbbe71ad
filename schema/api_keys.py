"""API keys, the viewer, and the inputs and payloads that manage keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError

from models import ApiKey as ApiKeyRow
from models import ApiKeyScope as ApiKeyScopeValue
from models import Organization as OrganizationRow
from resolvers import api_keys
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.context import GraphQLContext
from schema.errors import UserError, user_errors
from schema.pagination import Edge, PageInfo, edges_and_page_info, page_arguments

Info = strawberry.Info[GraphQLContext, None]

ApiKeyScope = Annotated[
    ApiKeyScopeValue,
    strawberry.enum(
        name="ApiKeyScope",
        description="What a key may do. READ: queries. WRITE: READ, and changing phone numbers and agents. "
        "ADMIN: everything, managing keys included.",
    ),
]


@strawberry.type(name="ApiKey", description="A key that acts for your organization. The key itself is shown only once, when created.")
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The key's first characters (e.g. sb_live_ab12): enough to recognise it, not to use it.")
    scopes: list[ApiKeyScope]
    created_at: datetime
    expires_at: datetime | None = strawberry.field(description="Null: the key does not expire.")
    last_used_at: datetime | None = strawberry.field(description="Recorded at most once a minute.")
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            prefix=row.display_prefix,
            scopes=api_keys.stored_scopes(row),
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type(name="Organization")
class Organization:
    id: strawberry.ID
    name: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: OrganizationRow) -> Organization:
        return cls(id=strawberry.ID(str(row.id)), name=row.name, created_at=row.created_at)


@strawberry.type(description="Who is calling: the key of this request and its organization.")
class Viewer:
    api_key: ApiKey
    organization: Organization


@strawberry.type
class ApiKeyConnection:
    edges: list[Edge[ApiKey]]
    page_info: PageInfo

    @strawberry.field(description="All keys of the organization, revoked and expired ones included.")  # type: ignore[untyped-decorator]  # Strawberry types field(...) without a resolver as Any
    async def total_count(self, info: Info) -> int:
        return await api_keys.count_api_keys(info.context)


@strawberry.input
class CreateApiKeyInput:
    name: str = strawberry.field(description="1 to 100 characters after trimming.")
    scopes: list[ApiKeyScope] = strawberry.field(description="At least one.")
    expires_at: datetime | None = strawberry.field(
        default=None,
        description=f"With a UTC offset, in the future, at most {api_keys.MAX_LIFETIME.days} days ahead. "
        "Null: never expires.",
    )


@strawberry.input
class RevokeApiKeyInput:
    id: strawberry.ID


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey | None
    secret: str | None = strawberry.field(description="The key to send as `Authorization: Bearer <key>`. Shown here once, never again.")
    user_errors: list[UserError]


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKey | None
    user_errors: list[UserError]


def _api_key(row: ApiKeyRow | None) -> ApiKey | None:
    return ApiKey.from_row(row) if row else None


async def create_api_key(info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
    data = api_keys.CreateApiKeyInput(name=input.name, scopes=list(input.scopes), expires_at=input.expires_at)
    result = await api_keys.create_api_key(info.context, data)
    return CreateApiKeyPayload(api_key=_api_key(result.api_key), secret=result.secret, user_errors=user_errors(result.errors))


async def revoke_api_key(info: Info, input: RevokeApiKeyInput) -> RevokeApiKeyPayload:
    result = await api_keys.revoke_api_key(info.context, input.id)
    return RevokeApiKeyPayload(api_key=_api_key(result.api_key), user_errors=user_errors(result.errors))


API_KEYS = "api_keys"


async def api_key_list(info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None) -> ApiKeyConnection:
    organization_id = info.context.organization_id
    secrets = info.context.secrets
    size, position = page_arguments(secrets, API_KEYS, organization_id, first, after)
    page = await api_keys.list_api_keys(info.context, size, position)
    edges, page_info = edges_and_page_info(
        secrets, API_KEYS, organization_id, page.rows, page.has_next_page, after, ApiKey.from_row
    )
    return ApiKeyConnection(edges=edges, page_info=page_info)


async def viewer(info: Info) -> Viewer:
    principal = info.context.principal
    row = await api_keys.get_api_key(info.context, principal.key_id) if principal else None
    if row is None:
        # Deleted from the database by hand since this process checked it.
        raise GraphQLError("This API key no longer exists", extensions={"code": "UNAUTHENTICATED"})
    organization = await api_keys.get_organization(info.context)
    return Viewer(api_key=ApiKey.from_row(row), organization=Organization.from_row(organization))

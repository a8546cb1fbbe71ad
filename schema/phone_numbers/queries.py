"""A number by id and the filtered, paged lists of numbers (of the organization, of an agent)."""

from __future__ import annotations

import uuid

import strawberry

from models import PhoneNumber as PhoneNumberRow
from resolvers import phone_numbers
from resolvers.pagination import DEFAULT_PAGE_SIZE, Page
from schema.pagination import Edge, PageInfo, argument_errors, edges_and_page_info, page_arguments
from schema.phone_numbers.types import Info, PhoneNumber, Provider, SipMode, _phone_number


@strawberry.input(description="All given conditions must hold.")
class PhoneNumberFilter:
    provider: Provider | None = None
    sip_mode: SipMode | None = None
    agent_id: strawberry.ID | None = None
    search: str | None = strawberry.field(
        default=None,
        description="Part of the number (digits, in any formatting) or of the name; case-insensitive. "
        "At most 100 characters, no control characters.",
    )

    def to_domain(self) -> phone_numbers.PhoneNumberFilter:
        return phone_numbers.PhoneNumberFilter(
            provider=self.provider, sip_mode=self.sip_mode, agent_id=self.agent_id, search=self.search
        )


PHONE_NUMBERS = "phone_numbers"
AGENT_PHONE_NUMBERS = "agent_phone_numbers"


@strawberry.type
class PhoneNumberConnection:
    edges: list[Edge[PhoneNumber]]
    page_info: PageInfo
    where: strawberry.Private[phone_numbers.PhoneNumberFilter | uuid.UUID]

    @strawberry.field(description="All numbers matching the filter, on every page.")  # type: ignore[untyped-decorator]  # Strawberry types field(...) without a resolver as Any
    async def total_count(self, info: Info) -> int:
        if isinstance(self.where, uuid.UUID):
            return await info.context.loaders.agent_number_count.load(self.where)
        return await phone_numbers.count_phone_numbers(info.context, self.where)

    @classmethod
    def build(
        cls,
        info: Info,
        kind: str,
        scope: uuid.UUID,
        page: Page[PhoneNumberRow],
        after: str | None,
        where: phone_numbers.PhoneNumberFilter | uuid.UUID,
    ) -> PhoneNumberConnection:
        edges, page_info = edges_and_page_info(
            info.context.secrets, kind, scope, page.rows, page.has_next_page, after, PhoneNumber.from_row
        )
        return cls(edges=edges, page_info=page_info, where=where)

    @classmethod
    async def of_agent(cls, info: Info, agent_id: uuid.UUID, first: int, after: str | None) -> PhoneNumberConnection:
        size, position = page_arguments(info.context.secrets, AGENT_PHONE_NUMBERS, agent_id, first, after)
        page = await info.context.loaders.agent_numbers.load((agent_id, size, position))
        return cls.build(info, AGENT_PHONE_NUMBERS, agent_id, page, after, agent_id)


async def phone_number_list(
    info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None, filter: PhoneNumberFilter | None = None
) -> PhoneNumberConnection:
    organization_id = info.context.organization_id
    size, position = page_arguments(info.context.secrets, PHONE_NUMBERS, organization_id, first, after)
    where = filter.to_domain() if filter else phone_numbers.PhoneNumberFilter()
    with argument_errors():
        page = await phone_numbers.list_phone_numbers(info.context, size, position, where)
    return PhoneNumberConnection.build(info, PHONE_NUMBERS, organization_id, page, after, where)


async def phone_number(info: Info, id: strawberry.ID) -> PhoneNumber | None:
    return _phone_number(await phone_numbers.get_phone_number(info.context, id))

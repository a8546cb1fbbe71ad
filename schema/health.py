"""What provider checks found, over GraphQL: a number's health and the events of its changes.

PhoneNumberHealthEvent is shared by `PhoneNumber.healthEvents` and the
`phoneNumberHealthChanged` subscription.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import HealthState as HealthStateValue
from models import PhoneNumber as PhoneNumberRow
from models import PhoneNumberHealth as PhoneNumberHealthRow
from models import PhoneNumberHealthEvent as PhoneNumberHealthEventRow
from resolvers.health import EVENTS_LIST_KIND
from schema.context import GraphQLContext
from schema.pagination import Edge, PageInfo, edges_and_page_info, page_arguments

if TYPE_CHECKING:
    from schema.phone_numbers.types import PhoneNumber

Info = strawberry.Info[GraphQLContext, None]

HealthState = Annotated[
    HealthStateValue,
    strawberry.enum(
        name="HealthState",
        description="What the last check of a number's provider found. "
        "OK: the provider accepted the configuration (SIP: 2xx to REGISTER, any final answer to OPTIONS; Twilio: the "
        "number is in the account). AUTH_FAILED: it refused the credentials (SIP 401/407 after credentials, 403; "
        "Twilio 401). REJECTED: it answered and refused something else. UNREACHABLE: nothing usable answered in time "
        "(no answer, refused connection, DNS or TLS failure), or the target is not allowed. UNSUPPORTED: the provider "
        "(Voximplant, jambonz) offers nothing to check from outside.",
    ),
]


@strawberry.type(name="PhoneNumberHealth", description="The last check of a number's provider configuration.")
class PhoneNumberHealth:
    state: HealthState
    detail: str = strawberry.field(description="What was tried and what answered, for people. Never holds a secret.")
    sip_status_code: int | None = strawberry.field(
        description="The final SIP response that decided it, when there was one."
    )
    latency_ms: int | None = strawberry.field(description="From the start of the check to the answer that decided it.")
    checked_at: datetime = strawberry.field(description="When the last check finished.")
    since: datetime = strawberry.field(description="When `state` last changed.")

    @classmethod
    def from_row(cls, row: PhoneNumberHealthRow | None) -> PhoneNumberHealth | None:
        """None for a number not checked since it was created or its configuration changed."""
        if row is None or row.state is None:
            return None
        assert row.detail is not None and row.checked_at is not None and row.since is not None
        return cls(
            state=row.state,
            detail=row.detail,
            sip_status_code=row.sip_status_code,
            latency_ms=row.latency_ms,
            checked_at=row.checked_at,
            since=row.since,
        )


@strawberry.type(name="PhoneNumberHealthEvent", description="A change of a number's health state, recorded once.")
class PhoneNumberHealthEvent:
    id: strawberry.ID
    at: datetime = strawberry.field(description="When the check that changed the state finished.")
    from_: HealthState | None = strawberry.field(
        name="from",
        description="The state before; null for the first check, or the first since the configuration changed.",
    )
    to: HealthState
    detail: str = strawberry.field(description="What the check that changed the state found.")
    sip_status_code: int | None
    latency_ms: int | None
    phone_number_id: strawberry.ID

    @strawberry.field(description="The number; null once it has been deleted.")  # type: ignore[untyped-decorator]  # Strawberry types field(...) without a resolver as Any
    async def phone_number(
        self, info: Info
    ) -> Annotated[PhoneNumber, strawberry.lazy("schema.phone_numbers.types")] | None:
        from schema.phone_numbers.types import PhoneNumber

        row = await info.context.loaders.node.load(uuid.UUID(str(self.phone_number_id)))
        return PhoneNumber.from_row(row) if isinstance(row, PhoneNumberRow) else None

    @classmethod
    def from_row(cls, row: PhoneNumberHealthEventRow) -> PhoneNumberHealthEvent:
        return cls(
            id=strawberry.ID(str(row.id)),
            at=row.at,
            from_=row.from_state,
            to=row.to_state,
            detail=row.detail,
            sip_status_code=row.sip_status_code,
            latency_ms=row.latency_ms,
            phone_number_id=strawberry.ID(str(row.phone_number_id)),
        )


@strawberry.type(description="No totalCount: a number's history grows without bound.")
class PhoneNumberHealthEventConnection:
    edges: list[Edge[PhoneNumberHealthEvent]]
    page_info: PageInfo


async def health_of(info: Info, number_id: uuid.UUID) -> PhoneNumberHealth | None:
    return PhoneNumberHealth.from_row(await info.context.loaders.health.load(number_id))


async def events_of(
    info: Info, number_id: uuid.UUID, first: int, after: str | None
) -> PhoneNumberHealthEventConnection:
    secrets = info.context.secrets
    size, position = page_arguments(secrets, EVENTS_LIST_KIND, number_id, first, after)
    page = await info.context.loaders.health_events.load((number_id, size, position))
    edges, page_info = edges_and_page_info(
        secrets, EVENTS_LIST_KIND, number_id, page.rows, page.has_next_page, after, PhoneNumberHealthEvent.from_row
    )
    return PhoneNumberHealthEventConnection(edges=edges, page_info=page_info)

"""The audit log over GraphQL: AuditEvent, its filter, and the auditEvents list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from models import AuditAction as AuditActionValue
from models import AuditActorType as AuditActorTypeValue
from models import AuditEvent as AuditEventRow
from models import AuditTargetType as AuditTargetTypeValue
from resolvers import audit, providers
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.context import GraphQLContext
from schema.pagination import (
    Edge,
    PageInfo,
    argument_errors,
    edges_and_page_info,
    page_arguments,
)

Info = strawberry.Info[GraphQLContext, None]

AuditAction = Annotated[
    AuditActionValue,
    strawberry.enum(
        name="AuditAction",
        description="What a change did. PHONE_NUMBER_UPDATED also records each number a deleteAgent unties. "
        "PHONE_NUMBER_VERIFIED: a provider check changed what is known of the number's provider.",
    ),
]
AuditTargetType = Annotated[AuditTargetTypeValue, strawberry.enum(name="AuditTargetType")]
AuditActorType = Annotated[
    AuditActorTypeValue,
    strawberry.enum(
        name="AuditActorType",
        description="API_KEY: a request made with an API key. COMMAND_LINE: the operator, with a "
        "`switchboard` command.",
    ),
]


@strawberry.type(description="Who made a change, as it was named when it did.")
class AuditActor:
    type: AuditActorType
    api_key_id: strawberry.ID | None = strawberry.field(description="Null for the command line.")
    name: str = strawberry.field(
        description="The key's name then (the key may since be revoked), or the command, e.g. `switchboard "
        "revoke-api-key`."
    )
    prefix: str | None = strawberry.field(description="The key's prefix, e.g. sb_live_ab12; null for the command line.")


_CONFIG_FIELDS = list(dict.fromkeys(f.name for spec in providers.SPECS.values() for f in spec.fields))
_SECRET_FIELDS = list(dict.fromkeys(f.name for spec in providers.SPECS.values() for f in spec.fields if f.secret))


@strawberry.type(description="One field of the target that the change set to another value.")
class AuditChange:
    field: str = strawberry.field(
        description="As the API spells it: a PhoneNumber field (number, name, agentId, metadata, provider, sipMode, "
        f"version), a provider configuration field by its own name ({', '.join(_CONFIG_FIELDS)}), an Agent's name, "
        "or an ApiKey's name, prefix, scopes, expiresAt, revokedAt. Values are as GraphQL shows them (enum values "
        "such as TWILIO, times in UTC)."
    )
    before: JSON | None = strawberry.field(description="The value before; null when there was none.")
    after: JSON | None = strawberry.field(description="The value after; null when there is none.")
    secret_changed: bool = strawberry.field(
        description=f"True for a secret ({', '.join(_SECRET_FIELDS)}) that was set, replaced or cleared: its "
        "before and "
        "after are always null, and it is true even when the new value equals the old one."
    )


@strawberry.type(name="AuditEvent", description="One change to a phone number, agent or API key.")
class AuditEvent:
    id: strawberry.ID
    at: datetime = strawberry.field(description="When the change was made.")
    action: AuditAction
    actor: AuditActor
    target_type: AuditTargetType
    target_id: strawberry.ID
    request_id: str | None = strawberry.field(description="The request's X-Request-ID, as in the server log; null for the command line.")
    changes: list[AuditChange] = strawberry.field(
        description="Each field that changed, in a stable order: a create lists every field set, a delete "
        "every field it removes."
    )

    @classmethod
    def from_row(cls, row: AuditEventRow) -> AuditEvent:
        actor = AuditActor(
            type=row.actor_type,
            api_key_id=strawberry.ID(str(row.actor_key_id)) if row.actor_key_id else None,
            name=row.actor_name,
            prefix=row.actor_prefix,
        )
        changes = [
            AuditChange(field=c.field, before=c.before, after=c.after, secret_changed=c.secret_changed)
            for c in audit.event_changes(row)
        ]
        return cls(
            id=strawberry.ID(str(row.id)),
            at=row.created_at,
            action=row.action,
            actor=actor,
            target_type=row.target_type,
            target_id=strawberry.ID(str(row.target_id)),
            request_id=row.request_id,
            changes=changes,
        )


@strawberry.input(description="All given conditions must hold.")
class AuditEventFilter:
    target_id: strawberry.ID | None = strawberry.field(default=None, description="A phone number's, agent's or API key's id.")
    actor_key_id: strawberry.ID | None = strawberry.field(default=None, description="Changes made with this API key.")
    action: AuditAction | None = None
    since: datetime | None = strawberry.field(default=None, description="Made at or after this time (with a UTC offset).")
    until: datetime | None = strawberry.field(default=None, description="Made before this time (with a UTC offset).")

    def to_domain(self) -> audit.AuditEventFilter:
        return audit.AuditEventFilter(
            target_id=self.target_id, actor_key_id=self.actor_key_id, action=self.action, since=self.since, until=self.until
        )


@strawberry.type(description="No totalCount: counting a long log would read all of it.")
class AuditEventConnection:
    edges: list[Edge[AuditEvent]]
    page_info: PageInfo


AUDIT_EVENTS = audit.LIST_KIND


async def audit_event_list(
    info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None, filter: AuditEventFilter | None = None
) -> AuditEventConnection:
    organization_id = info.context.organization_id
    secrets = info.context.secrets
    size, position = page_arguments(secrets, AUDIT_EVENTS, organization_id, first, after)
    where = filter.to_domain() if filter else audit.AuditEventFilter()
    with argument_errors():
        page = await audit.list_audit_events(info.context, size, position, where)
    edges, page_info = edges_and_page_info(
        secrets, AUDIT_EVENTS, organization_id, page.rows, page.has_next_page, after, AuditEvent.from_row
    )
    return AuditEventConnection(edges=edges, page_info=page_info)

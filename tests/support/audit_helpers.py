"""Reading the audit log in tests, and the shapes of the events they expect."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from models import AuditAction, AuditActorType, AuditEvent, AuditTargetType, Organization
from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import AUDIT_EVENTS, VIEWER

Event = dict[str, Any]


def change(field: str, before: Any = None, after: Any = None) -> dict[str, Any]:
    return {"field": field, "before": before, "after": after, "secretChanged": False}


def secret(field: str) -> dict[str, Any]:
    return {"field": field, "before": None, "after": None, "secretChanged": True}


def created(fields: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [secret(name) if value is SECRET else change(name, None, value) for name, value in fields]


def deleted(fields: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [secret(name) if value is SECRET else change(name, value, None) for name, value in fields]


SECRET = object()


async def all_events(api: Api, *, key: str | None = None, filter: dict[str, Any] | None = None) -> list[Event]:
    """Every event the key's organization can see over GraphQL, newest first, page by page."""
    events: list[Event] = []
    after = None
    while True:
        variables: dict[str, Any] = {"first": 100, "after": after, "filter": filter}
        connection = (await api.gql(AUDIT_EVENTS, variables, key=key))["auditEvents"]
        events += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return events
        after = connection["pageInfo"]["endCursor"]


async def all_rest_events(client: httpx.AsyncClient, key: str, **params: str) -> list[Event]:
    events: list[Event] = []
    after: str | None = None
    while True:
        query = {"limit": "100", **params, **({"after": after} if after else {})}
        response = await client.get("/v1/audit-events", params=query, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.text
        body = response.json()
        events += body["data"]
        after = body["pagination"]["nextCursor"]
        if after is None:
            return events


async def stored_event_count() -> int:
    return len(await stored_rows("audit_events"))


async def key_actor(api: Api, key: str | None = None) -> dict[str, Any]:
    """The actor an event names for a request made with the key."""
    viewer = (await api.gql(VIEWER, key=key))["viewer"]["apiKey"]
    return {"type": "API_KEY", "apiKeyId": viewer["id"], "name": viewer["name"], "prefix": viewer["prefix"]}


async def events_aged(ages: list[timedelta], now: datetime | None = None) -> list[uuid.UUID]:
    """Events of Acme made `age` before now each, as a server of that time recorded them."""
    now = now or datetime.now(UTC)
    organization = await Organization.get(name="Acme")
    events = [
        AuditEvent(
            organization_id=organization.id,
            created_at=now - age,
            action=AuditAction.AGENT_CREATED,
            target_type=AuditTargetType.AGENT,
            target_id=uuid.uuid4(),
            actor_type=AuditActorType.API_KEY,
            actor_key_id=uuid.uuid4(),
            actor_name="old key",
            actor_prefix="sb_live_0ld0",
            changes=[{"field": "name", "before": None, "after": f"agent {n}", "secretChanged": False}],
        )
        for n, age in enumerate(ages)
    ]
    await AuditEvent.bulk_create(events)
    return [event.id for event in events]


async def stored_ids() -> set[str]:
    return {str(row["id"]) for row in await stored_rows("audit_events")}

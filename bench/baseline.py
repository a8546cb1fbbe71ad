"""The baselines: the same work as Switchboard's, with nothing else around it.

`/insert` parses the same JSON and inserts the same row: no GraphQL, no
authentication, no validation, no encryption; what is left is Starlette,
JSON and one Tortoise INSERT, the floor a create cannot go below.

`/page` answers the first page of 100 numbers with what the benchmark's
GraphQL page selects (the number's fields, its Twilio configuration and its
agent): one SELECT of the page, one of its agents, and JSON, the floor a page
cannot go below.

Not part of the application; `bench/run.py` serves it beside Switchboard and
`bench/instructions.py` calls it in-process.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise

from models import Agent, PhoneNumber, Provider
from switchboard.db import tortoise_config

PAGE_SIZE = 100


def create_app(*, register_tortoise: bool = True) -> Starlette:
    """The baseline app; `register_tortoise=False` when the caller has set Tortoise up already."""
    database_url = os.environ["DATABASE_URL"]
    organization_id = uuid.UUID(os.environ["BENCH_ORGANIZATION_ID"])
    # The organization whose numbers /page reads: the one the GraphQL page reads.
    page_organization_id = uuid.UUID(os.environ.get("BENCH_PAGE_ORGANIZATION_ID", str(organization_id)))

    async def insert(request: Request) -> Response:
        input = json.loads(await request.body())["variables"]["input"]
        twilio = input["provider"]["twilio"]
        row = PhoneNumber(
            organization_id=organization_id,
            number=input["number"],
            provider=Provider.TWILIO,
            twilio_account_sid=twilio["accountSid"],
            # The same bytes as a sealed token would take, without sealing it.
            twilio_auth_token_encrypted=twilio["authToken"],
        )
        await row.save(force_create=True)
        return Response(json.dumps({"id": str(row.id)}), media_type="application/json")

    async def page(request: Request) -> Response:
        rows = await PhoneNumber.filter(organization_id=page_organization_id).order_by("-created_at", "-id").limit(PAGE_SIZE)
        agent_ids = {row.agent_id for row in rows if row.agent_id is not None}
        agents = {agent.id: agent for agent in await Agent.filter(id__in=agent_ids)} if agent_ids else {}
        nodes = []
        for row in rows:
            agent = agents.get(row.agent_id) if row.agent_id else None
            nodes.append(
                {
                    "id": str(row.id),
                    "number": row.number,
                    "name": row.name,
                    "provider": row.provider.name,
                    "createdAt": row.created_at.isoformat(),
                    "config": {"accountSid": row.twilio_account_sid, "authTokenSet": row.twilio_auth_token_encrypted is not None},
                    "agent": {"id": str(agent.id), "name": agent.name} if agent else None,
                }
            )
        return Response(json.dumps({"nodes": nodes}), media_type="application/json")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(database_url)):
            yield

    return Starlette(
        routes=[Route("/insert", insert, methods=["POST"]), Route("/page", page, methods=["GET", "POST"])],
        lifespan=lifespan if register_tortoise else None,
    )

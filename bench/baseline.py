"""The baseline: parse the same JSON and insert the same row, nothing else.

No GraphQL, no authentication, no validation, no encryption: what is left is
Starlette, JSON and one Tortoise INSERT, the floor a create cannot go below.
Not part of the application; `bench/run.py` serves it beside Switchboard.
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

from models import PhoneNumber, Provider
from switchboard.db import tortoise_config


def create_app() -> Starlette:
    database_url = os.environ["DATABASE_URL"]
    organization_id = uuid.UUID(os.environ["BENCH_ORGANIZATION_ID"])

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

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(database_url)):
            yield

    return Starlette(routes=[Route("/insert", insert, methods=["POST"])], lifespan=lifespan)

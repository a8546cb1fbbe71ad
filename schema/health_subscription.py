"""The subscription to changes of numbers' health, over graphql-transport-ws."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError

from resolvers.health_events import hub
from resolvers.rules import parse_uuid
from schema.context import GraphQLContext
from schema.health import PhoneNumberHealthEvent

Info = strawberry.Info[GraphQLContext, None]
log = logging.getLogger("switchboard")

# Subscriptions one API key may hold open on one server process, over all its connections.
MAX_SUBSCRIPTIONS_PER_KEY = 100

_open_per_key: Counter[uuid.UUID] = Counter()


async def phone_number_health_changed(
    info: Info, id: strawberry.ID | None = None
) -> AsyncGenerator[PhoneNumberHealthEvent, None]:
    ctx = info.context
    assert ctx.principal is not None  # the connection was refused without a key
    key_id = ctx.principal.key_id
    if _open_per_key[key_id] >= MAX_SUBSCRIPTIONS_PER_KEY:
        raise GraphQLError(
            f"This API key already has {MAX_SUBSCRIPTIONS_PER_KEY} subscriptions open on this server; complete one first",
            extensions={"code": "TOO_MANY_SUBSCRIPTIONS", "limit": MAX_SUBSCRIPTIONS_PER_KEY},
        )
    # Not a UUID, another organization's or no number at all: nothing ever matches, as for any unknown id.
    wanted = None if id is None else (parse_uuid(id) or uuid.UUID(int=0))
    _open_per_key[key_id] += 1
    try:
        with hub.subscribe(ctx.organization_id) as queue:
            while True:
                event = await queue.get()
                if wanted is not None and event.phone_number_id != wanted:
                    continue
                try:
                    still_valid = await ctx.authorized()
                except Exception:
                    # Answered over the WebSocket, where the HTTP layer's masking does not reach.
                    log.exception("unexpected error in phoneNumberHealthChanged (request id %s)", ctx.request_id)
                    raise GraphQLError(
                        f"Internal server error (request id {ctx.request_id})",
                        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": ctx.request_id},
                    ) from None
                if not still_valid:
                    raise GraphQLError("The API key was revoked or has expired", extensions={"code": "UNAUTHENTICATED"})
                yield PhoneNumberHealthEvent.from_row(event)
    finally:
        _open_per_key[key_id] -= 1
        if not _open_per_key[key_id]:
            del _open_per_key[key_id]

"""phoneNumberHealthChanged over graphql-transport-ws, on the ASGI app, on SQLite and PostgreSQL.

A change is recorded by record_check, the one writer every check goes
through; on PostgreSQL it reaches the subscriber through NOTIFY and the
app's listener, as a change recorded by another process does.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from models import ApiKeyScope, HealthState, PhoneNumber
from resolvers.api_keys import CreateApiKeyInput, issue_key
from resolvers.health import record_check
from resolvers.verification import CheckResult
from schema.limits import MAX_QUERY_LENGTH
from switchboard.http.view import MAX_SUBSCRIPTIONS_PER_CONNECTION
from tests.support.app import Api
from tests.support.graphql_ops import REVOKE_API_KEY, VIEWER
from tests.support.helpers import create_number
from tests.support.secret_sweep import SWEEP
from tests.support.subscriptions import Closed, asgi_client, bearer, connected

UNREACHABLE = CheckResult(HealthState.UNREACHABLE, "No answer within 1 s to OPTIONS sent to 192.0.2.1:5060 over UDP.")
OK = CheckResult(HealthState.OK, "OPTIONS answered 200 OK.", sip_status_code=200, latency_ms=3)


async def change(number_id: str, result: CheckResult) -> None:
    row = await PhoneNumber.get(id=number_id)
    recorded = await record_check(row, result)
    assert recorded.event is not None


async def test_a_subscriber_sees_each_change_of_its_numbers(app: Any, api: Api) -> None:
    first, second = await create_number(api, 1), await create_number(api, 2)
    async with asgi_client(app) as client, connected(client) as ws:
        assert await ws.init(bearer(api.key)) == {"type": "connection_ack"}
        await ws.subscribe("all")
        await ws.subscribe("first", first["id"])
        await asyncio.sleep(0.2)  # the subscriptions are open

        await change(second["id"], UNREACHABLE)
        operation, event = await ws.next_event()
        assert operation == "all"
        assert event["phoneNumberId"] == second["id"] and event["from"] is None and event["to"] == "UNREACHABLE"
        assert event["detail"] == UNREACHABLE.detail and event["sipStatusCode"] is None

        await change(first["id"], OK)
        got = dict([await ws.next_event(), await ws.next_event()])
        assert set(got) == {"all", "first"}
        assert got["all"] == got["first"]
        assert got["first"]["phoneNumberId"] == first["id"] and got["first"]["to"] == "OK"
        assert got["first"]["sipStatusCode"] == 200 and got["first"]["latencyMs"] == 3
        uuid.UUID(got["first"]["id"])
        await ws.nothing_within(0.5)


@pytest.mark.parametrize(
    "payload, code",
    [
        pytest.param({}, 4403, id="no-key"),
        pytest.param({"authorization": "Bearer "}, 4403, id="empty-key"),
        pytest.param({"Authorization": "Bearer sb_live_not_a_key_at_all_0123456789"}, 4403, id="wrong-key"),
        pytest.param({"Authorization": "Basic abc"}, 4403, id="not-bearer"),
        pytest.param({"Authorization": ["Bearer x"]}, 4403, id="not-a-string"),
        # graphql-transport-ws: a payload, when sent, is an object.
        pytest.param(None, 4400, id="null-payload"),
    ],
)
async def test_a_connection_without_a_valid_key_is_closed(app: Any, api: Api, payload: Any, code: int) -> None:
    async with asgi_client(app) as client, connected(client) as ws:
        with pytest.raises(Closed) as closed:
            await ws.init(payload)
        assert closed.value.code == code


async def test_a_revoked_key_is_refused_and_its_subscriptions_end(app: Any, api: Api) -> None:
    number = await create_number(api, 1)
    key = (await issue_key("Acme", CreateApiKeyInput("watcher", [ApiKeyScope.READ]))).key
    SWEEP.add_secret(key)
    async with asgi_client(app) as client:
        async with connected(client) as ws:
            assert (await ws.init(bearer(key)))["type"] == "connection_ack"
            await ws.subscribe("s")
            await asyncio.sleep(0.2)
            key_id = (await api.gql(VIEWER, key=key))["viewer"]["apiKey"]["id"]
            revoked = await api.gql(REVOKE_API_KEY, {"input": {"id": key_id}})
            assert revoked["revokeApiKey"]["userErrors"] == []
            await change(number["id"], UNREACHABLE)
            message = await ws.receive()
            assert message["type"] == "next" and message["payload"]["errors"][0]["extensions"] == {
                "code": "UNAUTHENTICATED"
            }
            assert message["payload"]["data"] is None
            assert await ws.receive() == {"id": "s", "type": "complete"}
        async with connected(client) as ws:
            with pytest.raises(Closed) as closed:
                await ws.init(bearer(key))
            assert closed.value.code == 4403


async def test_subscribing_before_connection_init_is_closed_with_4401(app: Any, api: Api) -> None:
    async with asgi_client(app) as client, connected(client) as ws:
        await ws.subscribe("s")
        with pytest.raises(Closed) as closed:
            await ws.receive()
        assert closed.value.code == 4401


async def test_the_older_graphql_ws_protocol_is_refused(app: Any, api: Api) -> None:
    async with asgi_client(app) as client, connected(client, protocol="graphql-ws") as ws:
        with pytest.raises(Closed) as closed:
            await ws.receive()
        assert closed.value.code == 4406


async def test_a_connection_holds_a_bounded_number_of_subscriptions(app: Any, api: Api) -> None:
    async with asgi_client(app) as client, connected(client) as ws:
        await ws.init(bearer(api.key))
        for n in range(MAX_SUBSCRIPTIONS_PER_CONNECTION):
            await ws.subscribe(f"s{n}")
        await ws.subscribe("one-too-many")
        message = await ws.receive()
        assert message["id"] == "one-too-many" and message["type"] == "error"
        assert message["payload"][0]["message"] == "Subscription limit reached"
        # Completing one makes room.
        await ws.send({"id": "s0", "type": "complete"})
        await asyncio.sleep(0.1)
        await ws.subscribe("room-again")
        await ws.nothing_within(0.3)


async def test_an_id_that_is_no_number_yields_nothing(app: Any, api: Api) -> None:
    number = await create_number(api, 1)
    async with asgi_client(app) as client, connected(client) as ws:
        await ws.init(bearer(api.key))
        await ws.subscribe("missing", "00000000-0000-4000-8000-00000000dead")
        await ws.subscribe("not-a-uuid", "42")
        await ws.subscribe("all")
        await asyncio.sleep(0.2)
        await change(number["id"], UNREACHABLE)
        assert (await ws.next_event())[0] == "all"
        await ws.nothing_within(0.5)


async def test_a_document_the_limits_refuse_is_an_error_message_and_the_connection_goes_on(app: Any, api: Api) -> None:
    """As over HTTP: the limit's message as the operation's `error`, not a bare `complete` and a traceback."""
    number = await create_number(api, 1)
    too_long = "subscription { phoneNumberHealthChanged { phoneNumberId } }" + " " * MAX_QUERY_LENGTH
    async with asgi_client(app) as client, connected(client) as ws:
        await ws.init(bearer(api.key))
        await ws.subscribe("long", query=too_long)
        message = await ws.receive()
        assert (message["id"], message["type"]) == ("long", "error"), message
        assert message["payload"] == [
            {"message": f"The query is {len(too_long)} characters long; at most {MAX_QUERY_LENGTH} are allowed"}
        ]
        # The connection carries on, and the id is free again.
        await ws.subscribe("long")
        await asyncio.sleep(0.2)
        await change(number["id"], UNREACHABLE)
        assert (await ws.next_event())[0] == "long"

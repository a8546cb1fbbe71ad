"""The secret sweep finds what it is meant to find: a planted leak fails it, and the whole run.

The tests that need real processes are in tests/system/test_secret_sweep_processes.py.
"""

from __future__ import annotations

import logging

import httpx

from tests.support.app import Api
from tests.support.graphql_ops import CREATE_API_KEY, CREATE_PHONE_NUMBER, PHONE_NUMBER, sip_registration
from tests.support.secret_sweep import SecretSweep, SweepHandler

SECRET = "planted-secret-0123456789"


def test_a_secret_in_any_text_is_found_and_placed() -> None:
    sweep = SecretSweep()
    sweep.add_secret(SECRET)
    sweep.add_secret("short")  # too short to search for without false alarms
    sweep.add_secret("x" * 129)  # filler, as for a length rule: in any long run of x
    sweep.add_text("response", "to POST /graphql", '{"data": {"ok": true}}')
    assert sweep.leaks() == []
    sweep.add_text("response", "to GET /v1/phone-numbers", f'{{"error": "bad token {SECRET}"}}')
    sweep.add_text("stored table", "phone_numbers (sqlite)", f"[{{'name': 'x{SECRET}y'}}]")
    sweep.add_text("server log", "server-0.log", "short " + "x" * 200)
    assert sorted(sweep.leaks()) == [
        f"{SECRET!r} in response to GET /v1/phone-numbers",
        f"{SECRET!r} in stored table phone_numbers (sqlite)",
    ]


async def test_the_hooks_collect_requests_secrets_responses_and_log_records(app: object) -> None:
    sweep = SecretSweep()
    hooks = {"request": [sweep.on_request], "response": [sweep.on_response]}
    # The fixture's app is typed object here; it is the ASGI app.
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    handler = SweepHandler(sweep)
    logging.getLogger().addHandler(handler)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://switchboard.test", event_hooks=hooks
        ) as client:
            from resolvers.api_keys import issue_key

            api = Api(client)
            api.key = (await issue_key("Acme")).key
            created = await api.gql(
                CREATE_PHONE_NUMBER,
                {"input": {"number": "+14155550123", "provider": sip_registration(password=SECRET)}},
            )
            await api.gql(PHONE_NUMBER, {"id": created["createPhoneNumber"]["phoneNumber"]["id"]})
            assert {SECRET, api.key} <= sweep.secrets
            assert sweep.counts["response"] == 2 and sweep.leaks() == []

            logging.getLogger("switchboard").warning("careless: %s", SECRET)
    finally:
        logging.getLogger().removeHandler(handler)
    assert sweep.leaks() == [f"{SECRET!r} in log record of switchboard"]


async def test_an_issued_key_is_allowed_only_in_the_answer_that_issues_it(app: object) -> None:
    sweep = SecretSweep()
    hooks = {"request": [sweep.on_request], "response": [sweep.on_response]}
    # The fixture's app is typed object here; it is the ASGI app.
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test", event_hooks=hooks) as client:
        from resolvers.api_keys import issue_key

        api = Api(client)
        api.key = (await issue_key("Acme")).key
        created = await api.gql(CREATE_API_KEY, {"input": {"name": "ci", "scopes": ["READ"]}})
        issued = created["createApiKey"]["secret"]
        rest = await client.post(
            "/v1/api-keys", json={"name": "ci", "scopes": ["read"]}, headers={"Authorization": f"Bearer {api.key}"}
        )
        assert {issued, rest.json()["data"]["secret"]} <= sweep.secrets, "learnt from the answers themselves"
        assert sweep.leaks() == []

    # The same key anywhere else, even beside its own rightful place, is a leak.
    careless = {"data": {"createApiKey": {"secret": issued, "apiKey": {"name": f"copy of {issued}"}}}}
    await sweep.on_response(
        httpx.Response(200, json=careless, request=httpx.Request("POST", "http://switchboard.test/graphql"))
    )
    assert sweep.leaks() == [f"{issued!r} in response to POST /graphql"]

"""verifyPhoneNumber, PhoneNumber.health and healthEvents, and `verify: true`, over GraphQL on both databases,
against Debian's Kamailio and a stand-in for Twilio's API, all on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from resolvers.health import VERIFY_CONCURRENCY
from schema import schema
from schema.cost import MUTATION_COST, VERIFY_COST, document_cost
from schema.limits import largest_charge
from switchboard.settings import Settings
from tests.support.app import Api, api_client, running_app
from tests.support.database import stored_rows
from tests.support.graphql_ops import (
    CREATE_PHONE_NUMBER_WITH_HEALTH,
    PHONE_NUMBER_HEALTH,
    UPDATE_PHONE_NUMBER_WITH_HEALTH,
    VERIFY_PHONE_NUMBER,
)
from tests.support.helpers import nth_number
from tests.support.kamailio import Kamailio
from tests.support.secret_sweep import SWEEP
from tests.support.sip_standin import UdpStandin
from tests.support.twilio_standin import TwilioStandin
from tests.support.verify import (
    AUTH_PASSWORD,
    NUMBER,
    PASSWORD,
    TIMEOUT,
    TWILIO_SID,
    TWILIO_TOKEN,
    USERS,
    WRONG_PASSWORD,
    WRONG_TOKEN,
    Start,
    counts,
    local_settings,
    twilio,
    without_secrets,
)

pytest_plugins = ("tests.support.provider_fixtures",)  # `kamailio` and `certificates`
__all__ = ["local_settings", "twilio"]  # fixtures, from tests/support/verify.py


@pytest.fixture
async def local(local_settings: Settings) -> AsyncIterator[Api]:
    async with running_app(local_settings) as app, api_client(app) as api:
        yield api


# --- helpers ----------------------------------------------------------------------------


def registration(registrar: Kamailio, **overrides: Any) -> dict[str, Any]:
    values = {"username": "alice", "password": PASSWORD, "proxy": "127.0.0.1", "port": registrar.port, **overrides}
    return {"sip": {"registration": values}}


def twilio_provider(token: str = TWILIO_TOKEN) -> dict[str, Any]:
    return {"twilio": {"accountSid": TWILIO_SID, "authToken": token}}


async def create(api: Api, provider: dict[str, Any], number: str = NUMBER, **fields: Any) -> dict[str, Any]:
    body = await api.gql(CREATE_PHONE_NUMBER_WITH_HEALTH, {"input": {"number": number, "provider": provider, **fields}})
    payload = body["createPhoneNumber"]
    assert payload["userErrors"] == [], payload
    return payload["phoneNumber"]


async def verify(api: Api, id: str) -> dict[str, Any]:
    payload = (await api.gql(VERIFY_PHONE_NUMBER, {"input": {"id": id}}))["verifyPhoneNumber"]
    assert payload["userErrors"] == [], payload
    assert payload["phoneNumber"]["health"] == payload["health"], "the answer is the stored health"
    return payload["health"]


async def health_of(api: Api, id: str, **page: Any) -> dict[str, Any]:
    return (await api.gql(PHONE_NUMBER_HEALTH, {"id": id, **page}))["phoneNumber"]


def events_of(number: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["node"]["from"], e["node"]["to"]) for e in number["healthEvents"]["edges"]]


# --- health before and after a check ----------------------------------------------------------


async def test_health_is_null_before_the_first_check(local: Api) -> None:
    number = await create(local, {"voximplant": {}})
    assert number["health"] is None
    read = await health_of(local, number["id"])
    assert read["health"] is None
    assert read["healthEvents"] == {
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
        "edges": [],
    }


async def test_right_password_is_ok_with_200(local: Api, kamailio: Start) -> None:
    registrar = kamailio(users=USERS)
    number = await create(local, registration(registrar))

    health = await verify(local, number["id"])

    assert (health["state"], health["sipStatusCode"]) == ("OK", 200), health["detail"]
    assert health["latencyMs"] >= 0 and health["checkedAt"] == health["since"]
    assert "digest credentials for 'alice'" in without_secrets(health["detail"])
    read = await health_of(local, number["id"])
    assert read["health"] == health and read["version"] == 1, "a check never moves the number's version"
    (event,) = [e["node"] for e in read["healthEvents"]["edges"]]
    assert (event["from"], event["to"], event["sipStatusCode"], event["detail"]) == (None, "OK", 200, health["detail"])
    assert event["at"] == health["since"] and event["phoneNumber"] == {"id": number["id"], "number": NUMBER}
    assert registrar.contacts("alice") == [], "the check removed its own binding"


async def test_wrong_password_is_auth_failed(local: Api, kamailio: Start) -> None:
    registrar = kamailio(users=USERS)
    number = await create(local, registration(registrar, password=WRONG_PASSWORD))

    health = await verify(local, number["id"])

    assert (health["state"], health["sipStatusCode"]) == ("AUTH_FAILED", 401), health["detail"]
    without_secrets(health["detail"])


async def test_the_auth_user_not_the_username_answers_the_digest(local: Api, kamailio: Start) -> None:
    registrar = kamailio(users=USERS)
    number = await create(local, registration(registrar, username=NUMBER, authUser="authid", password=AUTH_PASSWORD))

    health = await verify(local, number["id"])

    assert health["state"] == "OK", health["detail"]
    assert "digest credentials for 'authid'" in health["detail"]
    assert [(e["store"], e["au"]) for e in registrar.events() if "store" in e] == [
        (NUMBER, "authid"),
        (NUMBER, "authid"),
    ]
    assert 'username="authid"' in registrar.wire_with('username="authid"')


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("transport", ["UDP", "TCP"])
async def test_a_closed_port_is_unreachable(local: Api, transport: str) -> None:
    port = closed_port()
    provider = {
        "sip": {
            "registration": {
                "username": "alice",
                "password": PASSWORD,
                "proxy": "127.0.0.1",
                "port": port,
                "registerTransport": transport,
            }
        }
    }
    number = await create(local, provider)

    health = await verify(local, number["id"])

    assert (health["state"], health["sipStatusCode"], health["latencyMs"]) == ("UNREACHABLE", None, None)
    assert health["detail"].endswith("the connection was refused."), health["detail"]


async def test_no_answer_is_unreachable_within_the_timeout(local: Api) -> None:
    async with UdpStandin(lambda request: []) as silent:
        provider = {
            "sip": {
                "registration": {"username": "alice", "password": PASSWORD, "proxy": "127.0.0.1", "port": silent.port}
            }
        }
        number = await create(local, provider)
        health = await verify(local, number["id"])
    assert health["state"] == "UNREACHABLE"
    assert health["detail"].startswith(f"No answer within {TIMEOUT:g} s to REGISTER of alice@127.0.0.1"), health[
        "detail"
    ]
    assert silent.requests, "the REGISTER was sent"


async def test_options_to_an_allowlisted_pbx_is_ok(local: Api, kamailio: Start) -> None:
    registrar = kamailio(users=USERS)
    number = await create(local, {"sip": {"ipAllowlist": {"ip": "127.0.0.1", "port": registrar.port}}})

    health = await verify(local, number["id"])

    assert (health["state"], health["sipStatusCode"]) == ("OK", 200), health["detail"]
    assert [e["method"] for e in registrar.events()] == ["OPTIONS"]


@pytest.mark.parametrize(
    ("number", "token", "state"),
    [
        pytest.param(NUMBER, TWILIO_TOKEN, "OK", id="listed"),
        pytest.param(nth_number(77), TWILIO_TOKEN, "REJECTED", id="not-listed"),
        pytest.param(NUMBER, WRONG_TOKEN, "AUTH_FAILED", id="wrong-token"),
    ],
)
async def test_twilio(local: Api, twilio: tuple[TwilioStandin, str], number: str, token: str, state: str) -> None:
    created = await create(local, twilio_provider(token), number=number)

    health = await verify(local, created["id"])

    assert (health["state"], health["sipStatusCode"]) == (state, None), health["detail"]
    if state == "REJECTED":
        assert "not a number of this Twilio account" in health["detail"]
    assert twilio[0].requests, "the stand-in was asked"
    without_secrets(health["detail"])


@pytest.mark.parametrize("provider", [{"voximplant": {"applicationId": "app-1"}}, {"jambonz": {}}])
async def test_voximplant_and_jambonz_are_unsupported(local: Api, provider: dict[str, Any]) -> None:
    number = await create(local, provider)
    health = await verify(local, number["id"])
    assert health["state"] == "UNSUPPORTED" and health["detail"].endswith("Nothing was sent.")


async def test_a_local_target_is_not_checked_unless_allowed(
    settings: Settings, local_settings: Settings, kamailio: Start
) -> None:
    registrar = kamailio(users=USERS)
    async with running_app(local_settings) as app, api_client(app) as api:
        number = await create(api, registration(registrar))
    # The same database, served as production would be: SWITCHBOARD_ALLOW_LOCAL_TARGETS left false.
    async with running_app(settings) as app, api_client(app) as api:
        api.key = await api_key_of_acme()
        health = await verify(api, number["id"])
    assert health["state"] == "UNREACHABLE"
    assert health["detail"].startswith("Not checked: registrar '127.0.0.1' is a loopback address"), health["detail"]
    assert health["detail"].endswith("Nothing was sent.")
    assert registrar.events() == [], "Kamailio got nothing"


async def api_key_of_acme() -> str:
    """Another key of the organization the first app's client made."""
    from models import ApiKeyScope
    from resolvers.api_keys import CreateApiKeyInput, issue_key

    key = (await issue_key("Acme", CreateApiKeyInput("second", [ApiKeyScope.WRITE]))).key
    SWEEP.add_secret(key)
    return key


# --- events ----------------------------------------------------------------------------------


async def test_events_list_each_change_once_newest_first(local: Api, twilio: tuple[TwilioStandin, str]) -> None:
    number = await create(local, twilio_provider())
    account = twilio[0].accounts[TWILIO_SID]
    assert (await verify(local, number["id"]))["state"] == "OK"
    first_ok = await health_of(local, number["id"])
    assert (await verify(local, number["id"]))["state"] == "OK"
    again = await health_of(local, number["id"])
    assert events_of(again) == [(None, "OK")], "the same state again is no event"
    assert again["health"]["since"] == first_ok["health"]["since"]
    assert again["health"]["checkedAt"] > first_ok["health"]["checkedAt"]

    account.numbers.remove(NUMBER)
    assert (await verify(local, number["id"]))["state"] == "REJECTED"
    account.numbers.append(NUMBER)
    assert (await verify(local, number["id"]))["state"] == "OK"

    read = await health_of(local, number["id"])
    assert events_of(read) == [("REJECTED", "OK"), ("OK", "REJECTED"), (None, "OK")]
    times = [e["node"]["at"] for e in read["healthEvents"]["edges"]]
    assert times == sorted(times, reverse=True)
    assert read["health"]["since"] == times[0]

    page = await health_of(local, number["id"], first=2)
    assert (
        events_of(page) == [("REJECTED", "OK"), ("OK", "REJECTED")] and page["healthEvents"]["pageInfo"]["hasNextPage"]
    )
    rest = await health_of(local, number["id"], first=2, after=page["healthEvents"]["pageInfo"]["endCursor"])
    assert events_of(rest) == [(None, "OK")] and not rest["healthEvents"]["pageInfo"]["hasNextPage"]
    # The contract's `healthEvents(first: Int = 20, ...)`: null asks for the default page.
    assert events_of(await health_of(local, number["id"], first=None)) == events_of(read)

    # A cursor names its number: another number's list refuses it.
    other = await create(local, {"jambonz": {}}, number=nth_number(5))
    response = await local.post(
        PHONE_NUMBER_HEALTH, {"id": other["id"], "after": page["healthEvents"]["pageInfo"]["endCursor"]}
    )
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


class Queries(logging.Handler):
    """The SQL statements Tortoise runs while installed, as its db_client logger reports them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.statements.append(str(record.args[0]) if record.args else record.getMessage())

    def __enter__(self) -> Queries:
        logger = logging.getLogger("tortoise.db_client")
        self.level_before = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logger = logging.getLogger("tortoise.db_client")
        logger.removeHandler(self)
        logger.setLevel(self.level_before)

    def on(self, table: str) -> int:
        return sum(f'"{table}"' in statement for statement in self.statements)


PAGE_WITH_HEALTH = """{ phoneNumbers(first: 10) { edges { node { id
  health { state } healthEvents(first: 5) { edges { node { to phoneNumber { id } } } } } } } }"""


async def test_health_and_events_of_a_page_of_numbers_take_as_many_queries_for_six_numbers_as_for_two(
    local: Api,
) -> None:
    async def read_page() -> tuple[list[Any], int, int]:
        with Queries() as queries:
            edges = (await local.gql(PAGE_WITH_HEALTH))["phoneNumbers"]["edges"]
        return edges, queries.on("phone_number_health"), queries.on("phone_number_health_events")

    for n in range(2):
        await verify(local, (await create(local, {"jambonz": {}}, number=nth_number(n)))["id"])
    edges, health_queries, event_queries = await read_page()
    assert [e["node"]["health"]["state"] for e in edges] == ["UNSUPPORTED"] * 2
    for n in range(2, 6):
        await verify(local, (await create(local, {"jambonz": {}}, number=nth_number(n)))["id"])
    edges, more_health_queries, more_event_queries = await read_page()
    assert [[x["node"]["to"] for x in e["node"]["healthEvents"]["edges"]] for e in edges] == [["UNSUPPORTED"]] * 6
    assert (health_queries, event_queries) == (more_health_queries, more_event_queries) == (1, 2)


# --- verify: true ----------------------------------------------------------------------------


async def test_verify_true_with_a_wrong_password_saves_nothing(local: Api, kamailio: Start) -> None:
    registrar = kamailio(users=USERS)
    before = await counts()
    input = {
        "number": NUMBER,
        "provider": registration(registrar, password=WRONG_PASSWORD),
        "verify": True,
        "idempotencyKey": "v-1",
    }

    payload = (await local.gql(CREATE_PHONE_NUMBER_WITH_HEALTH, {"input": input}))["createPhoneNumber"]

    assert payload["phoneNumber"] is None
    (error,) = payload["userErrors"]
    assert (error["field"], error["code"]) == (["input", "provider"], "VERIFICATION_FAILED")
    assert error["message"].startswith("The provider check failed (AUTH_FAILED): REGISTER of alice@127.0.0.1")
    assert error["message"].endswith("Nothing was saved.")
    without_secrets(error["message"])
    assert await counts() == before, "no number, no idempotency key, no health, no event"

    # The key was not used up: the same key with the right password creates the number.
    input["provider"] = registration(registrar)
    created = (await local.gql(CREATE_PHONE_NUMBER_WITH_HEALTH, {"input": input}))["createPhoneNumber"]
    assert created["userErrors"] == [] and created["phoneNumber"]["health"]["state"] == "OK"


async def test_verify_true_stores_the_result_with_the_number(local: Api, kamailio: Start) -> None:
    registrar = kamailio(users=USERS)
    number = await create(local, registration(registrar), verify=True)
    assert (number["health"]["state"], number["health"]["sipStatusCode"]) == ("OK", 200)
    read = await health_of(local, number["id"])
    assert read["health"] == number["health"] and events_of(read) == [(None, "OK")]
    audit = await local.gql(
        "{ auditEvents(filter: {action: PHONE_NUMBER_VERIFIED}) { edges { node { targetId changes { field before after } } } } }"
    )
    assert [e["node"] for e in audit["auditEvents"]["edges"]] == [
        {"targetId": number["id"], "changes": [{"field": "health", "before": None, "after": "OK"}]}
    ]


async def test_verify_true_on_an_uncheckable_provider_fails(local: Api) -> None:
    payload = await local.gql(
        CREATE_PHONE_NUMBER_WITH_HEALTH, {"input": {"number": NUMBER, "provider": {"jambonz": {}}, "verify": True}}
    )
    (error,) = payload["createPhoneNumber"]["userErrors"]
    assert error["code"] == "VERIFICATION_FAILED" and "(UNSUPPORTED)" in error["message"]
    assert await stored_rows("phone_numbers") == []


@pytest.mark.parametrize(("password", "state"), [(PASSWORD, "OK"), (WRONG_PASSWORD, None)])
async def test_verify_with_dry_run_checks_and_saves_nothing(
    local: Api, kamailio: Start, password: str, state: str | None
) -> None:
    registrar = kamailio(users=USERS)
    before = await counts()
    input = {"number": NUMBER, "provider": registration(registrar, password=password), "verify": True, "dryRun": True}

    payload = (await local.gql(CREATE_PHONE_NUMBER_WITH_HEALTH, {"input": input}))["createPhoneNumber"]

    if state is None:
        assert [e["code"] for e in payload["userErrors"]] == ["VERIFICATION_FAILED"]
    else:
        assert payload["userErrors"] == [] and payload["phoneNumber"]["health"]["state"] == state
    assert [e for e in registrar.events() if "method" in e], "the check ran"
    assert await counts() == before


async def test_update_with_verify_checks_the_new_configuration(local: Api, kamailio: Start) -> None:
    registrar = kamailio(users=USERS)
    number = await create(local, registration(registrar), verify=True)
    before = await counts()

    wrong = {
        "id": number["id"],
        "name": "renamed",
        "provider": {"sip": {"registration": {"password": WRONG_PASSWORD}}},
        "verify": True,
    }
    payload = (await local.gql(UPDATE_PHONE_NUMBER_WITH_HEALTH, {"input": wrong}))["updatePhoneNumber"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "provider"], "VERIFICATION_FAILED")]
    assert await counts() == before
    read = await health_of(local, number["id"])
    assert read["version"] == 1 and read["health"]["state"] == "OK", "nothing changed"

    # A dry run shows the health the write would leave, and leaves the stored one.
    dry = {**wrong, "provider": {"sip": {"registration": {"port": registrar.port}}}, "dryRun": True}
    payload = (await local.gql(UPDATE_PHONE_NUMBER_WITH_HEALTH, {"input": dry}))["updatePhoneNumber"]
    assert payload["phoneNumber"]["health"]["state"] == "OK" and await counts() == before

    right = {"id": number["id"], "provider": {"sip": {"registration": {"authUser": "alice"}}}, "verify": True}
    payload = (await local.gql(UPDATE_PHONE_NUMBER_WITH_HEALTH, {"input": right}))["updatePhoneNumber"]
    assert payload["userErrors"] == [] and payload["phoneNumber"]["version"] == 2
    assert payload["phoneNumber"]["health"]["state"] == "OK"
    # The configuration changed: health was cleared, then the check of the new one stored, from null.
    assert events_of(await health_of(local, number["id"])) == [(None, "OK"), (None, "OK")]


async def test_a_change_of_configuration_clears_health_and_a_rename_keeps_it(local: Api) -> None:
    number = await create(local, {"voximplant": {"applicationId": "app-1"}})
    await verify(local, number["id"])

    renamed = (await local.gql(UPDATE_PHONE_NUMBER_WITH_HEALTH, {"input": {"id": number["id"], "name": "Sales"}}))[
        "updatePhoneNumber"
    ]
    assert renamed["phoneNumber"]["health"]["state"] == "UNSUPPORTED"

    dry = {"id": number["id"], "provider": {"voximplant": {"applicationId": "app-2"}}, "dryRun": True}
    preview = (await local.gql(UPDATE_PHONE_NUMBER_WITH_HEALTH, {"input": dry}))["updatePhoneNumber"]
    assert preview["phoneNumber"]["health"] is None
    assert (await health_of(local, number["id"]))["health"]["state"] == "UNSUPPORTED", "a dry run clears nothing"

    changed = {"id": number["id"], "provider": {"voximplant": {"applicationId": "app-2"}}}
    payload = (await local.gql(UPDATE_PHONE_NUMBER_WITH_HEALTH, {"input": changed}))["updatePhoneNumber"]
    assert payload["phoneNumber"]["health"] is None
    read = await health_of(local, number["id"])
    assert read["health"] is None and events_of(read) == [(None, "UNSUPPORTED")], "events stay: they are history"

    await verify(local, number["id"])
    assert events_of(await health_of(local, number["id"])) == [(None, "UNSUPPORTED"), (None, "UNSUPPORTED")]


# --- the same mutation, everywhere -------------------------------------------------------------


async def test_verifying_an_unknown_id_is_not_found(local: Api) -> None:
    for id in ("00000000-0000-4000-8000-00000000dead", "not-a-uuid"):
        payload = (await local.gql(VERIFY_PHONE_NUMBER, {"input": {"id": id}}))["verifyPhoneNumber"]
        assert payload["phoneNumber"] is None and payload["health"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "id"], "NOT_FOUND")]


def test_a_verify_costs_more_than_a_write() -> None:
    from graphql import parse

    document = 'mutation { verifyPhoneNumber(input: {id: "x"}) { userErrors { code } } }'
    rename = 'mutation { deletePhoneNumber(input: {id: "x"}) { userErrors { code } } }'
    cost = document_cost(schema._schema, parse(document), 100_000).of(None, None)
    write = document_cost(schema._schema, parse(rename), 100_000).of(None, None)
    assert cost == write + VERIFY_COST and write > MUTATION_COST


SMALL_CREATE = (
    "mutation C($input: CreatePhoneNumberInput!) { createPhoneNumber(input: $input) { userErrors { code } } }"
)


async def test_verify_true_is_charged_as_a_verify(local_settings: Settings) -> None:
    # The smallest burst the settings allow: a few hundred units a request, not two checks.
    max_cost = 200
    tight = dataclasses.replace(
        local_settings, rate_limit=0.001, rate_limit_burst=largest_charge(max_cost), max_query_cost=max_cost
    )
    assert tight.rate_limit_burst < 2 * VERIFY_COST
    async with running_app(tight) as app, api_client(app) as api:
        for n in range(5):
            plain = await api.gql(
                SMALL_CREATE, {"input": {"number": nth_number(n), "provider": {"jambonz": {}}, "dryRun": True}}
            )
            assert plain["createPhoneNumber"]["userErrors"] == []
        checked = {"number": nth_number(9), "provider": {"jambonz": {}}, "verify": True}
        first = await api.gql(SMALL_CREATE, {"input": checked})
        assert [e["code"] for e in first["createPhoneNumber"]["userErrors"]] == ["VERIFICATION_FAILED"]
        second = (await api.post(SMALL_CREATE, {"input": checked})).json()
    assert second["errors"][0]["extensions"]["code"] == "RATE_LIMITED", second
    assert second["data"] == {"createPhoneNumber": None} or second.get("data") is None


async def test_checks_of_one_organization_run_at_most_a_few_at_once(local: Api) -> None:
    async with UdpStandin(lambda request: []) as silent:
        ids = []
        for n in range(VERIFY_CONCURRENCY + 2):
            provider = {
                "sip": {
                    "registration": {
                        "username": f"u{n}",
                        "password": PASSWORD,
                        "proxy": "127.0.0.1",
                        "port": silent.port,
                    }
                }
            }
            ids.append((await create(local, provider, number=nth_number(n)))["id"])

        def calls() -> set[str]:
            return {call_id for request in silent.requests for call_id in request.header("Call-ID")}

        checks = [asyncio.create_task(verify(local, id)) for id in ids]
        for _ in range(150):
            if len(calls()) >= VERIFY_CONCURRENCY:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        assert len(calls()) == VERIFY_CONCURRENCY, "the others wait for a slot"
        results = await asyncio.gather(*checks)
    assert [r["state"] for r in results] == ["UNREACHABLE"] * len(ids)
    assert len(calls()) == len(ids)


async def test_a_result_for_a_configuration_changed_meanwhile_is_not_stored(local: Api) -> None:
    async with UdpStandin(lambda request: []) as silent:
        provider = {
            "sip": {
                "registration": {"username": "alice", "password": PASSWORD, "proxy": "127.0.0.1", "port": silent.port}
            }
        }
        number = await create(local, provider)
        checking = asyncio.create_task(local.gql(VERIFY_PHONE_NUMBER, {"input": {"id": number["id"]}}))
        while not silent.requests:
            await asyncio.sleep(0.01)
        change = {"id": number["id"], "provider": {"sip": {"registration": {"port": closed_port()}}}}
        assert (await local.gql(UPDATE_PHONE_NUMBER_WITH_HEALTH, {"input": change}))["updatePhoneNumber"][
            "userErrors"
        ] == []
        payload = (await checking)["verifyPhoneNumber"]
    assert payload["health"] is None and [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "id"], "CONFLICT")
    ]
    assert (await health_of(local, number["id"]))["health"] is None, "health describes the configuration stored"
    # A rename meanwhile is no reason to drop the result.
    async with UdpStandin(lambda request: []) as silent:
        change = {"id": number["id"], "provider": {"sip": {"registration": {"port": silent.port}}}}
        assert (await local.gql(UPDATE_PHONE_NUMBER_WITH_HEALTH, {"input": change}))["updatePhoneNumber"][
            "userErrors"
        ] == []
        checking = asyncio.create_task(local.gql(VERIFY_PHONE_NUMBER, {"input": {"id": number["id"]}}))
        while not silent.requests:
            await asyncio.sleep(0.01)
        await local.gql(UPDATE_PHONE_NUMBER_WITH_HEALTH, {"input": {"id": number["id"], "name": "renamed"}})
        payload = (await checking)["verifyPhoneNumber"]
    assert payload["userErrors"] == [] and payload["health"]["state"] == "UNREACHABLE"

"""Concurrent changes to one number or agent, on real `switchboard serve` processes.

SQLite runs one worker, PostgreSQL two (tests/support/servers.py), so requests race
within a process and across processes. A trigger the tests add records every
UPDATE the database really applied, so an answer of success can be checked
against a write that happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from tortoise import connections

from resolvers.phone_numbers import CONFIG_COLUMNS, SECRET_COLUMNS, SPECS
from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import (
    CREATE_AGENT,
    CREATE_PHONE_NUMBER,
    DELETE_AGENT,
    DELETE_PHONE_NUMBER,
    PHONE_NUMBER,
    UPDATE_AGENT,
    UPDATE_PHONE_NUMBER,
    sip_ip_allowlist,
    twilio,
)
from tests.support.helpers import client_of, gql, nth_number
from tests.support.rule_cases import body
from tests.support.servers import Servers

# Before the fixes, out of 20 trials on SQLite / PostgreSQL, the races below went
# wrong: switch vs rotations 20 / 15, update vs delete 19-20 / 14-17, rename vs
# agent delete 12-18 / 13-14, create vs agent delete 18 / 17-18, updates vs
# agent delete 8 / 5. Twelve trials catch each with near certainty.
TRIALS = 12

Writes = Callable[[], Awaitable[set[tuple[str, str, str | None]]]]

SQLITE_WRITE_LOG = """
CREATE TABLE test_writes (table_name TEXT, row_id TEXT, name TEXT);
CREATE TRIGGER test_number_writes AFTER UPDATE ON phone_numbers
BEGIN INSERT INTO test_writes VALUES ('phone_numbers', NEW.id, NEW.name); END;
CREATE TRIGGER test_agent_writes AFTER UPDATE ON agents
BEGIN INSERT INTO test_writes VALUES ('agents', NEW.id, NEW.name); END;
"""
POSTGRES_WRITE_LOG = """
CREATE TABLE test_writes (table_name text, row_id text, name text);
CREATE FUNCTION test_record_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO test_writes VALUES (TG_TABLE_NAME, NEW.id::text, NEW.name); RETURN NEW; END $$;
CREATE TRIGGER test_number_writes AFTER UPDATE ON phone_numbers FOR EACH ROW EXECUTE FUNCTION test_record_write();
CREATE TRIGGER test_agent_writes AFTER UPDATE ON agents FOR EACH ROW EXECUTE FUNCTION test_record_write();
"""
DROP_WRITE_LOG = {
    "sqlite": "DROP TRIGGER test_number_writes; DROP TRIGGER test_agent_writes; DROP TABLE test_writes;",
    "postgres": "DROP TRIGGER test_number_writes ON phone_numbers; DROP TRIGGER test_agent_writes ON agents; "
    "DROP FUNCTION test_record_write(); DROP TABLE test_writes;",
}


@pytest.fixture
async def writes(app: Any, settings: Settings) -> AsyncIterator[Writes]:
    """Every UPDATE applied to phone_numbers and agents, as (table, id, name), from now on."""
    db = connections.get("default")
    await db.execute_script(SQLITE_WRITE_LOG if settings.is_sqlite else POSTGRES_WRITE_LOG)

    async def applied() -> set[tuple[str, str, str | None]]:
        rows = await db.execute_query_dict("SELECT table_name, row_id, name FROM test_writes")
        return {(r["table_name"], r["row_id"], r["name"]) for r in rows}

    try:
        yield applied
    finally:
        # The PostgreSQL database is shared by the whole run.
        await db.execute_script(DROP_WRITE_LOG[settings.database])


async def stored(table: str, id: str) -> dict[str, Any] | None:
    rows = [r for r in await stored_rows(table) if str(r["id"]) == id]
    return rows[0] if rows else None


def assert_one_whole_configuration(row: dict[str, Any]) -> None:
    """The row holds its own provider's columns, and not one column of any other configuration."""
    (spec,) = [
        s
        for s in SPECS.values()
        if (s.provider.value, s.sip_mode and s.sip_mode.value) == (row["provider"], row["sip_mode"])
    ]
    stored_columns = {SECRET_COLUMNS.get(column, column) for column in CONFIG_COLUMNS}
    foreign = sorted(stored_columns - {SECRET_COLUMNS.get(f.column, f.column) for f in spec.fields})
    assert {column: row[column] for column in foreign} == dict.fromkeys(foreign), row


def errors_of(payload: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


# --- two changes to one number ------------------------------------------------------


async def test_a_provider_switch_racing_secret_rotations_leaves_one_whole_outcome(
    api: Api, settings: Settings, servers: Servers
) -> None:
    server = servers.start(settings)
    async with client_of(server, api.key) as client:
        for trial in range(TRIALS):
            created = await gql(
                client, CREATE_PHONE_NUMBER, {"input": {"number": nth_number(trial), "provider": twilio()}}
            )
            id = created["createPhoneNumber"]["phoneNumber"]["id"]
            twilio_config = created["createPhoneNumber"]["phoneNumber"]["config"]
            switch = {"id": id, "provider": sip_ip_allowlist()}
            rotations = [
                {"id": id, "provider": {"twilio": {"authToken": f"rotated-token-{trial}-{n}"}}} for n in range(3)
            ]

            answers = [
                a["updatePhoneNumber"]
                for a in await asyncio.gather(
                    *(gql(client, UPDATE_PHONE_NUMBER, {"input": i}) for i in [switch, *rotations])
                )
            ]

            row = await stored("phone_numbers", id)
            assert row is not None
            assert_one_whole_configuration(row)
            # Whatever order they ran in, the switch came last or a rotation found no Twilio number left.
            assert (row["provider"], row["sip_mode"], row["sip_ip"]) == ("sip", "ip_allowlist", "203.0.113.10")
            final = (await gql(client, PHONE_NUMBER, {"id": id}))["phoneNumber"]
            assert answers[0] == {"phoneNumber": final, "userErrors": []}
            # Each success is one committed version, the switch the last of them.
            successes = [a["phoneNumber"] for a in answers if a["phoneNumber"]]
            assert sorted(s["version"] for s in successes) == list(range(2, 2 + len(successes)))
            assert final["version"] == row["version"] == 1 + len(successes)
            for rotation in answers[1:]:
                if rotation["phoneNumber"] is None:
                    assert errors_of(rotation) == [(["input", "provider", "twilio", "accountSid"], "BLANK")]
                else:
                    assert rotation["phoneNumber"]["config"] == twilio_config
                    assert rotation["phoneNumber"]["version"] < final["version"]


async def test_an_update_racing_a_delete_is_not_found_or_was_applied(
    api: Api, settings: Settings, servers: Servers, writes: Writes
) -> None:
    server = servers.start(settings)
    async with client_of(server, api.key) as client:
        outcomes = []
        for trial in range(TRIALS):
            created = await gql(
                client, CREATE_PHONE_NUMBER, {"input": {"number": nth_number(trial), "provider": twilio()}}
            )
            id = created["createPhoneNumber"]["phoneNumber"]["id"]
            name = f"renamed-{trial}"

            update, delete = await asyncio.gather(
                gql(client, UPDATE_PHONE_NUMBER, {"input": {"id": id, "name": name}}),
                gql(client, DELETE_PHONE_NUMBER, {"input": {"id": id}}),
            )

            assert delete["deletePhoneNumber"] == {"deletedId": id, "userErrors": []}
            assert await stored("phone_numbers", id) is None
            payload = update["updatePhoneNumber"]
            if payload["phoneNumber"] is None:
                assert errors_of(payload) == [(["input", "id"], "NOT_FOUND")]
                outcomes.append("not found")
            else:
                # A success is a write that happened, before the delete.
                assert payload["phoneNumber"]["name"] == name
                assert ("phone_numbers", id, name) in await writes()
                outcomes.append("updated")


async def test_an_agent_rename_racing_its_delete_is_not_found_or_was_applied(
    api: Api, settings: Settings, servers: Servers, writes: Writes
) -> None:
    server = servers.start(settings)
    async with client_of(server, api.key) as client:
        for trial in range(TRIALS):
            agent = (await gql(client, CREATE_AGENT, {"input": {"name": "Receptionist"}}))["createAgent"]["agent"]
            name = f"renamed-{trial}"

            update, delete = await asyncio.gather(
                gql(client, UPDATE_AGENT, {"input": {"id": agent["id"], "name": name}}),
                gql(client, DELETE_AGENT, {"input": {"id": agent["id"]}}),
            )

            assert delete["deleteAgent"] == {"deletedId": agent["id"], "userErrors": []}
            assert await stored("agents", agent["id"]) is None
            payload = update["updateAgent"]
            if payload["agent"] is None:
                assert errors_of(payload) == [(["input", "id"], "NOT_FOUND")]
            else:
                assert payload["agent"]["name"] == name
                assert ("agents", agent["id"], name) in await writes()


# --- tying a number to an agent that is being deleted -------------------------------------


@pytest.mark.parametrize("idempotency_key", [False, True], ids=["plain", "idempotency-key"])
async def test_a_create_racing_its_agents_delete_is_not_found_on_agent_id(
    api: Api, settings: Settings, servers: Servers, idempotency_key: bool
) -> None:
    server = servers.start(settings)
    async with client_of(server, api.key) as client:
        for trial in range(TRIALS):
            agent = (await gql(client, CREATE_AGENT, {"input": {"name": "Receptionist"}}))["createAgent"]["agent"]
            input = {"number": nth_number(trial), "provider": twilio(), "agentId": agent["id"]}
            if idempotency_key:
                input["idempotencyKey"] = f"create-{trial}"

            create, delete = await asyncio.gather(
                gql(client, CREATE_PHONE_NUMBER, {"input": input}),
                gql(client, DELETE_AGENT, {"input": {"id": agent["id"]}}),
            )

            assert delete["deleteAgent"] == {"deletedId": agent["id"], "userErrors": []}
            payload = create["createPhoneNumber"]
            numbers = [r for r in await stored_rows("phone_numbers") if r["number"] == nth_number(trial)]
            if payload["phoneNumber"] is None:
                assert payload["userErrors"] == [
                    {
                        "field": ["input", "agentId"],
                        "code": "NOT_FOUND",
                        "message": f"Agent {agent['id']} does not exist",
                    }
                ]
                assert numbers == []
            else:
                # Created first, then untied by the delete, at its next version.
                (row,) = numbers
                assert str(row["id"]) == payload["phoneNumber"]["id"]
                assert (row["agent_id"], row["version"]) == (None, 2)


async def test_updates_racing_their_agents_delete_are_not_found_on_agent_id(
    api: Api, settings: Settings, servers: Servers
) -> None:
    server = servers.start(settings)
    async with client_of(server, api.key) as client:
        for trial in range(TRIALS):
            ids = []
            for n in range(3):
                input = {"number": nth_number(3 * trial + n), "provider": twilio()}
                ids.append(
                    (await gql(client, CREATE_PHONE_NUMBER, {"input": input}))["createPhoneNumber"]["phoneNumber"]["id"]
                )
            agent = (await gql(client, CREATE_AGENT, {"input": {"name": "Receptionist"}}))["createAgent"]["agent"]

            *updates, delete = await asyncio.gather(
                *(gql(client, UPDATE_PHONE_NUMBER, {"input": {"id": id, "agentId": agent["id"]}}) for id in ids),
                gql(client, DELETE_AGENT, {"input": {"id": agent["id"]}}),
            )

            assert delete["deleteAgent"] == {"deletedId": agent["id"], "userErrors": []}
            for id, update in zip(ids, updates, strict=True):
                payload = update["updatePhoneNumber"]
                row = await stored("phone_numbers", id)
                assert row is not None and row["agent_id"] is None
                if payload["phoneNumber"] is None:
                    assert payload["userErrors"] == [
                        {
                            "field": ["input", "agentId"],
                            "code": "NOT_FOUND",
                            "message": f"Agent {agent['id']} does not exist",
                        }
                    ]
                    assert row["version"] == 1
                else:
                    # Tied first, then untied by the delete, at the version after the answer's.
                    assert (payload["phoneNumber"]["agentId"], payload["phoneNumber"]["version"]) == (agent["id"], 2)
                    assert row["version"] == 3


# --- clients that name the version they read ---------------------------------------------------


async def test_of_concurrent_changes_at_one_expected_version_exactly_one_applies(
    api: Api, settings: Settings, servers: Servers
) -> None:
    server = servers.start(settings)
    async with client_of(server, api.key) as client:
        for trial in range(TRIALS):
            created = await gql(
                client, CREATE_PHONE_NUMBER, {"input": {"number": nth_number(trial), "provider": twilio()}}
            )
            id = created["createPhoneNumber"]["phoneNumber"]["id"]
            graphql_edits = [
                gql(client, UPDATE_PHONE_NUMBER, {"input": {"id": id, "name": f"graphql-{n}", "expectedVersion": 1}})
                for n in range(3)
            ]
            rest_edits = [
                client.patch(f"/v1/phone-numbers/{id}", json={"name": f"rest-{n}"}, headers={"If-Match": '"1"'})
                for n in range(3)
            ]

            answers = await asyncio.gather(*graphql_edits, *rest_edits)

            graphql_answers = [a["updatePhoneNumber"] for a in answers[:3]]
            rest_answers = answers[3:]
            applied = [a["phoneNumber"]["name"] for a in graphql_answers if a["phoneNumber"]]
            applied += [r.json()["data"]["name"] for r in rest_answers if r.status_code == 200]
            assert len(applied) == 1, applied
            assert all(a["userErrors"][0]["code"] == "CONFLICT" for a in graphql_answers if not a["phoneNumber"])
            assert all(r.status_code == 412 for r in rest_answers if r.status_code != 200)
            final = (await gql(client, PHONE_NUMBER, {"id": id}))["phoneNumber"]
            assert (final["name"], final["version"]) == (applied[0], 2)


async def test_a_provider_switch_racing_secret_rotations_over_rest(
    api: Api, settings: Settings, servers: Servers
) -> None:
    server = servers.start(settings)
    async with client_of(server, api.key) as client:
        for trial in range(TRIALS):
            created = await client.post("/v1/phone-numbers", json=body(number=nth_number(trial)))
            id = created.json()["data"]["id"]
            switch = client.patch(
                f"/v1/phone-numbers/{id}", json={"provider": "sip", "sipMode": "ip_allowlist", "sipIp": "203.0.113.10"}
            )
            rotations = [
                client.patch(f"/v1/phone-numbers/{id}", json={"twilioAuthToken": f"rotated-token-{trial}-{n}"})
                for n in range(3)
            ]

            switched, *rotated = await asyncio.gather(switch, *rotations)

            row = await stored("phone_numbers", id)
            assert row is not None
            assert_one_whole_configuration(row)
            assert (row["provider"], row["sip_mode"]) == ("sip", "ip_allowlist")
            final = await client.get(f"/v1/phone-numbers/{id}")
            assert (switched.status_code, switched.json(), switched.headers["etag"]) == (
                200,
                final.json(),
                final.headers["etag"],
            )
            successes = [switched, *(r for r in rotated if r.status_code == 200)]
            assert sorted(r.headers["etag"] for r in successes) == sorted(
                f'"{v}"' for v in range(2, 2 + len(successes))
            )
            assert final.headers["etag"] == f'"{row["version"]}"' == f'"{1 + len(successes)}"'
            # A rotation that lost to the switch is refused: Twilio fields do not apply to a SIP number.
            assert all(r.status_code == 400 for r in rotated if r.status_code != 200)

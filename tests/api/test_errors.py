"""Unexpected failures: logged with the request id, answered without internals."""

from __future__ import annotations

import logging

import pytest
from tortoise import connections

from tests.support.app import Api
from tests.support.graphql_ops import CREATE_PHONE_NUMBER, PHONE_NUMBER, twilio


async def test_unreadable_row_is_an_internal_error_with_a_request_id(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    created = await api.gql(CREATE_PHONE_NUMBER, {"input": {"number": "+14155550123", "provider": twilio()}})
    phone_id = created["createPhoneNumber"]["phoneNumber"]["id"]
    # A value no version of Switchboard writes: reading it back must fail.
    await connections.get("default").execute_query("UPDATE phone_numbers SET provider = 'fax'")

    with caplog.at_level(logging.ERROR, logger="switchboard"):
        response = await api.client.post(
            "/graphql",
            json={"query": PHONE_NUMBER, "variables": {"id": phone_id}},
            headers={"Authorization": f"Bearer {api.key}", "X-Request-ID": "req-42"},
        )

    body = response.json()
    assert body["data"] == {"phoneNumber": None}
    assert body["errors"] == [
        {
            "message": "Internal server error (request id req-42)",
            "locations": [{"line": 2, "column": 31}],
            "path": ["phoneNumber"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"},
        }
    ]
    assert "Traceback" not in response.text and "fax" not in response.text
    (record,) = [r for r in caplog.records if r.name == "switchboard"]
    assert "req-42" in record.getMessage() and record.exc_info is not None

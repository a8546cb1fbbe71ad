"""SQLite under concurrent writers: they wait their turn instead of failing."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.database import stored_rows
from tests.support.graphql_ops import CREATE_PHONE_NUMBER, twilio

LOCK_HELD_SECONDS = 0.5


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_a_write_waits_for_another_writers_lock_instead_of_failing(api: Api, settings: Settings) -> None:
    # Another process (`switchboard rotate-encryption-key`, say) holds the write lock.
    other = sqlite3.connect(settings.database_url.removeprefix("sqlite://"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(LOCK_HELD_SECONDS, other.commit)
    try:
        response = await api.post(CREATE_PHONE_NUMBER, {"input": {"number": "+14155550123", "provider": twilio()}})
    finally:
        other.close()

    # Without a busy timeout this is "database is locked", an internal error.
    assert response.status_code == 200
    assert response.json()["data"]["createPhoneNumber"]["userErrors"] == []
    assert len(await stored_rows("phone_numbers")) == 1

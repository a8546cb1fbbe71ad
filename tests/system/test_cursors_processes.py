"""Cursors of phoneNumbers, agents, Agent.phoneNumbers and apiKeys: signed, opaque, bounded; any other `after` is
a BAD_USER_INPUT error naming it, never a 500.

An attacker holds a valid key and sends whatever `after` it likes: the
payloads below are what it can build knowing how cursors used to look
(base64 of a JSON array of list, organization id, time and row id).

These are the tests that need real processes; the in-process ones are in tests/api/test_cursors.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from models.secrets import generate_key
from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.cursors import Lists, read
from tests.support.database import ENCRYPTION_KEY
from tests.support.servers import Servers

NOT_A_CURSOR = "after is not a cursor returned by this API"


async def test_cursors_hold_across_servers_and_key_rotation(
    api: Api, lists: Lists, settings: Settings, servers: Servers
) -> None:
    """Every server with the same keys reads the others' cursors; after a new key is put first, cursors made
    under the old one still read on; once the old key is gone they are refused as any unknown cursor."""
    new_key = generate_key()
    old_only = servers.start(settings)
    rotating = servers.start(dataclasses.replace(settings, encryption_keys=(new_key, ENCRYPTION_KEY)))
    new_only = servers.start(dataclasses.replace(settings, encryption_keys=(new_key,)))
    headers = {"Authorization": f"Bearer {api.key}"}

    async def next_ids(server_url: str, after: str) -> Any:
        async with httpx.AsyncClient(base_url=server_url, headers=headers) as client:
            body = (await read(api, lists, "phoneNumbers", after, client=client)).json()
        if "errors" in body:
            return body["errors"][0]["message"], body["errors"][0]["extensions"]
        return [e["node"]["id"] for e in body["data"]["phoneNumbers"]["edges"]]

    async with httpx.AsyncClient(base_url=old_only.url, headers=headers) as client:
        old_cursor = (await read(api, lists, "phoneNumbers", None, client=client)).json()["data"]["phoneNumbers"][
            "pageInfo"
        ]["endCursor"]
    async with httpx.AsyncClient(base_url=rotating.url, headers=headers) as client:
        new_cursor = (await read(api, lists, "phoneNumbers", None, client=client)).json()["data"]["phoneNumbers"][
            "pageInfo"
        ]["endCursor"]

    assert await next_ids(old_only.url, old_cursor) == [lists.numbers[1]]
    assert await next_ids(rotating.url, old_cursor) == [lists.numbers[1]]
    assert await next_ids(new_only.url, new_cursor) == [lists.numbers[1]]
    assert await next_ids(new_only.url, old_cursor) == (NOT_A_CURSOR, {"code": "BAD_USER_INPUT", "argument": "after"})
    assert await next_ids(old_only.url, new_cursor) == (NOT_A_CURSOR, {"code": "BAD_USER_INPUT", "argument": "after"})

"""REST requests to the app in-process, with the Api's key; the reference API answers validation failures with 400."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.app import Api


async def call(
    api: Api, method: str, path: str, *, json: Any = None, key: str | None = None, **kwargs: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key or api.key}", **kwargs.pop("headers", {})}
    response = await api.client.request(method, path, json=json, headers=headers, **kwargs)
    assert response.status_code != 422, "the reference answers validation failures with 400"
    return response


async def post(api: Api, json: Any, **kwargs: Any) -> httpx.Response:
    return await call(api, "POST", "/v1/phone-numbers", json=json, **kwargs)

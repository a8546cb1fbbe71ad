"""The rate limit per API key: one token per root field over GraphQL, one per REST request, 429 with Retry-After."""

from __future__ import annotations

import dataclasses

import pytest

from resolvers.api_keys import issue_key
from switchboard.rate_limit import RateLimiter
from switchboard.settings import Settings
from tests.conftest import Api, api_client, running_app, stored_rows

# Refilled so slowly that no token comes back while a test runs.
SLOW = 0.001


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_refills_at_its_rate_up_to_its_size() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=4, clock=clock)
    assert [limiter.take("key", 1) for _ in range(4)] == [None] * 4
    assert limiter.take("key", 1) == 1  # half a second for one token, rounded up
    assert limiter.take("key", 3) == 2  # a second and a half for three
    clock.now += 1
    assert limiter.take("key", 2) is None
    clock.now += 60
    assert limiter.take("key", 4) is None  # refilled to 4, no more
    assert limiter.take("key", 1) == 1


def test_keys_have_their_own_buckets_and_a_cost_is_at_most_a_bucket() -> None:
    limiter = RateLimiter(rate=1, burst=3, clock=Clock())
    assert limiter.take("a", 100) is None  # costs the whole bucket, and no more
    assert limiter.take("a", 1) == 1
    assert limiter.take("b", 3) is None


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return dataclasses.replace(settings, rate_limit=SLOW, rate_limit_burst=10)


def aliased(count: int) -> str:
    return "{ " + " ".join(f"a{i}: agents(first: 1) {{ totalCount }}" for i in range(count)) + " }"


async def post(api: Api, query: str, *, key: str | None = None) -> tuple[int, dict, str | None]:
    response = await api.client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key or api.key}", "Accept": "application/json"}
    )
    return response.status_code, response.json(), response.headers.get("retry-after")


def assert_rate_limited(status: int, body: dict, retry_after: str | None) -> None:
    assert status == 429 and "data" not in body
    (error,) = body["errors"]
    seconds = error["extensions"]["retryAfter"]
    assert error == {
        "message": f"Rate limit exceeded: retry after {seconds} seconds",
        "extensions": {"code": "RATE_LIMITED", "retryAfter": seconds},
    }
    assert retry_after == str(seconds) and 1 <= seconds <= 1 / SLOW


async def test_each_root_field_costs_a_token_aliases_and_fragments_included(limited: Settings) -> None:
    async with running_app(limited) as app, api_client(app) as api:
        assert (await post(api, aliased(4)))[0] == 200  # 4 tokens: 6 left
        fragment = "{ ...F } fragment F on Query { b: agents(first: 1) { totalCount } c: agents(first: 1) { totalCount } }"
        assert (await post(api, fragment))[0] == 200  # 2: 4 left
        assert (await post(api, "{ a: __typename b: __typename c: __typename }"))[0] == 200  # 3: 1 left
        assert_rate_limited(*await post(api, aliased(2)))
        assert (await post(api, "{ __typename }"))[0] == 200  # the last token
        assert_rate_limited(*await post(api, "{ __typename }"))


async def test_a_refused_operation_runs_nothing_and_other_keys_go_on(limited: Settings) -> None:
    async with running_app(limited) as app, api_client(app) as api:
        assert (await post(api, aliased(10)))[0] == 200
        mutation = 'mutation { createAgent(input: {name: "Late"}) { agent { id } } }'
        assert_rate_limited(*await post(api, mutation))
        assert await stored_rows("agents") == []
        other = (await issue_key("Globex")).key
        assert (await post(api, mutation, key=other))[0] == 200


async def test_documents_that_do_not_run_cost_nothing(limited: Settings) -> None:
    async with running_app(limited) as app, api_client(app) as api:
        for _ in range(20):
            assert (await post(api, "{ nope }"))[0] == 200  # a validation error, answered
        assert (await post(api, aliased(10)))[0] == 200


async def test_rest_requests_share_the_keys_bucket(limited: Settings) -> None:
    async with running_app(limited) as app, api_client(app) as api:
        assert (await post(api, aliased(9)))[0] == 200
        headers = {"Authorization": f"Bearer {api.key}"}
        assert (await api.client.get("/v1/phone-numbers", headers=headers)).status_code == 200
        refused = await api.client.get("/v1/phone-numbers", headers=headers)
        assert refused.status_code == 429
        seconds = int(refused.headers["retry-after"])
        assert refused.json() == {"error": f"Rate limit exceeded: retry after {seconds} seconds", "details": []}
        assert_rate_limited(*await post(api, "{ __typename }"))


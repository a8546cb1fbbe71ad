"""The rate limit per API key, in cost units: a GraphQL document is charged its cost, a REST request its rows;
429 with Retry-After."""

from __future__ import annotations

import dataclasses
import math

import pytest

from resolvers.api_keys import issue_key
from switchboard.rate_limit import RateLimiter, seconds_until_room
from switchboard.rest import ROW_COST
from switchboard.settings import Settings
from tests.conftest import SWEEP, Api, api_client, running_app, stored_rows

# Refilled so slowly that no unit comes back while a test runs.
SLOW = 0.001
# 1 + 50 x (4 to read a row + edges + node + id).
PAGE_OF_50 = "{ phoneNumbers(first: 50) { edges { node { id } } } }"
PAGE_OF_50_COST = 351


class Clock:
    """time.time for limits' sliding windows, at the start of a window of `window` seconds."""

    def __init__(self, window: int) -> None:
        self.now = 1_000_000.0 * window

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(window=2)
    monkeypatch.setattr("time.time", clock)
    return clock


async def test_the_budget_comes_back_at_its_rate_up_to_its_size(clock: Clock) -> None:
    limiter = RateLimiter("test", rate=2, burst=4)  # a window of 2 seconds
    assert [await limiter.take("key", 1) for _ in range(4)] == [None] * 4
    assert await limiter.take("key", 1) == 2  # this window's 4 weigh in fully until it ends
    clock.now += 2  # a new window: the last one's 4 still weigh 4 x (2 - 0) / 2
    assert await limiter.take("key", 1) == 1
    clock.now += 1  # half of them count now: 2 units came back, at 2 a second
    assert await limiter.take("key", 2) is None
    assert await limiter.take("key", 1) == 1
    clock.now += 60
    assert await limiter.take("key", 4) is None  # back to 4, no more
    assert await limiter.take("key", 1) is not None


async def test_keys_have_their_own_budgets_and_a_cost_is_at_most_a_budget(clock: Clock) -> None:
    limiter = RateLimiter("test", rate=1, burst=3)
    assert await limiter.take("a", 100) is None  # costs the whole budget, and no more
    assert await limiter.take("a", 1) is not None
    assert await limiter.take("b", 3) is None


async def test_checking_takes_nothing(clock: Clock) -> None:
    limiter = RateLimiter("test", rate=1, burst=2)  # a window of 2 seconds
    assert [await limiter.allows("key") for _ in range(5)] == [None] * 5
    assert await limiter.take("key", 2) is None
    assert await limiter.allows("key") == 2


@pytest.mark.parametrize(
    ("arguments", "seconds"),
    [
        pytest.param((1, 10, 10, 0, 0.0, 10, 4.0), 4.0 + 10 - 10, id="full-window-waits-for-its-end-then-one-unit"),
        pytest.param((5, 10, 10, 0, 0.0, 10, 4.0), 4.0 + 10 - 6 * 10 / 10, id="five-units-wait-for-half-the-next-window"),
        pytest.param((1, 10, 10, 10, 6.0, 5, 6.0), 6.0 - (10 - 5) * 10 / 10, id="the-previous-window-fades"),
        pytest.param((1, 10, 10, 0, 0.0, 9, 4.0), 0.0, id="room-now"),
    ],
)
def test_retry_after_is_when_limits_would_take_the_cost(arguments: tuple, seconds: float) -> None:
    assert seconds_until_room(*arguments) == pytest.approx(seconds)


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return dataclasses.replace(settings, rate_limit=SLOW, rate_limit_burst=2 * PAGE_OF_50_COST, max_query_cost=2 * PAGE_OF_50_COST)


async def post(api: Api, query: str, *, key: str | None = None) -> tuple[int, dict, str | None]:
    response = await api.client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key or api.key}", "Accept": "application/json"}
    )
    return response.status_code, response.json(), response.headers.get("retry-after")


def assert_rate_limited(status: int, body: dict, retry_after: str | None, *, window: int) -> None:
    assert status == 429 and "data" not in body
    (error,) = body["errors"]
    seconds = error["extensions"]["retryAfter"]
    assert error == {
        "message": f"Rate limit exceeded: retry after {seconds} seconds",
        "extensions": {"code": "RATE_LIMITED", "retryAfter": seconds},
    }
    assert retry_after == str(seconds) and 1 <= seconds <= 2 * window


def window_of(settings: Settings) -> int:
    return math.ceil(settings.rate_limit_burst / settings.rate_limit)


async def test_a_document_is_charged_its_cost_aliases_and_fragments_included(limited: Settings) -> None:
    async with running_app(limited) as app, api_client(app) as api:
        assert (await post(api, PAGE_OF_50))[0] == 200
        assert (await post(api, PAGE_OF_50))[0] == 200  # the whole budget
        assert_rate_limited(*await post(api, "{ __typename }"), window=window_of(limited))
    async with running_app(limited) as app, api_client(app) as api:
        fragment = (
            "{ ...F } fragment F on Query { "
            "a: phoneNumbers(first: 50) { edges { node { id } } } b: phoneNumbers(first: 50) { edges { node { id } } } }"
        )
        assert (await post(api, fragment))[0] == 200  # 2 x 351: the whole budget
        assert_rate_limited(*await post(api, "{ __typename }"), window=window_of(limited))


async def test_a_refused_operation_runs_nothing_and_other_keys_go_on(limited: Settings) -> None:
    async with running_app(limited) as app, api_client(app) as api:
        assert (await post(api, PAGE_OF_50))[0] == 200
        mutation = 'mutation { createAgent(input: {name: "Late"}) { agent { id } } }'
        assert (await post(api, mutation))[0] == 200  # 10 for the write, 1 a field: 13; 364 spent
        pages = "phoneNumbers(first: 2) { edges { node { id } } }"
        mutations = " ".join(f'm{i}: createAgent(input: {{name: "Late {i}"}}) {{ agent {{ {pages} }} }}' for i in range(15))
        assert_rate_limited(*await post(api, f"mutation {{ {mutations} }}"), window=window_of(limited))  # 15 x 27
        assert [row["name"] for row in await stored_rows("agents")] == ["Late"]
        other = (await issue_key("Globex")).key
        SWEEP.add_secret(other)
        assert (await post(api, mutation, key=other))[0] == 200


async def test_documents_that_do_not_run_are_charged_their_size(limited: Settings) -> None:
    """A document that never runs still costs its parsing and validation: a unit per 10 characters, at least 1."""
    budget = limited.rate_limit_burst
    async with running_app(limited) as app, api_client(app) as api:
        invalid = "{ nope" + " " * 94 + "}"  # 101 characters: 11 units
        for _ in range((budget - 2) // 11):
            assert (await post(api, invalid))[0] == 200  # a validation error, answered
        assert (await post(api, "{ __typename }"))[0] == 200  # 2 units
        left = budget - (budget - 2) // 11 * 11 - 2
        status, body, _ = await post(api, "{ __typename }".ljust(10 * (left + 1)))  # one unit more than is left
        assert status == 429 and body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_rest_requests_share_the_keys_budget_and_cost_their_rows(limited: Settings) -> None:
    assert ROW_COST == 13  # reading it, the object and its 8 fields, as GraphQL would count them
    async with running_app(limited) as app, api_client(app) as api:
        assert (await post(api, PAGE_OF_50))[0] == 200  # 351 left
        headers = {"Authorization": f"Bearer {api.key}"}
        rows = (PAGE_OF_50_COST - 2) // ROW_COST
        assert (await api.client.get(f"/v1/phone-numbers?limit={rows}", headers=headers)).status_code == 200
        left = PAGE_OF_50_COST - (1 + rows * ROW_COST)
        refused = await api.client.get("/v1/phone-numbers?limit=1", headers=headers)  # 1 + ROW_COST: more than is left
        assert refused.status_code == 429
        seconds = int(refused.headers["retry-after"])
        assert refused.json() == {"error": f"Rate limit exceeded: retry after {seconds} seconds", "details": []}
        assert 1 <= seconds <= 2 * window_of(limited)
        left -= 1  # the one unit every request costs, refused or not
        assert (await post(api, "{ __typename }".ljust(10 * left)))[0] == 200  # the rest, by its size
        assert_rate_limited(*await post(api, "{ __typename }"), window=window_of(limited))

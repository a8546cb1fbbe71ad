"""The rate limit per API key, in cost units: a GraphQL document is charged its cost, a REST request its rows;
429 with Retry-After."""

from __future__ import annotations

import dataclasses
import math
import uuid

import pytest

from resolvers.api_keys import issue_key
from schema.cost import REQUEST_COST
from schema.limits import largest_charge
from switchboard.http.rate_limit import RateLimiter, seconds_until_room
from switchboard.rest.endpoint import ROW_COST
from switchboard.settings import Settings
from tests.support.app import Api, api_client, running_app
from tests.support.database import stored_rows
from tests.support.secret_sweep import SWEEP

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
        pytest.param(
            (5, 10, 10, 0, 0.0, 10, 4.0), 4.0 + 10 - 6 * 10 / 10, id="five-units-wait-for-half-the-next-window"
        ),
        pytest.param((1, 10, 10, 10, 6.0, 5, 6.0), 6.0 - (10 - 5) * 10 / 10, id="the-previous-window-fades"),
        pytest.param((1, 10, 10, 0, 0.0, 9, 4.0), 0.0, id="room-now"),
    ],
)
def test_retry_after_is_when_limits_would_take_the_cost(arguments: tuple, seconds: float) -> None:
    assert seconds_until_room(*arguments) == pytest.approx(seconds)


# A budget that holds what one request may cost with a cost limit of 1,000 and no more.
BUDGET = largest_charge(1_000)


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return dataclasses.replace(settings, rate_limit=SLOW, rate_limit_burst=BUDGET, max_query_cost=1_000)


async def post(api: Api, query: str, *, key: str | None = None) -> tuple[int, dict, str | None]:
    response = await api.client.post(
        "/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {key or api.key}", "Accept": "application/json"},
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


def unique(query: str) -> str:
    """The query as a document no test sent before: the plans of documents outlive an app in the process."""
    return f"# {uuid.uuid4().hex}\n{query}"


def size(query: str) -> int:
    """What a document the server has not seen yet costs to parse and validate (it has few selections)."""
    return math.ceil(len(query) / 10)


async def accepted_until_refused(api: Api, queries: list[str]) -> int:
    """How many of `queries` run before the first refused one, which must be refused for its rate limit."""
    for count, query in enumerate(queries):
        status, body, retry_after = await post(api, query)
        if status == 429:
            assert_rate_limited(status, body, retry_after, window=math.ceil(BUDGET / SLOW))
            return count
        assert status == 200, body
    raise AssertionError("never refused")


async def test_a_document_is_charged_its_cost_aliases_and_fragments_included(limited: Settings) -> None:
    async with running_app(limited) as app, api_client(app) as api:
        page = unique(PAGE_OF_50)
        first = REQUEST_COST + size(page) + PAGE_OF_50_COST  # the first time, parsing it too
        runs = 1 + (BUDGET - first) // (REQUEST_COST + PAGE_OF_50_COST)
        assert await accepted_until_refused(api, [page] * 20) == runs == 6
    async with running_app(limited) as app, api_client(app) as api:
        fragment = unique(
            "{ ...F } fragment F on Query { "
            "a: phoneNumbers(first: 50) { edges { node { id } } } b: phoneNumbers(first: 50) { edges { node { id } } } }"
        )
        first = REQUEST_COST + size(fragment) + 2 * PAGE_OF_50_COST
        runs = 1 + (BUDGET - first) // (REQUEST_COST + 2 * PAGE_OF_50_COST)
        assert await accepted_until_refused(api, [fragment] * 20) == runs == 3


async def test_a_refused_operation_runs_nothing_and_other_keys_go_on(limited: Settings) -> None:
    async with running_app(limited) as app, api_client(app) as api:
        mutation = unique('mutation { createAgent(input: {name: "Late"}) { agent { id } } }')
        assert (await post(api, mutation))[0] == 200  # 10 for the write, 1 a field: 13
        spent = REQUEST_COST + size(mutation) + 13
        pages = "phoneNumbers(first: 2) { edges { node { id } } }"
        mutations = " ".join(
            f'm{i}: createAgent(input: {{name: "Late {i}"}}) {{ agent {{ {pages} }} }}' for i in range(15)
        )
        large = unique(f"mutation {{ {mutations} }}")  # 15 x (13 + 2 x 7)
        page, sent = unique(PAGE_OF_50), set()
        while spent + REQUEST_COST + size(large) + 15 * 27 <= BUDGET:
            assert (await post(api, page))[0] == 200
            spent += REQUEST_COST + PAGE_OF_50_COST + (size(page) if page not in sent else 0)
            sent.add(page)
        assert_rate_limited(*await post(api, large), window=window_of(limited))
        assert [row["name"] for row in await stored_rows("agents")] == ["Late"]
        other = (await issue_key("Globex")).key
        SWEEP.add_secret(other)
        assert (await post(api, mutation, key=other))[0] == 200


async def test_documents_that_do_not_run_are_charged_too(limited: Settings) -> None:
    """Every request costs REQUEST_COST; a document the server has not seen, its size too: parsing and validating it."""
    async with running_app(limited) as app, api_client(app) as api:
        fresh = [unique("{ nope }").ljust(101) for _ in range(100)]  # 11 units each
        assert await accepted_until_refused(api, fresh) == BUDGET // (REQUEST_COST + 11)
    async with running_app(limited) as app, api_client(app) as api:
        seen = [unique("{ nope }").ljust(101)] * 100  # 11 units the first time
        assert await accepted_until_refused(api, seen) == 1 + (BUDGET - REQUEST_COST - 11) // REQUEST_COST


async def test_rest_requests_share_the_keys_budget_and_cost_their_rows(limited: Settings) -> None:
    assert ROW_COST == 14  # reading it, the object and its 9 fields (health included), as GraphQL would count them
    page = REQUEST_COST + 1 + 100 * ROW_COST
    async with running_app(limited) as app, api_client(app) as api:
        headers = {"Authorization": f"Bearer {api.key}"}
        assert (await api.client.get("/v1/phone-numbers?limit=100", headers=headers)).status_code == 200
        assert BUDGET - page < page  # a second page does not fit
        refused = await api.client.get("/v1/phone-numbers?limit=100", headers=headers)
        assert refused.status_code == 429
        seconds = int(refused.headers["retry-after"])
        assert refused.json() == {"error": f"Rate limit exceeded: retry after {seconds} seconds", "details": []}
        assert 1 <= seconds <= 2 * window_of(limited)
        # A refused request still cost REQUEST_COST; what is left goes to GraphQL as well.
        left = BUDGET - page - REQUEST_COST
        page = unique(PAGE_OF_50)
        runs = 1 + (left - REQUEST_COST - size(page) - PAGE_OF_50_COST) // (REQUEST_COST + PAGE_OF_50_COST)
        assert await accepted_until_refused(api, [page] * 20) == runs == 2

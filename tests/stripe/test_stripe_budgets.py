"""The client paces each endpoint and the account as Stripe limits them: per-endpoint
budgets on simulated time, a 429 holding its endpoint's queue, and bursts against the
emulator's sandbox and live models that meet no 429."""

from __future__ import annotations

import asyncio
import math

import httpx
import pytest
from stripe_fakes import KEY, FakeTime, Script, error_reply, reply, run

from reconciler.emulator import Emulator, Faults
from reconciler.stripe import StripeClient
from reconciler.stripe.ratelimit import Budgets, TokenBucket, endpoint_of


@pytest.mark.parametrize(("method", "path", "endpoint"), [
    ("GET", "/v1/prices/price_1", "GET /v1/prices/{id}"),
    ("GET", "/v1/prices/price_2", "GET /v1/prices/{id}"),
    ("POST", "/v1/prices", "POST /v1/prices"),
    ("GET", "/v1/prices/search", "GET /v1/prices/search"),
    ("GET", "/v1/products/prod_9/features", "GET /v1/products/{id}/features"),
    ("POST", "/v1/billing/meters/mtr_1/deactivate", "POST /v1/billing/meters/{id}/deactivate"),
    ("GET", "/v1/account", "GET /v1/account"),
])
def test_an_endpoint_is_a_method_and_a_route(method: str, path: str, endpoint: str) -> None:
    assert endpoint_of(method, path) == endpoint


def _starts(fake_time: FakeTime, calls: list[tuple[str, str]], **options: float
            ) -> dict[str, list[float]]:
    """When each call started on simulated time, by endpoint."""
    starts: dict[str, list[float]] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        starts.setdefault(endpoint_of(request.method, request.url.path), []).append(fake_time.now)
        return httpx.Response(200, json={"id": "x"})

    async def go() -> None:
        async with StripeClient(KEY, transport=httpx.MockTransport(answer),
                                clock=fake_time.clock, sleep=fake_time.sleep,
                                max_concurrency=100, **options) as client:
            await asyncio.gather(*(client.request(m, p) for m, p in calls))

    run(go())
    return starts


def busiest(times: list[float]) -> int:
    return max(sum(1 for s in times if t <= s < t + 1.0) for t in times)


def test_each_endpoint_keeps_its_own_budget(fake_time: FakeTime) -> None:
    calls = [("POST", "/v1/prices")] * 100 + [("GET", f"/v1/products/prod_{i}")
                                              for i in range(40)]
    starts = _starts(fake_time, calls, rate_limit=92)
    prices, reads = starts["POST /v1/prices"], starts["GET /v1/products/{id}"]
    assert busiest(prices) <= 23 and busiest(reads) <= 23
    # the queue of price creates does not hold the product reads back: both pace in parallel
    assert max(reads) < 2.0 < max(prices)
    assert max(prices) == pytest.approx((100 - 5) / 23, abs=0.05)


def test_the_global_budget_still_bounds_the_sum(fake_time: FakeTime) -> None:
    calls = [("POST", path) for path in ("/v1/prices", "/v1/products", "/v1/coupons")] * 30
    starts = _starts(fake_time, calls, rate_limit=23)
    everything = sorted(t for times in starts.values() for t in times)
    assert busiest(everything) <= 23


def test_a_configured_endpoint_rate_and_search_at_20_of_25(fake_time: FakeTime) -> None:
    starts = _starts(fake_time, [("GET", "/v1/prices/search")] * 40 + [("POST", "/v1/prices")] * 40,
                     rate_limit=math.inf, endpoint_rate_limit=10)
    assert busiest(starts["GET /v1/prices/search"]) <= 8
    assert busiest(starts["POST /v1/prices"]) <= 10


def test_without_a_global_limit_endpoints_are_unpaced_unless_asked(fake_time: FakeTime) -> None:
    _starts(fake_time, [("POST", "/v1/prices")] * 100, rate_limit=math.inf)
    assert fake_time.now == 0.0


def test_a_429_holds_its_endpoint_for_the_retry_after(fake_time: FakeTime) -> None:
    script = Script(error_reply(429, "rate_limit", headers={"Retry-After": "2"}), reply())
    seen: list[tuple[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, fake_time.now))
        return script(request)

    async def go() -> None:
        async with StripeClient(KEY, transport=httpx.MockTransport(answer),
                                clock=fake_time.clock, sleep=fake_time.sleep,
                                random=lambda: 0.0) as client:
            first = asyncio.ensure_future(client.request("POST", "/v1/prices"))
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            await client.request("POST", "/v1/prices")  # queued behind the refused one
            await first

    run(go())
    assert seen[0][1] == 0.0
    assert all(at >= 2.0 for _, at in seen[1:]), seen


def test_a_held_endpoint_holds_no_other(fake_time: FakeTime) -> None:
    """What a 429 holds is its endpoint's bucket: the client's other endpoints go on at once
    (the test above cannot show it: its fake clock moves for every task at once)."""
    budgets = Budgets(TokenBucket(math.inf), 25.0, clock=fake_time.clock,
                      sleep=fake_time.sleep)
    budgets.endpoint("POST", "/v1/prices").hold(2.0)

    async def take(method: str, path: str) -> float:
        await budgets.endpoint(method, path).acquire()
        return fake_time.now

    assert run(take("GET", "/v1/products/prod_1")) == 0.0
    assert run(take("POST", "/v1/products")) == 0.0
    assert run(take("POST", "/v1/prices")) >= 2.0


def _burst(limits: str, calls: list[tuple[str, dict]], rate: float | None) -> Emulator:
    emu = Emulator(faults=Faults(limits=limits))

    async def go() -> None:
        async with StripeClient(KEY, api_base="http://emulator.test", rate_limit=rate,
                                transport=emu.async_transport(), max_concurrency=50) as client:
            await asyncio.gather(*(client.request("POST", path, params) for path, params in calls))

    run(go())
    return emu


@pytest.mark.slow
@pytest.mark.parametrize(("limits", "rate"), [("sandbox", None), ("live", 92.0)])
def test_a_burst_of_creates_on_one_endpoint_meets_no_429(limits: str, rate: float | None) -> None:
    calls = [
        ("/v1/prices", {"currency": "usd", "unit_amount": 100 + i, "product_data": {"name": f"p{i}"}})
        for i in range(45)]
    emu = _burst(limits, calls, rate)
    log = emu.request_log()
    assert len(log) == 45
    assert [e for e in log if e.status != 200] == []


@pytest.mark.slow
def test_a_mixed_burst_in_live_mode_uses_more_than_one_endpoint_budget() -> None:
    calls = [(path, {"name": f"n{i}"}) for i in range(30)
             for path in ("/v1/products", "/v1/entitlements/features")]
    calls = [(p, {**params, "lookup_key": params["name"]} if "features" in p else params)
             for p, params in calls]
    emu = _burst("live", calls, 92.0)
    log = emu.request_log()
    assert [e for e in log if e.status != 200] == []
    span = max(e.at for e in log) - min(e.at for e in log)
    assert span < 1.6  # 60 requests over two endpoints: about (30 - 5) / 23 s, not 60 / 23

"""Client-side rate limit (token bucket on simulated time) and the concurrency bound."""

from __future__ import annotations

import asyncio
import math

import httpx
import pytest
from stripe_fakes import LIVE_KEY, FakeTime, run

from reconciler.stripe import StripeClient, TokenBucket


@pytest.mark.parametrize(("n", "rate", "burst"), [(50, 10.0, 5), (40, 20.0, 1), (100, 80.0, 20)])
def test_bucket_paces_n_acquisitions(fake_time: FakeTime, n: int, rate: float, burst: int) -> None:
    bucket = TokenBucket(rate, burst, clock=fake_time.clock, sleep=fake_time.sleep)
    starts: list[float] = []

    async def one() -> None:
        await bucket.acquire()
        starts.append(fake_time.now)

    async def go() -> None:
        await asyncio.gather(*(one() for _ in range(n)))

    run(go())
    assert len(starts) == n
    elapsed = fake_time.now
    assert elapsed >= (n - burst) / rate - 1e-9
    assert elapsed <= (n - burst) / rate + 1e-6  # and not slower than needed
    # the first `burst` went at once; no window of 1 s holds more than burst + rate starts
    assert starts[:burst] == [0.0] * burst
    for i, t in enumerate(starts):
        in_window = sum(1 for s in starts if t <= s < t + 1.0)
        assert in_window <= burst + rate, (i, in_window)


def test_bucket_refills_while_idle(fake_time: FakeTime) -> None:
    bucket = TokenBucket(10.0, 5, clock=fake_time.clock, sleep=fake_time.sleep)

    async def go() -> None:
        for _ in range(5):
            await bucket.acquire()
        assert fake_time.now == 0.0
        fake_time.now += 10.0  # idle for a long time: refills to the burst, no more
        for _ in range(5):
            await bucket.acquire()
        assert fake_time.now == 10.0
        await bucket.acquire()
        assert fake_time.now == pytest.approx(10.1)

    run(go())


def test_bucket_validation() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(10, 0.5)
    assert TokenBucket(20).burst == 5 and TokenBucket(80).burst == 20 and TokenBucket(2).burst == 1
    assert TokenBucket(math.inf).unlimited


def _counting_transport(state: dict[str, int]) -> httpx.MockTransport:
    async def handler(request: httpx.Request) -> httpx.Response:
        state["in_flight"] += 1
        state["max"] = max(state["max"], state["in_flight"])
        for _ in range(5):  # stay in flight across several loop iterations
            await asyncio.sleep(0)
        state["in_flight"] -= 1
        state["done"] += 1
        return httpx.Response(200, json={"id": "x", "object": "thing"})

    return httpx.MockTransport(handler)


def test_client_requests_respect_the_rate(fake_time: FakeTime) -> None:
    n, rate, burst = 60, 20.0, 5
    state = {"in_flight": 0, "max": 0, "done": 0}

    async def go() -> None:
        async with StripeClient("sk_test_abc123456789xyz", transport=_counting_transport(state),
                                rate_limit=rate, burst=burst, clock=fake_time.clock,
                                sleep=fake_time.sleep) as client:
            await asyncio.gather(*(client.request("GET", "/v1/prices") for _ in range(n)))

    run(go())
    assert state["done"] == n
    assert fake_time.now >= (n - burst) / rate - 1e-9


def test_default_rate_by_key_mode() -> None:
    test_client = StripeClient("sk_test_abcdefghijklmnop")
    live_client = StripeClient(LIVE_KEY)
    restricted_live = StripeClient("rk_live_abcdefghijklmnop")
    assert (test_client.rate_limiter.rate, test_client.rate_limiter.burst) == (23.0, 5.0)
    assert (live_client.rate_limiter.rate, live_client.rate_limiter.burst) == (92.0, 23.0)
    assert restricted_live.rate_limiter.rate == 92.0
    assert StripeClient("sk_test_x1234567", rate_limit=3).rate_limiter.rate == 3.0
    for c in (test_client, live_client, restricted_live):
        run(c.aclose())


@pytest.mark.parametrize("bound", [1, 3, 8])
def test_concurrency_bound(fake_time: FakeTime, bound: int) -> None:
    state = {"in_flight": 0, "max": 0, "done": 0}

    async def go() -> None:
        async with StripeClient("sk_test_abc123456789xyz", transport=_counting_transport(state),
                                rate_limit=math.inf, max_concurrency=bound,
                                clock=fake_time.clock, sleep=fake_time.sleep) as client:
            await asyncio.gather(*(client.request("GET", "/v1/prices") for _ in range(30)))

    run(go())
    assert state["done"] == 30
    assert state["max"] == bound  # never above, and the bound is actually used


def test_rate_limit_and_concurrency_are_shared_by_helpers(fake_time: FakeTime) -> None:
    """create/list/retrieve all draw from the same bucket: 25 mixed calls at 10/s, burst 5."""
    state = {"in_flight": 0, "max": 0, "done": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        state["done"] += 1
        return httpx.Response(200, json={"object": "list", "data": [], "has_more": False,
                                         "id": "x"})

    async def go() -> None:
        async with StripeClient("sk_test_abc123456789xyz", transport=httpx.MockTransport(handler),
                                rate_limit=10, burst=5, clock=fake_time.clock,
                                sleep=fake_time.sleep) as client:
            calls = []
            for i in range(25):
                if i % 3 == 0:
                    calls.append(client.create("/v1/products", {"name": f"p{i}"}))
                elif i % 3 == 1:
                    calls.append(client.retrieve("/v1/products", f"prod_{i}"))
                else:
                    async def drain() -> None:
                        async for _ in client.list_all("/v1/products"):
                            pass
                    calls.append(drain())
            await asyncio.gather(*calls)

    run(go())
    assert state["done"] == 25
    assert fake_time.now >= (25 - 5) / 10 - 1e-9

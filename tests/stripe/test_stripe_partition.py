"""Long lists read in parallel ``created`` ranges: the same objects as one chain of pages,
in the same order, in about the same number of requests, and nothing missed or read twice
while objects are created and archived during the read."""

from __future__ import annotations

import asyncio
import itertools
import math

import pytest
from stripe_fakes import KEY, run

from reconciler.emulator import Emulator, Faults
from reconciler.stripe import StripeClient
from reconciler.stripe.errors import APIError
from reconciler.stripe.partition import list_partitioned


def seeded(n: int, per_second: float) -> Emulator:
    """``n`` products created ``per_second`` (several share a second when above 1)."""
    ticks = itertools.count()
    emu = Emulator(wall_clock=lambda: 1_700_000_000 + next(ticks) / per_second)
    rows = [("name", f"P{i}") for i in range(n)]

    async def go() -> None:
        async with client(emu) as stripe:
            for name in rows:
                await stripe.request("POST", "/v1/products", dict([name]))

    run(go())
    emu.reset_request_counts()
    return emu


def client(emu: Emulator) -> StripeClient:
    return StripeClient(KEY, api_base="http://emulator.test", transport=emu.async_transport(),
                        rate_limit=math.inf, max_concurrency=20)


def read_both(emu: Emulator) -> tuple[list[str], list[str], int]:
    """(ids of one chain, ids of the partitioned read, requests of the partitioned read)."""
    async def go() -> tuple[list[str], list[str]]:
        async with client(emu) as stripe:
            chain = [obj["id"] async for obj in stripe.list_all("/v1/products")]
            emu.reset_request_counts()
            parts = [obj["id"] for obj in await stripe.list_partitioned("/v1/products")]
            return chain, parts

    chain, parts = run(go())
    return chain, parts, sum(emu.request_counts().values())


@pytest.mark.parametrize(("n", "per_second"), [(0, 1), (60, 1), (100, 1), (1_000, 500)])
def test_a_list_of_up_to_ten_pages_costs_its_pages(n: int, per_second: float) -> None:
    chain, parts, requests = read_both(seeded(n, per_second))
    assert parts == chain and len(parts) == n
    assert requests == max(1, math.ceil(n / 100))


@pytest.mark.slow
@pytest.mark.parametrize("per_second", [0.5, 7.0])  # a second apart, or many in one second
def test_the_same_objects_in_the_same_order_in_near_the_minimum_of_pages(per_second: float
                                                                          ) -> None:
    chain, parts, requests = read_both(seeded(2_450, per_second))
    assert parts == chain and len(set(parts)) == 2_450
    assert requests <= math.ceil(2_450 / 100) + 8  # one last page per chain at most


def test_chains_run_at_once() -> None:
    emu = seeded(1_200, 1.0)
    emu.set_faults(Faults(latency_ms=30))
    in_flight = {"now": 0, "most": 0}

    async def request(*args, **kwargs):
        in_flight["now"] += 1
        in_flight["most"] = max(in_flight["most"], in_flight["now"])
        try:
            return await stripe.request(*args, **kwargs)
        finally:
            in_flight["now"] -= 1

    async def go() -> tuple[list[str], list[str]]:
        global stripe
        async with client(emu) as stripe:
            chain = [obj["id"] async for obj in stripe.list_all("/v1/products")]
            emu.reset_request_counts()
            found = await list_partitioned(request, "/v1/products", partitions=4, keep_pages=2,
                                          split_after=1)
            return chain, [obj["id"] for obj in found]

    chain, found = run(go())
    assert found == chain
    assert in_flight["most"] >= 3  # chains at once (one of 1,200 pages in a row before)
    assert sum(emu.request_counts().values()) <= 12 + 4


@pytest.mark.slow
def test_nothing_is_missed_or_read_twice_under_concurrent_writes() -> None:
    emu = seeded(1_500, 2.0)
    emu.set_faults(Faults(latency_ms=5))

    async def go() -> tuple[list[str], set[str], set[str]]:
        async with client(emu) as stripe:
            before = [obj["id"] async for obj in stripe.list_all("/v1/products")]
            archived: set[str] = set()
            created: set[str] = set()

            async def write() -> None:
                for i, victim in enumerate(before[::50]):
                    made = await stripe.request("POST", "/v1/products", {"name": f"new{i}"})
                    created.add(made["id"])
                    await stripe.request("POST", f"/v1/products/{victim}", {"active": "false"})
                    archived.add(victim)

            read, _ = await asyncio.gather(stripe.list_partitioned("/v1/products"), write())
            return [obj["id"] for obj in read], archived, created, before

    read, archived, created, before = run(go())
    assert len(read) == len(set(read))  # nothing twice
    assert set(before) - archived <= set(read)  # nothing that stayed is missed
    assert set(read) <= set(before) | created


def test_a_page_without_created_times_is_an_error() -> None:
    async def request(*args, **kwargs):
        return {"data": [{"id": "x"}], "has_more": True}

    with pytest.raises(APIError, match="created time"):
        run(list_partitioned(request, "/v1/products"))


def test_objects_made_in_bursts_are_read_by_many_chains() -> None:
    """Hundreds a second (an application's import): a chain keeps its page's second only,
    so the reading spreads over the chains instead of one chain per 16 seconds."""
    emu = seeded(3_000, 300.0)  # ten seconds, three pages each
    seen: list[dict] = []

    async def request(method, path, params, **kwargs):
        seen.append(dict(params))
        return await stripe.request(method, path, params, **kwargs)

    async def go() -> list[dict]:
        global stripe
        async with client(emu) as stripe:
            return await list_partitioned(request, "/v1/products")

    assert len({obj["id"] for obj in run(go())}) == 3_000
    ranges = {tuple(sorted(q.get("created", {}).items())) for q in seen}
    assert len(ranges) >= 5
    assert len(seen) <= 30 + 10 + 1  # pages, one last page per second-range, the oldest range

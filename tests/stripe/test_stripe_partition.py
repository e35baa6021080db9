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
from reconciler.stripe.partition import _cuts, list_partitioned


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


class InFlight:
    """How many requests were in flight at most through :meth:`counting`'s function."""

    def __init__(self) -> None:
        self.now = self.most = 0

    def counting(self, send):  # type: ignore[no-untyped-def]
        async def request(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.now += 1
            self.most = max(self.most, self.now)
            try:
                return await send(*args, **kwargs)
            finally:
                self.now -= 1
        return request


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
    in_flight = InFlight()
    request = in_flight.counting(lambda *args, **kwargs: stripe.request(*args, **kwargs))

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
    assert in_flight.most >= 3  # chains at once (one of 1,200 pages in a row before)
    assert sum(emu.request_counts().values()) <= 12 + 4


@pytest.mark.slow
def test_nothing_is_missed_or_read_twice_under_concurrent_writes() -> None:
    emu = seeded(1_500, 2.0)
    emu.set_faults(Faults(latency_ms=5))

    async def go() -> tuple[list[str], set[str], set[str], list[str], int]:
        async with client(emu) as stripe:
            before = [obj["id"] async for obj in stripe.list_all("/v1/products")]
            archived: set[str] = set()
            created: set[str] = set()
            reading = asyncio.ensure_future(stripe.list_partitioned("/v1/products"))
            during = 0  # writes finished while the list was being read

            async def write() -> None:
                nonlocal during
                for i, victim in enumerate(before[::50]):
                    made = await stripe.request("POST", "/v1/products", {"name": f"new{i}"})
                    created.add(made["id"])
                    await stripe.request("POST", f"/v1/products/{victim}", {"active": "false"})
                    archived.add(victim)
                    during += not reading.done()

            read, _ = await asyncio.gather(reading, write())
            return [obj["id"] for obj in read], archived, created, before, during

    read, archived, created, before, during = run(go())
    assert during >= 2, during  # the writes did overlap the read (8 of 30 here)
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

    ids = [obj["id"] for obj in run(go())]
    assert len(ids) == len(set(ids)) == 3_000  # none missed, none read twice
    ranges = {tuple(sorted(q.get("created", {}).items())) for q in seen}
    assert len(ranges) >= 5
    assert len(seen) <= 30 + 10 + 1  # pages, one last page per second-range, the oldest range


def most_in_flight(rate: float, paced: bool = False, n: int = 2_000) -> int:
    """Requests in flight at most while ``n`` products are read at 50 ms a page; ``paced``:
    the client itself keeps the endpoint to ``rate``, so a page may wait for its token."""
    emu = seeded(n, 1.0)
    emu.set_faults(Faults(latency_ms=50))
    in_flight = InFlight()
    request = in_flight.counting(lambda *args, **kwargs: stripe.request(*args, **kwargs))

    async def go() -> list[dict]:
        global stripe
        async with (StripeClient(KEY, api_base="http://emulator.test",
                                 transport=emu.async_transport(), rate_limit=math.inf,
                                 endpoint_rate_limit=rate, max_concurrency=20)
                    if paced else client(emu)) as stripe:
            return await list_partitioned(request, "/v1/products", partitions=6, rate=rate,
                                          split_after=1, keep_pages=4)

    ids = [obj["id"] for obj in run(go())]
    assert len(ids) == len(set(ids)) == n  # none missed, none read twice
    return in_flight.most


@pytest.mark.slow
def test_as_many_chains_as_keep_the_rate_in_flight() -> None:
    """10 pages a second at 50 ms a page take one page in flight (one with the headroom):
    more chains would only queue for the endpoint's budget; without a rate, as many as
    allowed."""
    assert most_in_flight(10.0) <= 3  # 2, or 3 at round trips up to 200 ms
    assert most_in_flight(math.inf) >= 5


@pytest.mark.slow
def test_a_page_waiting_for_the_endpoints_budget_does_not_call_for_more_chains() -> None:
    """Sized by the exchange alone: timed around the call, a page queued for its token in
    the client looked like a slow round trip, every chain added queued longer, and the read
    grew to the most chains allowed whatever the latency."""
    assert most_in_flight(10.0, paced=True, n=3_000) <= 3  # 5 when timed around the call


def test_cuts_share_a_range_out() -> None:
    """An open range goes out in pieces of KEEP_PAGES pages, as many as the list has shown
    pages for; a bounded one near its end evenly, no piece under four pages."""
    # pages of 100 seconds; 8 pages shown: two pieces of 16 pages cut, the rest open
    assert _cuts(0, 100_000, 100, pieces=5, shown=8, keep_pages=16) == [98_401, 96_801]
    # 10 pages left (1,000 s) in at most 5 pieces: 2 of 5 pages (no piece under 4 pages)
    assert _cuts(99_001, 100_000, 100, pieces=5, shown=8, keep_pages=16) == [99_501]
    assert _cuts(99_701, 100_000, 100, pieces=5, shown=8, keep_pages=16) == []  # 3 pages


def test_the_default_client_keeps_an_endpoint_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's client (defaults) reads a long list at its endpoint's budget, 23 pages a
    second, with chains enough for ~700 ms pages: ten requests in flight (the old default)
    held eight chains to under 23 pages a second at 300 ms plus the parsing."""
    import reconciler.stripe.client as module
    seen: dict = {}

    async def capture(request, path, params=None, **options):
        seen.update(options)
        return []

    monkeypatch.setattr(module, "list_partitioned", capture)
    stripe = StripeClient(KEY, transport=Emulator().async_transport())
    run(stripe.list_partitioned("/v1/prices"))
    run(stripe.aclose())
    assert seen["rate"] == pytest.approx(23.0)
    assert seen["partitions"] >= 0.69 * seen["rate"]  # pages in flight at 0.69 s a page


@pytest.mark.slow
def test_a_dense_import_below_a_sparse_catalog_is_shared_out() -> None:
    """3,000 objects made in three seconds, then 1,000 over three hours: cut by the density
    of all the first chain had read (the catalog's), the import stayed in the first chain,
    the whole list in a row."""
    times = [1_700_000_000 + i // 1_000 for i in range(3_000)]
    times += [1_700_000_100 + 10 * i for i in range(1_000)]
    now = [0]
    emu = Emulator(wall_clock=lambda: now[0])

    async def seed() -> None:
        async with client(emu) as stripe:
            for i, second in enumerate(times):
                now[0] = second
                await stripe.request("POST", "/v1/products", {"name": f"P{i}"})

    run(seed())
    chain_of: dict[str, int] = {}  # a page's last id -> pages in its chain so far

    async def request(method, path, params, **kwargs):
        answer = await stripe.request(method, path, params, **kwargs)
        if answer["data"]:
            chain_of[answer["data"][-1]["id"]] = chain_of.get(params.get("starting_after"), 0) + 1
        return answer

    async def go() -> list[dict]:
        global stripe
        async with client(emu) as stripe:
            return await list_partitioned(request, "/v1/products", partitions=8)

    ids = [obj["id"] for obj in run(go())]
    assert len(ids) == len(set(ids)) == 4_000  # none missed, none read twice
    # the first ten pages, then a second of the import (ten pages, never cut), not all 40
    assert max(chain_of.values()) <= 10 + 10 + 2

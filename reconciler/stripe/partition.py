"""Reading a long list endpoint as several chains of pages at once.

One chain of ``starting_after`` pages is one round trip after another: 100,000 prices are
1,000 pages in a row, minutes of latency, while Stripe's endpoint budget (25 requests a
second, :mod:`.limits`) would serve several chains at once. A list that filters on
``created`` (``created[gte]``/``created[lt]``, whole seconds) can be cut into disjoint time
ranges, each its own chain:

* The first pages are read as before, one chain with no filter: a list of up to
  :data:`SPLIT_AFTER` pages costs exactly its pages.
* How many chains: by Little's law, keeping ``rate`` pages a second in flight takes ``rate``
  times a page's round trip, measured as the pages come (a moving average), with
  :data:`HEADROOM`, and never more than ``partitions``. At 23 pages a second (one endpoint's
  budget, less the client's margin), 300 ms pages take about 10 chains, 600 ms about 20.
  Without a rate (no budget), ``partitions`` chains.
* Every chain reads its range newest first. After a full page, while fewer chains run than
  wanted, it cuts the seconds below its page's oldest object into consecutive ranges, several
  at once (one per page made the endpoint wait round trips for its chains). An open range
  (the first chain's, reaching back to 1970) goes out in pieces of :data:`KEEP_PAGES` pages'
  worth, at the density the chain's last pages showed, as many as the list has shown four
  pages for (a list may end at any second: a piece past its end is one empty page), and the
  rest as one more open range. A bounded range is shared out evenly, no piece under four
  pages: near the end of the list, the chains left split the longest reads. The chain keeps
  the first piece, including its page's oldest second, which it goes on reading with its
  cursor, so objects sharing a second with a cut are read once. A second is never cut: an
  import of a thousand objects in one second is ten pages in a row.
* Each range ends with one page that is not full, so the requests beyond ``ceil(N / 100)``
  are about one per range: ``N / (100 * KEEP_PAGES)`` for sparse lists, one per second for
  dense ones (100,000 prices made at 800 a second: 1,006 pages, ~50 more), the ranges cut
  near the end, and the pieces cut past the list's oldest object.
* Ranges never overlap and each chain pages with a cursor, so no object is read twice. An
  object created while the list is read is newer than the first page and is not read, as
  with one chain; one archived meanwhile is read or not, depending on whether its page had
  been read, as with one chain.

The result is in the list's own order (newest first): chains cover consecutive ranges, read
back from the newest range to the oldest.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import APIError
from .pagination import PAGE_SIZE, _Params
from .session import EXCHANGE_SECONDS

__all__ = ["HEADROOM", "KEEP_PAGES", "PARTITIONS", "SPLIT_AFTER", "list_partitioned"]

PARTITIONS = 24
"""Most chains read at once per list: 23 pages a second at up to about 1 s a page (0.7 s
with the headroom below)."""
HEADROOM = 1.5
"""Chains beyond what the average round trip needs: round trips vary, and a chain also
spends time between its pages; a page waiting for its token costs nothing."""
SPLIT_AFTER = 10
"""Pages read before the first split: a list of up to 1,000 objects costs exactly its pages
(a split costs up to one request, the new chain's last page), a longer one spreads out after
ten round trips."""
KEEP_PAGES = 32
"""Pages' worth of seconds per range cut from an open range: the more, the fewer ranges (and
their last, partial pages); a range read last is shared out among the chains left."""
_MIN_PAGES = 4
"""A bounded range is cut into pieces of at least this many pages: a piece costs a partial
page more, worth it only if it saves round trips."""
_DENSITY_PAGES = 3
"""Pages whose seconds tell how many seconds the next pages cover."""
_SMOOTHING = 0.2
"""Weight of the newest page in the moving average of round trips."""

Request = Callable[..., Awaitable[dict[str, Any]]]
Progress = Callable[[int], None]


@dataclass
class _Chain:
    low: int  # created[gte]
    high: int | None  # created[lt]; None: no bound (the first chain)
    cursor: str | None = None
    objects: list[dict[str, Any]] = field(default_factory=list)


async def list_partitioned(
    request: Request,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    expand: Iterable[str] | None = None,
    partitions: int = PARTITIONS,
    rate: float = math.inf,
    keep_pages: int = KEEP_PAGES,
    split_after: int = SPLIT_AFTER,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[dict[str, Any]]:
    """Every object of the list endpoint ``path``, which must accept ``created`` filters, read
    in up to ``partitions`` chains at once through ``request(method, path, params,
    expand=...)``, as many as keep ``rate`` pages a second in flight; ``progress(n)`` is told
    of each page's ``n`` objects."""
    base = _Params({**(params or {}), "limit": PAGE_SIZE})  # as paginate: no plain copy
    del params
    expand = list(expand or ())
    chains: list[_Chain] = []
    pages = [0]  # read so far, by every chain
    round_trip: list[float] = []  # the moving average, once a page came back
    running: set[asyncio.Task[None]] = set()

    def wanted() -> int:
        if math.isinf(rate) or not round_trip:
            return partitions
        return max(1, min(partitions, math.ceil(rate * round_trip[0] * HEADROOM)))

    async def page(chain: _Chain) -> tuple[list[dict[str, Any]], bool]:
        query = _Params(base)
        created = {"gte": chain.low} if chain.low else {}
        if chain.high is not None:
            created["lt"] = chain.high
        if created:
            query["created"] = created
        if chain.cursor is not None:
            query["starting_after"] = chain.cursor
        EXCHANGE_SECONDS.set(None)
        sent = clock()
        answer = await request("GET", path, query, expand=expand)
        # the exchange alone: timed around the call, a page queued for the endpoint's budget
        # would look slow and call for more chains, which would only queue longer
        took = EXCHANGE_SECONDS.get()
        if took is None:  # a request function that is not the session's
            took = clock() - sent
        round_trip[:] = [took if not round_trip
                         else round_trip[0] + _SMOOTHING * (took - round_trip[0])]
        data = answer.get("data")
        if not isinstance(data, list) or not all(_stamped(obj) for obj in data):
            raise APIError("list response has no 'data' array of objects with an id and a "
                           "created time", method="GET", path=path)
        pages[0] += 1
        if progress is not None:
            progress(len(data))
        return data, bool(answer.get("has_more")) and bool(data)

    async def read(chain: _Chain) -> None:
        while True:
            data, more = await page(chain)
            chain.objects += data
            if not more:
                return
            if data[-1]["id"] == chain.cursor:
                raise APIError("list pagination did not advance (repeated cursor)",
                               method="GET", path=path)
            chain.cursor = data[-1]["id"]
            free = wanted() - len(running)
            if pages[0] >= split_after and free > 0:
                oldest = data[-1]["created"]
                # seconds a page covers here, by the chain's last pages (a list's density
                # changes: an import of thousands in a minute below years of a catalog)
                recent = chain.objects[-_DENSITY_PAGES * PAGE_SIZE:]
                per_page = (recent[0]["created"] - oldest) * PAGE_SIZE / len(recent)
                cuts = _cuts(chain.low, oldest, per_page, 1 + free, pages[0], keep_pages)
                for low, high in zip(cuts[1:] + [chain.low], cuts):
                    start(_Chain(low, high))
                if cuts:
                    chain.low = cuts[0]

    def start(chain: _Chain) -> None:
        chains.append(chain)
        task = asyncio.ensure_future(read(chain))
        running.add(task)
        task.add_done_callback(running.discard)

    start(_Chain(0, None))
    try:
        while running:
            # wait for what runs now; chains started meanwhile are in `running` next round
            done = await asyncio.gather(*list(running), return_exceptions=True)
            failure = next((r for r in done if isinstance(r, BaseException)), None)
            if failure is not None:
                raise failure
    finally:
        for task in running:
            task.cancel()
    chains.sort(key=lambda c: c.low, reverse=True)
    return [obj for chain in chains for obj in chain.objects]


def _cuts(low: int, oldest: int, per_page: float, pieces: int, shown: int, keep_pages: int
          ) -> list[int]:
    """Where to cut the seconds ``[low, oldest]`` that a chain has yet to read, its pages
    having covered ``per_page`` seconds each, into at most ``pieces`` ranges, the list having
    shown ``shown`` pages so far: the lower bounds, newest first, of every piece but the
    last, which reaches down to ``low``; the chain keeps the first piece (from the first cut
    up). Empty: not worth cutting."""
    seconds = oldest + 1 - low
    if per_page * keep_pages * pieces < seconds:
        # an open range: pieces of keep_pages pages, as many as the list has shown pages
        # for (the list may end at any second: pieces past its end are an empty page each)
        width = max(1, int(per_page * keep_pages))
        count = min(pieces - 1, max(1, shown // _MIN_PAGES))
    else:  # a range near its end: shared out evenly, no piece under _MIN_PAGES pages
        count = min(pieces, int(seconds // max(1.0, per_page * _MIN_PAGES))) - 1
        width = math.ceil(seconds / (count + 1)) if count > 0 else seconds
    cuts = [oldest + 1 - width * (i + 1) for i in range(count)]
    return [c for c in cuts if c > low]


def _stamped(obj: Any) -> bool:
    return (isinstance(obj, Mapping) and isinstance(obj.get("id"), str)
            and type(obj.get("created")) is int)

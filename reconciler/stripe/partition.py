"""Reading a long list endpoint as several chains of pages at once.

One chain of ``starting_after`` pages is one round trip after another: 100,000 prices are
1,000 pages in a row, minutes of latency, while Stripe's endpoint budget (25 requests a
second, :mod:`.limits`) would serve several chains at once. A list that filters on
``created`` (``created[gte]``/``created[lt]``, whole seconds) can be cut into disjoint time
ranges, each its own chain:

* The first pages are read as before, one chain with no filter: a list of up to
  :data:`SPLIT_AFTER` pages costs exactly its pages.
* Every chain reads its range newest first. When a page comes back full and fewer than
  ``partitions`` chains are running, the chain keeps the seconds just below its page's oldest
  object, about :data:`KEEP_PAGES` pages' worth at the density that page showed, and hands
  everything older, if its range reaches further, to a new chain. The kept seconds include the page's oldest second, which
  the chain goes on reading with its cursor, so objects sharing a second with the split are
  read once. Each chain ends with one page that is not full, so the requests beyond
  ``ceil(N / 100)`` are about one per chain: ``N / (100 * KEEP_PAGES)`` plus ``partitions``.
* Ranges never overlap and each chain pages with a cursor, so no object is read twice. An
  object created while the list is read is newer than the first page and is not read, as
  with one chain; one archived meanwhile is read or not, depending on whether its page had
  been read, as with one chain.

The result is in the list's own order (newest first): chains cover consecutive ranges, read
back from the newest range to the oldest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import APIError
from .pagination import PAGE_SIZE

__all__ = ["KEEP_PAGES", "PARTITIONS", "SPLIT_AFTER", "list_partitioned"]

PARTITIONS = 8
"""Chains read at once per list: at 23 pages a second (one endpoint's budget, less the
client's margin) a page may take up to about 350 ms and the endpoint still stays busy."""
SPLIT_AFTER = 10
"""Pages read before the first split: a list of up to 1,000 objects costs exactly its pages
(a split costs up to one request, the new chain's last page), a longer one spreads out after
ten round trips."""
KEEP_PAGES = 16
"""Pages' worth of seconds a chain keeps when it hands the rest on: the more, the fewer
chains (and their last, partial pages); the fewer, the sooner the reading spreads out."""

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
    keep_pages: int = KEEP_PAGES,
    split_after: int = SPLIT_AFTER,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Every object of the list endpoint ``path``, which must accept ``created`` filters, read
    in up to ``partitions`` chains at once through ``request(method, path, params,
    expand=...)``; ``progress(n)`` is told of each page's ``n`` objects."""
    base = {**(params or {}), "limit": PAGE_SIZE}
    expand = list(expand or ())
    chains = [_Chain(0, None)]
    pages = [0]  # read so far, by every chain
    running: set[asyncio.Task[None]] = set()

    async def page(chain: _Chain) -> tuple[list[dict[str, Any]], bool]:
        query = dict(base)
        created = {"gte": chain.low} if chain.low else {}
        if chain.high is not None:
            created["lt"] = chain.high
        if created:
            query["created"] = created
        if chain.cursor is not None:
            query["starting_after"] = chain.cursor
        answer = await request("GET", path, query, expand=expand)
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
            oldest = data[-1]["created"]
            # a page within one second (100 or more objects a second) keeps that second only
            keep_from = oldest + 1 - max(1, (data[0]["created"] - oldest) * keep_pages)
            if pages[0] >= split_after and len(running) < partitions and keep_from > chain.low:
                older = _Chain(chain.low, keep_from)
                chain.low = keep_from
                chains.append(older)
                start(older)

    def start(chain: _Chain) -> None:
        task = asyncio.ensure_future(read(chain))
        running.add(task)
        task.add_done_callback(running.discard)

    start(chains[0])
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


def _stamped(obj: Any) -> bool:
    return (isinstance(obj, Mapping) and isinstance(obj.get("id"), str)
            and type(obj.get("created")) is int)

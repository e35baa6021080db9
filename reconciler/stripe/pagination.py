"""Walking a list endpoint to its end.

Reads use list endpoints, never one GET per object (a plan reads eleven kinds, several pages
each), so paging has to be right: forwards only, ``limit=100``, chained with
``starting_after`` (search endpoints: ``page``), and refusing a cursor that does not move
rather than looping on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any

from .errors import APIError

__all__ = ["PAGE_SIZE", "paginate"]

PAGE_SIZE = 100

Request = Callable[..., Awaitable[dict[str, Any]]]


class _Params(dict[str, Any]):
    """Parameters kept across pages, with a repr that does not show them (they may hold
    secrets, and a locals-capturing traceback reporter would print them)."""

    def __repr__(self) -> str:
        return f"<{len(self)} parameters>"


async def paginate(
    request: Request,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    expand: Iterable[str] | None = None,
    page_size: int = PAGE_SIZE,
    on_page: Callable[[int], None] | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Every object of the list endpoint ``path``, fetching pages lazily through
    ``request(method, path, params, expand=...)``; ``on_page(n)`` is told of each page's
    ``n`` objects (progress)."""
    query = _Params(params or {})
    del params  # no frame of a traceback shows the plain parameters
    if "ending_before" in query:
        raise ValueError("list_all pages forwards; ending_before is not supported")
    query.setdefault("limit", page_size)
    expand = list(expand or ())
    seen_cursor: str | None = None
    while True:
        page = await request("GET", path, query, expand=expand)
        data = page.get("data")
        if not isinstance(data, list):
            raise APIError("list response has no 'data' array", method="GET", path=path)
        if on_page is not None:
            on_page(len(data))
        for obj in data:
            yield obj
        if not page.get("has_more") or not data:
            return
        if page.get("object") == "search_result":
            next_page = page.get("next_page")
            if not next_page:
                return
            query["page"] = next_page
            continue
        cursor = data[-1].get("id") if isinstance(data[-1], Mapping) else None
        if not isinstance(cursor, str) or cursor == seen_cursor:
            raise APIError(
                "list pagination did not advance (missing or repeated cursor)",
                method="GET",
                path=path,
            )
        seen_cursor = cursor
        query["starting_after"] = cursor

"""The search endpoints (products, prices): a useful subset of Stripe's query language.

Supported: clauses ``field:value`` (exact, case-insensitive for text), ``field~"sub"``
(substring), ``field>n`` / ``>=`` / ``<`` / ``<=`` (numbers), ``-`` to negate, ``null`` as a
value, ``metadata['key']`` as a field, and clauses joined by ``AND`` or by ``OR`` (not both, as
Stripe requires). Fields are the object's top-level response fields. Results are newest first
and consistent at once (Stripe's search is eventually consistent; nothing should rely on the
delay). ``page`` is an opaque cursor from ``next_page``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import invalid

if TYPE_CHECKING:
    from .resource import Context, Obj, Resource

_CLAUSE = re.compile(
    r"""\s*(?P<neg>-)?(?:metadata\[(?P<q>['"])(?P<key>.+?)(?P=q)\]|(?P<field>[a-z_]+))"""
    r"""\s*(?P<op>:|~|>=|<=|>|<)\s*"""
    r"""(?:"(?P<dq>(?:[^"\\]|\\.)*)"|'(?P<sq>(?:[^'\\]|\\.)*)'|(?P<bare>[^\s'"]+))\s*"""
)
_JOIN = re.compile(r"(AND|OR)\b")
_NUMERIC = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__}

Clause = Callable[[Mapping[str, Any]], bool]


def search(resource: Resource, ctx: Context, raw: Mapping[str, Any]) -> Obj:
    p = resource.coerce("search", raw)
    limit = p.get("limit", 10)  # its range is Stripe's documented one (data/limits.json)
    test = _parse(p["query"], resource.fields)
    found = [r["object"] for r in ctx.bucket.records(resource.object) if test(r["object"])]
    start = _offset(p.get("page"))
    page = found[start:start + limit]
    more = start + limit < len(found)
    expand = [e.removeprefix("data.") for e in p.get("expand") or [] if e != "total_count"]
    out: dict[str, Any] = {
        "object": "search_result",
        "data": [resource.render(ctx, obj, expand) for obj in page],
        "has_more": more,
        "next_page": _token(start + limit) if more else None,
        "url": ctx.path,
    }
    if "total_count" in (p.get("expand") or []):
        out["total_count"] = len(found)
    return out


def _parse(query: str, fields: Mapping[str, Any]) -> Clause:
    clauses: list[Clause] = []
    joins: set[str] = set()
    pos = 0
    while True:
        match = _CLAUSE.match(query, pos)
        if match is None:
            raise invalid(f"Invalid search query at position {pos}: {query!r}.", "query")
        clauses.append(_clause(match, fields))
        pos = match.end()
        if pos == len(query):
            break
        join = _JOIN.match(query, pos)
        if join is None:
            raise invalid(f"Expected AND or OR at position {pos} of {query!r}.", "query")
        joins.add(join.group(1))
        pos = join.end()
    if len(joins) > 1:
        raise invalid("A search query cannot combine AND and OR.", "query")
    combine = any if joins == {"OR"} else all
    return lambda obj: combine(clause(obj) for clause in clauses)


def _clause(match: re.Match[str], fields: Mapping[str, Any]) -> Clause:
    field, key, op = match["field"], match["key"], match["op"]
    if field is not None and field not in fields:
        raise invalid(f"Field '{field}' is not supported in search queries.", "query")
    quoted = match["dq"] if match["dq"] is not None else match["sq"]
    wanted = quoted.replace("\\", "") if quoted is not None else match["bare"]

    def value(obj: Mapping[str, Any]) -> Any:
        return (obj.get("metadata") or {}).get(key) if key is not None else obj.get(field)

    def test(obj: Mapping[str, Any]) -> bool:
        actual = value(obj)
        if op in _NUMERIC:
            return isinstance(actual, (int, float)) and _NUMERIC[op](float(actual), float(wanted))
        if quoted is None and wanted == "null":
            return actual is None
        if isinstance(actual, bool):
            return str(actual).lower() == wanted.lower()
        if actual is None:
            return False
        if op == "~":
            return wanted.casefold() in str(actual).casefold()
        return str(actual).casefold() == wanted.casefold()

    if op in _NUMERIC:
        try:
            float(wanted)
        except ValueError:
            raise invalid(f"'{wanted}' is not a number.", "query") from None
    return (lambda obj: not test(obj)) if match["neg"] else test


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(page: str | None) -> int:
    if page is None:
        return 0
    try:
        return int(base64.urlsafe_b64decode(page.encode()).decode().removeprefix("offset:"))
    except (ValueError, UnicodeDecodeError):
        raise invalid(f"Invalid page cursor: {page}", "page") from None

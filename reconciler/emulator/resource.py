"""The generic Stripe resource: create, retrieve, update, delete and list, driven by the data.

Parameters are checked against the reference ``params`` of each operation; objects are built
from the reference ``response_fields``. A kind's module (in :mod:`.rules`) subclasses
:class:`Resource` and only states what the data cannot: id prefix, defaults, Stripe's rules
(the ``check_*`` hooks, which raise before anything is written) and derived fields.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from reconciler import reference

from . import expansion, metadata, params, search
from .errors import invalid, no_such
from .forms import bracket
from .shapes import blank, merge, object_spec, pair_decimals, shape
from .store import Bucket, random_id

Obj = dict[str, Any]
Records = list[dict[str, Any]]  # store records ({"seq", "object", "parent"?}), newest first
Paths = list[str]  # expand[] paths
Filter = Callable[[Obj, Any], bool]


@dataclass
class Context:
    """What one request's handlers may see: its account bucket, clock and the other kinds."""

    bucket: Bucket
    now: int
    path: str
    registry: Mapping[str, Resource]

    @property
    def livemode(self) -> bool:
        return self.bucket.livemode

    def find(self, kind: str, object_id: str) -> Obj | None:
        record = self.bucket.get(kind, object_id)
        return record["object"] if record else None

    def require(self, kind: str, object_id: Any, param: str, status: int = 400) -> Obj:
        """The object a parameter names, or Stripe's ``resource_missing`` for that parameter."""
        found = self.find(kind, object_id) if isinstance(object_id, str) else None
        if found is None:
            raise no_such(kind, str(object_id), param=param, status=status)
        return found

    def save(self, kind: str, obj: Obj, parent: str | None = None) -> None:
        self.bucket.put(kind, obj, parent)


class Resource:
    object: ClassVar[str]
    prefix: ClassVar[str]
    defaults: ClassVar[Mapping[str, Any]] = {}
    expand_only: ClassVar[frozenset[str]] = frozenset()  # returned only when expanded
    create_response_only: ClassVar[frozenset[str]] = frozenset()  # webhook `secret`
    parent_kind: ClassVar[str | None] = None  # product features live under a product
    list_defaults: ClassVar[Mapping[str, Any]] = {}  # filters applied when not given
    filters: ClassVar[Mapping[str, Filter]] = {}  # list filters that are not plain equality

    def __init__(self) -> None:
        self.facts = reference.kind_facts(self.object)
        self.fields: dict[str, Any] = self.facts["response_fields"]
        self.spec = object_spec(self.fields)
        self.label = self.object.rsplit(".", 1)[-1].replace("_", " ")

    # -- request entry -------------------------------------------------------------------------

    def dispatch(self, ctx: Context, op: str, ids: Mapping[str, str], raw: Mapping[str, Any]) -> Obj:
        parent = None
        if self.parent_kind is not None:
            parent = ids[self.parent_kind]
            ctx.require(self.parent_kind, parent, param=self.parent_kind, status=404)
        if op == "create":
            return self.create(ctx, raw, parent)
        if op in ("list", "search"):
            return getattr(self, op)(ctx, raw, parent)
        record = ctx.bucket.get(self.object, ids["id"])
        if record is None or record.get("parent") != parent:
            raise no_such(self.object, ids["id"])
        return getattr(self, op)(ctx, record["object"], raw)

    def coerce(self, op: str, raw: Mapping[str, Any]) -> dict[str, Any]:
        explain = self._explain if op == "update" else None
        p = params.coerce(raw, self.facts["params"][op], explain,
                          self.facts["combinations"].get(op, ()))
        expansion.check_depth(p.get("expand", ()))
        return p

    def _explain(self, path: tuple[str, ...]) -> str:
        dotted = ".".join(p for p in path if not p.isdigit())
        top = len(path) == 1 and dotted in self.facts["create_only_params"]
        if top or dotted in self.facts["create_only_nested_paths"]:
            return (f"{bracket(path)} can only be set when a {self.label} is created; "
                    f"to change it, create a new {self.label}.")
        return ""

    # -- operations ----------------------------------------------------------------------------

    def create(self, ctx: Context, raw: Mapping[str, Any], parent: str | None = None) -> Obj:
        p = self.coerce("create", raw)
        expand = p.pop("expand", None) or []
        return self.render(ctx, self.insert(ctx, p, parent), expand, creating=True)

    def insert(self, ctx: Context, p: dict[str, Any], parent: str | None = None) -> Obj:
        """Check, build and store a new object from coerced parameters (also used inline)."""
        self.check_create(ctx, p, parent)
        obj = self.build(ctx, p)
        ctx.save(self.object, obj, parent)
        self.after_create(ctx, obj, p)
        return obj

    def build(self, ctx: Context, p: Mapping[str, Any]) -> Obj:
        obj = blank(self.spec)
        obj.update(copy.deepcopy(dict(self.defaults)))
        for name, value in p.items():
            if name in self.fields:
                obj[name] = shape(value, self.fields[name])
        obj.update(id=self.new_id(ctx, p), object=self.object, livemode=ctx.livemode)
        for stamp in ("created", "updated"):
            if stamp in self.fields:
                obj[stamp] = ctx.now
        self.fill(ctx, obj, p)
        pair_decimals(obj, self.spec)
        return obj

    def retrieve(self, ctx: Context, obj: Obj, raw: Mapping[str, Any]) -> Obj:
        p = self.coerce("retrieve", raw)
        return self.render(ctx, obj, p.get("expand") or [])

    def update(self, ctx: Context, obj: Obj, raw: Mapping[str, Any]) -> Obj:
        p = self.coerce("update", raw)
        expand = p.pop("expand", None) or []
        self.check_update(ctx, obj, p)
        new = copy.deepcopy(obj)
        for name, value in p.items():
            if name in self.fields:
                new[name] = merge(new.get(name), value, self.fields[name])
        if p.get("metadata"):
            metadata.check(new["metadata"], "metadata")  # the merged keys count
        self.apply_update(ctx, new, p)
        if "updated" in self.fields:
            new["updated"] = ctx.now
        pair_decimals(new, self.spec)
        ctx.save(self.object, new)
        return self.render(ctx, new, expand)

    def delete(self, ctx: Context, obj: Obj, raw: Mapping[str, Any]) -> Obj:
        params.coerce(raw, self.facts["params"].get("delete", {}))
        self.check_delete(ctx, obj)
        ctx.bucket.remove(self.object, obj["id"])
        self.after_delete(ctx, obj)
        return {"id": obj["id"], "object": self.object, "deleted": True}

    def list(self, ctx: Context, raw: Mapping[str, Any], parent: str | None = None) -> Obj:
        p = self.coerce("list", raw)
        expand = _item_expansions(p.pop("expand", None) or [])
        limit = p.pop("limit", 10)  # its range is Stripe's documented one (data/limits.json)
        after, before = p.pop("starting_after", None), p.pop("ending_before", None)
        created = p.pop("created", None)
        self.check_list(p, after or before)
        filters = {**self.list_defaults, **p}

        def wanted(record: Obj) -> bool:
            return (_created_in(record["object"].get("created"), created)
                    and all(self._matches(record["object"], n, v) for n, v in filters.items()))

        page, has_more = self._page(ctx, parent, wanted, limit, after, before,
                                    _created_bounds(created))
        return {
            "object": "list",
            "data": [self.render(ctx, r["object"], expand) for r in page],
            "has_more": has_more,
            "url": ctx.path,
        }

    def _matches(self, obj: Obj, name: str, wanted: Any) -> bool:
        special = self.filters.get(name)
        return special(obj, wanted) if special else _equal(obj.get(name), wanted)

    def search(self, ctx: Context, raw: Mapping[str, Any], parent: str | None = None) -> Obj:
        return search.search(self, ctx, raw)

    def _page(self, ctx: Context, parent: str | None, wanted: Callable[[Obj], bool],
              limit: int, after: str | None, before: str | None,
              created: tuple[int | None, int | None]) -> tuple[Records, bool]:
        """The page of the records (newest first) that ``wanted`` keeps, and whether more
        follow; reads no further than the page needs (one more record, for ``has_more``),
        and only the records of the ``created`` seconds ``[from, before)`` when the store
        can find them."""
        cursor_id = after or before
        below = None
        if cursor_id is not None:
            cursor = ctx.bucket.get(self.object, cursor_id)
            if cursor is None:
                raise no_such(self.object, cursor_id,
                              "starting_after" if after else "ending_before", status=400)
            if before:
                records = ctx.bucket.newest_first(self.object, parent, created=created)
                newer = [r for r in itertools.takewhile(lambda r: r["seq"] > cursor["seq"],
                                                        records) if wanted(r)]
                return newer[-limit:], len(newer) > limit
            below = cursor["seq"]
        records = ctx.bucket.newest_first(self.object, parent, below, created)
        found = list(itertools.islice(filter(wanted, records), limit + 1))
        return found[:limit], len(found) > limit

    def render(self, ctx: Context, obj: Obj, expand: Paths, creating: bool = False) -> Obj:
        """The object as a response: expand-only fields hidden unless asked, expansions done."""
        out = copy.deepcopy(obj)
        self.present(ctx, out)
        wanted = {path.split(".", 1)[0] for path in expand}
        for name in self.expand_only - wanted:
            out.pop(name, None)
        if not creating:
            for name in self.create_response_only:
                out.pop(name, None)
        for path in sorted(set(expand), key=len):
            expansion.apply(ctx, self, out, path)
        return out

    # -- hooks for Stripe's rules per kind -----------------------------------------------------

    def new_id(self, ctx: Context, p: Mapping[str, Any]) -> str:
        return random_id(self.prefix)

    def seed(self, ctx: Context) -> None:
        """Objects every new account starts with (the default payment method configuration)."""

    def check_create(self, ctx: Context, p: dict[str, Any], parent: str | None) -> None:
        """Refuse a create Stripe would refuse (raise before anything is stored)."""

    def fill(self, ctx: Context, obj: Obj, p: Mapping[str, Any]) -> None:
        """Set derived fields and nested defaults of a new object."""

    def after_create(self, ctx: Context, obj: Obj, p: Mapping[str, Any]) -> None:
        """Side effects on other objects once the new one is stored."""

    def check_update(self, ctx: Context, obj: Obj, p: dict[str, Any]) -> None:
        """Refuse an update Stripe would refuse (raise before anything is stored)."""

    def apply_update(self, ctx: Context, new: Obj, p: Mapping[str, Any]) -> None:
        """Derived fields and side effects of an update (``new`` is not stored yet)."""

    def check_delete(self, ctx: Context, obj: Obj) -> None:
        """Refuse a delete Stripe would refuse."""

    def after_delete(self, ctx: Context, obj: Obj) -> None:
        """Remove what depended on a deleted object."""

    def check_list(self, p: Mapping[str, Any], paging: str | None) -> None:
        """Refuse list filter combinations Stripe refuses."""

    def present(self, ctx: Context, out: Obj) -> None:
        """Fields computed at read time (embedded objects, validity)."""


def _equal(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(_equal(actual.get(k), v) for k, v in wanted.items())
    return actual == wanted


def _created_in(created: int | None, wanted: Any) -> bool:
    if wanted is None:
        return True
    if created is None:
        return False
    if not isinstance(wanted, Mapping):
        return created == wanted
    checks = {"gt": created.__gt__, "gte": created.__ge__, "lt": created.__lt__, "lte": created.__le__}
    return all(checks[op](bound) for op, bound in wanted.items())


def _created_bounds(wanted: Any) -> tuple[int | None, int | None]:
    """The seconds ``[from, before)`` a ``created`` filter admits (None: unbounded)."""
    if type(wanted) is int:
        return wanted, wanted + 1
    if not isinstance(wanted, Mapping):
        return None, None
    lows = [v + (op == "gt") for op, v in wanted.items() if op in ("gt", "gte") and type(v) is int]
    highs = [v + (op == "lte") for op, v in wanted.items() if op in ("lt", "lte") and type(v) is int]
    return max(lows, default=None), min(highs, default=None)


def _item_expansions(expand: Paths) -> Paths:
    """``expand[]=data.tiers`` on a list expands ``tiers`` of each item."""
    out = []
    for path in expand:
        if not path.startswith("data."):
            raise invalid(f"This property cannot be expanded ({path}). Lists expand data.<field>.",
                          "expand")
        out.append(path[len("data."):])
    return out
